"""The adapter registry: what each fine-tuned adapter is, where it came from, and if it is stale.

One JSON file per adapter, ``HOME/adapters/NAME/ragft-adapter.json``, next to the weights it
describes (so copying or deleting the folder copies or deletes the entry with it), written
atomically (temp file + rename). An entry holds::

    name, status (training | interrupted | complete), created_at, updated_at,
    base {ref, path, tokenizer_gguf}, qlora, hyperparameters (the TrainConfig),
    dataset {path, hash, card}, corpus_snapshot, sources [{source, hash, indexed}],
    examples {train, validation, test}, metrics {...}, adapter_dir, merged_dir,
    exports [{format, quant, path, size_bytes, verification}]

Paths inside the data dir are stored as ``$RAGFT_HOME/...`` and read back under wherever the data
dir is now, so a copied, restored or moved data dir keeps its adapters working (before, the base
model's absolute path inside the old data dir broke ``--route finetuned`` after a move). Entries
written with absolute paths are read relative to the data dir they name (``adapter_dir`` tells
where it was) and rewritten portable on their next write.

Lineage and staleness: ``sources`` is the data card's snapshot of the documents the dataset was
built from (content hash per source, as the ingestion record database stores it). An adapter is
**stale** once any of them changed in the index since: its current hash in the ``documents``
table of ``HOME/records.db`` (any collection) differs, or it was indexed at training time and is
gone now. Sources that were never indexed cannot go stale through the index; they are listed as
``unindexed``.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from ingestion.errors import ConfigError, TrainingError
from ingestion.files import write_atomic
from ingestion.home import Home

ENTRY_FILE = "ragft-adapter.json"
SCHEMA = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def validate_name(name: Any, *, flag: str = "NAME") -> str:
    if not isinstance(name, str) or not _NAME.match(name) or name in (".", ".."):
        raise ConfigError(
            f"{flag} {name!r} is not a valid adapter name",
            fix="use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return name


def adapter_dir(home: Home, name: str) -> Path:
    return home.adapters_dir / validate_name(name)


# -- reading and writing entries -------------------------------------------------------------
HOME_TOKEN = "$RAGFT_HOME"


def _map_strings(value: Any, fn) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, fn) for v in value]
    return value


# Document keys as the ingestion records hold them (lineage is matched against those), not file locations.
_AS_RECORDED = ("sources",)


def _map_paths(entry: dict[str, Any], fn) -> dict[str, Any]:
    return {k: (v if k in _AS_RECORDED else _map_strings(v, fn)) for k, v in entry.items()}


def portable(entry: dict[str, Any], home: Home) -> dict[str, Any]:
    """``entry`` with every path inside the data dir written as ``$RAGFT_HOME/...``."""
    root = str(home.root)
    return _map_paths(entry, lambda s: HOME_TOKEN + s[len(root):] if s == root or s.startswith(root + os.sep) else s)


def localised(entry: dict[str, Any], home: Home, name: str) -> dict[str, Any]:
    """``entry`` with its data-dir paths under ``home``: ``$RAGFT_HOME/...``, and the absolute paths
    of an entry written before (under the data dir its ``adapter_dir`` shows it was in)."""
    root = str(home.root)
    old = None
    recorded = entry.get("adapter_dir")
    tail = os.sep + os.path.join("adapters", name)
    if isinstance(recorded, str) and recorded.endswith(tail) and not recorded.startswith(HOME_TOKEN):
        old = recorded[: -len(tail)]
        old = None if old == root else old

    def local(s: str) -> str:
        if s == HOME_TOKEN or s.startswith(HOME_TOKEN + "/"):
            return root + s[len(HOME_TOKEN):]
        if old and (s == old or s.startswith(old + os.sep)):
            return root + s[len(old):]
        return s

    return _map_paths(entry, local)


def read_entry(home: Home, name: str) -> dict[str, Any]:
    path = adapter_dir(home, name) / ENTRY_FILE
    if not path.is_file():
        raise TrainingError(f"no adapter named {name!r}", fix="run `ragft adapters` for the names, or train one with `ragft finetune`")
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise TrainingError(f"registry entry {path} is unreadable ({exc})", fix="retrain the adapter with `ragft finetune --overwrite`") from exc
    if not isinstance(entry, dict) or entry.get("name") != name:
        raise TrainingError(f"registry entry {path} does not describe adapter {name!r}", fix="retrain it with `ragft finetune --overwrite`")
    return localised(entry, home, name)


def write_entry(home: Home, name: str, entry: dict[str, Any]) -> None:
    folder = adapter_dir(home, name)
    folder.mkdir(parents=True, exist_ok=True)
    entry = portable({**entry, "updated_at": now_iso()}, home)
    write_atomic(folder / ENTRY_FILE, (json.dumps(entry, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8"))


def complete_entry(home: Home, name: str) -> dict[str, Any]:
    """The entry of an adapter whose training finished (merging and exporting start from it)."""
    entry = read_entry(home, name)
    if entry.get("status") != "complete":
        raise TrainingError(f"adapter {name} has not finished training (status {entry.get('status')})",
                            fix="re-run the `ragft finetune` command to resume it")
    return entry


def update_entry(home: Home, name: str, **changes: Any) -> dict[str, Any]:
    entry = read_entry(home, name)
    entry.update(changes)
    write_entry(home, name, entry)
    return entry


def new_entry(*, name: str, base: dict, qlora: bool, data: Path, dataset_hash: str, card: dict | None,
              hyperparameters: dict, records_db: Path) -> dict[str, Any]:
    """A fresh entry; the card's source snapshot is checked against the index right now."""
    sources = []
    for item in (card or {}).get("sources") or []:
        if isinstance(item, dict) and isinstance(item.get("source"), str) and isinstance(item.get("hash"), str):
            sources.append({"source": item["source"], "hash": item["hash"]})
    current = indexed_hashes(records_db, [s["source"] for s in sources])
    for s in sources:
        s["indexed"] = s["hash"] in current.get(s["source"], set())
    card_path = data.with_name(data.stem + ".card.json")
    return {
        "schema": SCHEMA,
        "name": name,
        "status": "training",
        "created_at": now_iso(),
        "base": base,
        "qlora": qlora,
        "hyperparameters": hyperparameters,
        "dataset": {"path": str(data.resolve()), "hash": dataset_hash, "card": str(card_path.resolve()) if card else None},
        "corpus_snapshot": (card or {}).get("corpus_snapshot"),
        "sources": sources,
        "examples": {},
        "metrics": {},
        "adapter_dir": None,
        "merged_dir": None,
        "exports": [],
    }


