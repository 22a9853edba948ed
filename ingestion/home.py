"""The data directory that holds all of ragft's state.

Chosen by ``--home DIR``, else ``$RAGFT_HOME``, else ``~/.local/share/ragft``. Layout::

    HOME/records.db        SQLite: documents, chunks, FTS5 lexical index, journal
    HOME/chroma/           Chroma persistent store (embedded mode)
    HOME/faiss/            FAISS index files, one per collection
    HOME/models/           cached Hugging Face checkpoints (e.g. the default GGUF, dequantized)
    HOME/adapters/         LoRA adapters and their registry
    HOME/uploads/          files uploaded through the UI
    HOME/reports/          evaluation reports
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ingestion.errors import ConfigError

ENV_VAR = "RAGFT_HOME"


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def resolve(cls, explicit: str | os.PathLike[str] | None = None) -> "Home":
        raw = explicit or os.environ.get(ENV_VAR) or Path.home() / ".local" / "share" / "ragft"
        root = Path(raw).expanduser().resolve()
        if root.exists() and not root.is_dir():
            raise ConfigError(f"--home {root} is a file", fix="pass a directory for --home / RAGFT_HOME")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create data dir {root}: {exc.strerror}",
                fix="pass a writable directory with --home or RAGFT_HOME",
            ) from exc
        return cls(root)

    def _dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def records_db(self) -> Path:
        return self.root / "records.db"

    @property
    def chroma_dir(self) -> Path:
        return self._dir("chroma")

    @property
    def faiss_dir(self) -> Path:
        return self._dir("faiss")

    @property
    def models_dir(self) -> Path:
        return self._dir("models")

    @property
    def adapters_dir(self) -> Path:
        return self._dir("adapters")

    @property
    def uploads_dir(self) -> Path:
        return self._dir("uploads")

    @property
    def reports_dir(self) -> Path:
        return self._dir("reports")
