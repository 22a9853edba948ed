"""The inputs of a dataset build: documents (same loaders as ingestion) and instruction files.

    inputs = collect(["docs/", "extra.jsonl"], max_bytes=20 << 20, progress=update)
    inputs.documents, inputs.instructions, inputs.failed      # failed: [{"path", "error"}]
    facts = document_facts(doc, lexicon, seed=0)

A folder contributes every loadable file under it (sorted, hidden files skipped). A ``.jsonl``
whose rows hold ``messages`` or ``instruction``/``output`` is instruction data; other ``.jsonl``
files are documents (e.g. an FAQ). A document that cannot be read is listed in ``failed`` and
the build goes on, as ingestion does; an instruction file with a bad row stops the build,
because silently training without part of the user's own examples would be worse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from finetune.dataset.facts import Fact, prose_facts
from finetune.dataset.instruction import InstructionRow, content_hash, is_instruction_file, load_instructions
from finetune.dataset.records import faq_facts, group_of, is_faq, record_facts, table_facts
from finetune.dataset.text import Lexicon, Passage, passages
from ingestion.document import Document
from ingestion.errors import LoadError
from ingestion.loaders import iter_files, load_document

Progress = Callable[[int, int, str], None]


@dataclass
class Inputs:
    documents: list[Document] = field(default_factory=list)
    instructions: list[tuple[str, str, list[InstructionRow]]] = field(default_factory=list)  # (path, hash, rows)
    failed: list[dict[str, str]] = field(default_factory=list)


def collect(paths: Sequence[str | Path], *, max_bytes: int, progress: Progress | None = None) -> Inputs:
    inputs = Inputs()
    files: dict[str, Path] = {}
    for raw in paths:
        path = Path(raw).expanduser()
        try:
            if path.is_dir():
                for f in iter_files(path):
                    files.setdefault(str(f.resolve()), f)
            else:
                files.setdefault(str(path.resolve()), path)
        except LoadError as err:
            inputs.failed.append({"path": str(raw), "error": err.one_line()})
    ordered = sorted(files.items())
    for i, (resolved, path) in enumerate(ordered):
        if progress:
            progress(i, len(ordered), resolved)
        if path.is_file() and is_instruction_file(path):
            inputs.instructions.append((resolved, content_hash(path), load_instructions(path)))
            continue
        try:
            inputs.documents.append(load_document(path, max_bytes=max_bytes))
        except LoadError as err:
            inputs.failed.append({"path": str(path), "error": err.one_line()})
    if progress:
        progress(len(ordered), len(ordered), "")
    return inputs


def document_facts(doc: Document, lexicon: Lexicon, *, seed: int) -> list[Fact]:
    """All rule-based facts of one document, in document order."""
    facts: list[Fact] = []
    records: list[Passage] = []
    for passage in passages(doc):
        if passage.kind == "prose":
            facts += prose_facts(passage, lexicon, seed)
        elif passage.kind == "table":
            group = group_of(passage)
            facts += [replace(f, group=group) for f in table_facts(passage.rows, passage)]
        elif is_faq(passage):
            faq, answer = faq_facts(passage)
            if faq is not None:
                facts.append(faq)
                inner = Passage(passage.source, passage.title, passage.heading, "prose", answer, stem=passage.stem)
                facts += [replace(f, group=faq.group, passage=passage.text) for f in prose_facts(inner, lexicon, seed)]
        else:
            records.append(passage)
    return facts + record_facts(records)


def prose_passages(docs: Sequence[Document]) -> list[Passage]:
    return [p for d in docs for p in passages(d) if p.kind == "prose"]