def check_not_running(entry: dict[str, Any]) -> None:
    """Refuse to touch an adapter that another live process is training."""
    pid = entry.get("pid")
    if entry.get("status") != "training" or not isinstance(pid, int) or pid == os.getpid():
        return
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return  # that run died without a chance to say so; it counts as interrupted
    except PermissionError:
        pass
    raise TrainingError(f"adapter {entry.get('name')} is being trained by process {pid}",
                        fix="wait for it to finish, or stop it (Ctrl-C saves a checkpoint) and re-run")


# -- staleness ---------------------------------------------------------------------------------
def indexed_hashes(records_db: Path, sources: Iterable[str]) -> dict[str, set[str]]:
    """``source -> {content hashes in any collection}`` for those of ``sources`` in the index."""
    wanted = list(dict.fromkeys(sources))
    if not wanted or not Path(records_db).is_file():
        return {}
    out: dict[str, set[str]] = {}
    try:
        db = sqlite3.connect(f"file:{records_db}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error:
        return {}
    try:
        has_table = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='documents'").fetchone()
        if not has_table:
            return {}
        for start in range(0, len(wanted), 500):  # SQLite's variable limit
            part = wanted[start : start + 500]
            rows = db.execute(f"SELECT source, content_hash FROM documents WHERE source IN ({','.join('?' * len(part))})", part)
            for source, digest in rows:
                out.setdefault(source, set()).add(digest)
    except sqlite3.Error:
        return {}
    finally:
        db.close()
    return out


def staleness(entry: dict[str, Any], records_db: Path) -> dict[str, Any]:
    """``{"stale", "stale_sources": [{"source", "reason"}], "unindexed": [...]}`` for an entry."""
    sources = entry.get("sources") or []
    current = indexed_hashes(records_db, [s["source"] for s in sources])
    stale, unindexed = [], []
    for s in sources:
        now = current.get(s["source"])
        if now:
            if any(h != s["hash"] for h in now):
                stale.append({"source": s["source"], "reason": "changed"})
        elif s.get("indexed"):
            stale.append({"source": s["source"], "reason": "deleted"})
        else:
            unindexed.append(s["source"])
    return {"stale": bool(stale), "stale_sources": stale, "unindexed": unindexed}


# -- listing -------------------------------------------------------------------------------------
def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


def describe(home: Home, entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as ``ragft adapters`` shows it: staleness and sizes on disk added."""
    folder = adapter_dir(home, entry["name"])
    row = {k: v for k, v in entry.items() if k not in ("pid", "schema")}
    row.update(staleness(entry, home.records_db))
    weights = folder / "adapter_model.safetensors"
    row["adapter_dir"] = str(folder) if weights.is_file() else None
    row["size_bytes"] = _size(weights)
    merged = entry.get("merged_dir")
    if merged and not (Path(merged) / "config.json").is_file():
        row["merged_dir"] = None
    row["exports"] = [{**e, "exists": Path(e["path"]).is_file()} for e in entry.get("exports") or []]
    return row


def list_adapters(home: Home) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(home.adapters_dir.glob(f"*/{ENTRY_FILE}")):
        try:
            rows.append(describe(home, read_entry(home, path.parent.name)))
        except (TrainingError, ConfigError) as err:
            rows.append({"name": path.parent.name, "status": "broken", "stale": False, "error": err.one_line()})
    return rows


def get_adapter(home: Home, name: str) -> dict[str, Any]:
    """One adapter's described entry (what the assistant's model backends load from)."""
    return describe(home, read_entry(home, name))


def record_export(home: Home, name: str, export: dict[str, Any]) -> dict[str, Any]:
    """Add or replace (same format and quant) an export in the entry."""
    entry = read_entry(home, name)
    exports = [e for e in entry.get("exports") or [] if (e.get("format"), e.get("quant")) != (export["format"], export.get("quant"))]
    entry["exports"] = exports + [export]
    write_entry(home, name, entry)
    return entry


def remove_adapter(home: Home, name: str) -> None:
    import shutil

    read_entry(home, name)  # exists, or a clear error
    shutil.rmtree(adapter_dir(home, name))
