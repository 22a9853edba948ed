"""Domain errors for every ragft package, in one place.

Library code raises these; only the edges (the CLI, the API server, the UI) turn them into
one-line messages and exit codes. Each error carries a ``fix``: what the user should do next.
``ingestion`` is the lowest package, so every other package can import from here.
"""

from __future__ import annotations


class RagftError(Exception):
    """Base class: ``str(err)`` is a one-line message that names the thing and the fix."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message.strip().replace("\n", " ")
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        return f"{self.message} ({self.fix})" if self.fix else self.message


class ConfigError(RagftError):
    """A setting or option has an invalid value; the message names the field."""


class LoadError(RagftError):
    """A document could not be read or parsed (empty, binary, corrupt, too big, ...)."""


class StoreError(RagftError):
    """The vector store, lexical index or record database failed or disagrees."""


class ModelError(RagftError):
    """A model is missing, corrupt, unknown while offline, or its endpoint misbehaves."""


class TrainingError(RagftError):
    """Dataset building, fine-tuning, merging or export failed."""
