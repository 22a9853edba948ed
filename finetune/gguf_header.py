"""Read selected key/value pairs from a GGUF file's header, fast.

The ``gguf`` package's ``GGUFReader`` parses every field and tensor into numpy views (~2 s for
SmolLM2's 49k-token vocabulary); listing models or building a prompt template only needs a few
keys, so this reads the header sequentially with ``struct`` and stops at the last wanted key.
Layout (GGUF v2/v3, little endian): magic "GGUF", u32 version, u64 n_tensors, u64 n_kv, then
n_kv times (string key, u32 type, value); strings are u64 length + UTF-8 bytes.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, BinaryIO

from ingestion.errors import ModelError

# GGUF value type -> struct format (scalars); 8 = string, 9 = array.
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


def _read(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise EOFError("truncated header")
    return struct.unpack(fmt, data)[0]


def _string(f: BinaryIO, keep: bool = True) -> str | None:
    n = _read(f, "<Q")
    if n > 1 << 30:
        raise ValueError(f"implausible string length {n}")
    if not keep:
        f.seek(n, 1)
        return None
    data = f.read(n)
    if len(data) != n:
        raise EOFError("truncated header")
    return data.decode("utf-8", "replace")


def _value(f: BinaryIO, kind: int, keep: bool) -> Any:
    if kind in _SCALARS:
        return _read(f, _SCALARS[kind])
    if kind == _STRING:
        return _string(f, keep)
    if kind == _ARRAY:
        item, count = _read(f, "<I"), _read(f, "<Q")
        if item in _SCALARS and not keep:  # skip fixed-size items in one seek
            f.seek(struct.calcsize(_SCALARS[item]) * count, 1)
            return None
        items = [_value(f, item, keep) for _ in range(count)]
        return items if keep else None
    raise ValueError(f"unknown GGUF value type {kind}")


def read_gguf_header(path: Path, keys: tuple[str, ...]) -> dict[str, Any]:
    """Values of ``keys`` present in the header (missing keys are simply absent)."""
    wanted, out = set(keys), {}
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"GGUF":
                raise ValueError("bad magic bytes (not a GGUF file)")
            version = _read(f, "<I")
            if version not in (2, 3):
                raise ValueError(f"unsupported GGUF version {version}")
            _read(f, "<Q")  # n_tensors
            for _ in range(_read(f, "<Q")):
                key = _string(f)
                keep = key in wanted
                value = _value(f, _read(f, "<I"), keep)
                if keep:
                    out[key] = value
                    if len(out) == len(wanted):
                        break
    except FileNotFoundError as exc:
        raise ModelError(f"model file {path} does not exist", fix="check the path, or run `ragft models`") from exc
    except (OSError, EOFError, ValueError, struct.error) as exc:
        raise ModelError(f"{path} is not a valid GGUF file ({exc})", fix="re-download or re-export the .gguf") from exc
    return out
