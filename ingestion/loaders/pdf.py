"""PDF: one section per page with its 1-based page number.

pypdf: pure-Python PDF parsing and text extraction (no system libraries needed).
"""

from __future__ import annotations

import io
import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from ingestion.document import Section
from ingestion.errors import LoadError
from ingestion.loaders._base import Parsed, sniff_binary

_OCR_FIX = "run OCR on it (e.g. `ocrmypdf in.pdf out.pdf`) and ingest the result"
_REEXPORT_FIX = "re-download or re-export the PDF, then ingest it again"
_DECRYPT_FIX = "remove the password (e.g. `qpdf --decrypt`) and ingest the copy"


_QUIET_LOCK = threading.Lock()


@contextmanager
def _quiet() -> Iterator[None]:
    """pypdf logs (and warns) about every recoverable oddity; broken files raise instead.

    Logger levels and warning filters are process-wide, so PDF parsing is serialised (it holds
    the GIL anyway) and the previous state is always restored.
    """
    logger = logging.getLogger("pypdf")
    with _QUIET_LOCK:
        level = logger.level
        logger.setLevel(logging.CRITICAL + 1)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield
        finally:
            logger.setLevel(level)


def load_pdf(data: bytes, name: str) -> Parsed:
    if b"%PDF-" not in data[:1024]:
        what = sniff_binary(data) or "not a PDF"
        raise LoadError(f"{name} is {what} (no %PDF header)",
                        fix="check the file type and its extension")
    # A complete PDF ends with %%EOF (readers allow trailing junk within the last KB or so).
    if b"%%EOF" not in data[-4096:]:
        raise LoadError(f"{name} looks truncated (no %%EOF marker at the end)", fix=_REEXPORT_FIX)
    with _quiet():
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):  # "" opens owner-only locks
                raise LoadError(f"{name} is password-protected", fix=_DECRYPT_FIX)
            pages = list(reader.pages)
        except LoadError:
            raise
        except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            raise LoadError(f"{name} is a corrupt PDF: {type(exc).__name__}: {first}",
                            fix=_REEXPORT_FIX) from None
        sections = []
        for number, page in enumerate(pages, 1):
            try:
                text = page.extract_text() or ""
            except Exception as exc:  # noqa: BLE001 - any pypdf failure names the page
                first = (str(exc).strip().splitlines() or [""])[0]
                raise LoadError(f"cannot extract text from page {number} of {name}: "
                                f"{type(exc).__name__}: {first}", fix=_REEXPORT_FIX) from None
            if text.strip():
                sections.append(Section(text=text.replace("\r\n", "\n"), page=number))
        meta = {"pages": str(len(pages))}
        title = _title(reader)
    if not sections:
        count = f"{len(pages)} page" + ("" if len(pages) == 1 else "s")
        raise LoadError(f"{name} has no extractable text ({count}; scanned images?)", fix=_OCR_FIX)
    if title:
        meta["title"] = title
    return Parsed(sections, meta)


def _title(reader: PdfReader) -> str:
    try:
        info = reader.metadata
        return str(info.title).strip() if info and info.title else ""
    except Exception:  # noqa: BLE001 - a broken info dictionary only costs us the title
        return ""
