"""Question focus: the nouns a question asks about, and whether one retrieved sentence holds them.

    focus_terms("How much does a replacement antenna for the Kestrel KG-2 cost?")
    # -> ["replacement", "antenna", "kestrel", "kg-2", "cost"]
    focus_coverage(question, ranked, scorer)   # Focus(coverage=0.46, missing=("antenna", "cost"), ...)

Unanswerable questions over a corpus are mostly near misses: every word occurs somewhere, but the
thing asked about (the antenna's price, the S5's launch date, the parking allowance) is not stated
in any one place. Retrieval then returns sentences about the entity ("The list price of a Kestrel
KG-2 is EUR 1,480") that score almost as well as a real answer. What they lack is the question's
*focus*: its nouns and names, together in one sentence. Verbs, adjectives and question modifiers
("serves", "established", "latest", "maximum number") are left out, because documents say them
in other words ("founded", "current") and answerable questions would look unanswerable.

Reworded questions name the same thing in other words ("notebook" for "laptop", "copies" for
"backups"), so a focus term also counts as held when one of the sentence's content words is close
to it in the embedder's space (cosine >= ``SIMILAR``, calibrated with ``rag.abstain``). Words are
embedded one by one through the scorer's vector cache, so a word costs one MiniLM pass the first
time it is seen and nothing after.

Why lemminflect: its English lexicon says which parts of speech a word can take (noun, verb,
adjective) without a tagger model to download; words it does not know (names, product codes
such as "S5", "KG-2") count as focus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from lemminflect import getAllLemmas

from rag.context import EvidenceScorer, Sentence, stem, stems, terms, words

# Nouns that say how the answer is measured or framed, not what it is about.
GENERIC = frozenset(
    """maximum minimum number amount one time current first year years day days any each every those up
    call name person much type kind value part way must while""".split()
)
# A noun/verb homograph right after these is the question's verb: "Who hosts ...", "does ... offer".
_VERB_CONTEXT = frozenset("who to does do did can could must should may will".split())
TOP_SENTENCES = 4  # the focus must co-occur in one of the best few sentences, where the answer is
# A focus term is held by a sentence word whose MiniLM cosine to it reaches this (see rag.abstain).
SIMILAR = 0.6
MAX_WORDS = 40  # content words per sentence compared by embedding: bounds the cost of long rows


def _nounish(word: str, previous: str) -> bool:
    if any(c.isdigit() for c in word):
        return True  # codes and numbers: "kg-2", "s5", "7.0"
    pos = getAllLemmas(word)
    if not pos:
        return len(word) > 2  # unknown to the lexicon: a name ("tidemark", "norvolt")
    if word.endswith("ing") and "VERB" in pos:
        return True  # gerunds used as nouns: "parking allowance", "sampling frequency"
    if "NOUN" not in pos:
        return False
    return not ("VERB" in pos and previous in _VERB_CONTEXT)


def _comparable(word: str) -> bool:
    return not any(c.isdigit() for c in word) and bool(getAllLemmas(word))


def focus_terms(question: str) -> list[str]:
    """The question's nouns and names, in order (a subset of ``rag.context.terms``)."""
    content = set(terms(question))
    tokens = words(question)
    out: list[str] = []
    for i, w in enumerate(tokens):
        if w in content and w not in out and w not in GENERIC and _nounish(w, tokens[i - 1] if i else ""):
            out.append(w)
    return out


@dataclass(frozen=True)
class Focus:
    coverage: float  # IDF-weighted share of the focus terms that the best-covering sentence holds
    terms: tuple[str, ...]
    missing: tuple[str, ...]  # focus terms that sentence lacks
    sentence: Sentence | None = None


def focus_coverage(
    question: str,
    ranked: Sequence[Sentence],
    scorer: EvidenceScorer,
    *,
    top: int = TOP_SENTENCES,
    similar: float | None = SIMILAR,
) -> Focus:
    """How much of the question's focus the best of the ``top`` ranked sentences holds (1.0 = all).

    A term is held literally (same crude stem) or, when ``similar`` is set, by a sentence word
    whose embedding cosine reaches it. A question without focus terms ("What is it?") is fully
    covered: nothing to check.
    """
    focus = focus_terms(question)
    if not focus:
        return Focus(1.0, (), ())
    idf = scorer.idf(focus)
    total = sum(idf.values()) or 1.0
    candidates = ranked[:top]
    literal = [tuple(t for t in focus if stem(t) not in stems(s.labelled)) for s in candidates]
    close = near_terms(candidates, literal, scorer, similar) if similar is not None else [set()] * len(literal)
    best: tuple[float, Sentence | None, tuple[str, ...]] = (0.0, None, tuple(focus))
    for s, lacking, near in zip(candidates, literal, close):
        missing = tuple(t for t in lacking if t not in near)
        cov = sum(idf[t] for t in focus if t not in missing) / total
        if cov > best[0]:
            best = (cov, s, missing)
    return Focus(round(best[0], 4), tuple(focus), best[2], best[1])


def near_terms(
    sentences: Sequence[Sentence],
    lacking: Sequence[Sequence[str]],
    scorer: EvidenceScorer,
    similar: float,
) -> list[set[str]]:
    """Per sentence, the lacking focus terms that one of its content words is close to.

    Only dictionary words are compared: names and codes ("heron", "s2", "kg-1") must occur
    literally, or "Heron S2" would be held by a sentence about the S4. All words go to the
    embedder in one batch (``scorer.vectors`` caches each word), so a question costs one small
    MiniLM call, or none once its words have been seen.
    """
    words_of = [[w for w in terms(s.labelled) if _comparable(w)][:MAX_WORDS] if miss else []
                for s, miss in zip(sentences, lacking)]
    asked = sorted({t for miss in lacking for t in miss if _comparable(t)})
    vocab = sorted({w for ws in words_of for w in ws})
    if not asked or not vocab:
        return [set() for _ in sentences]
    vecs = scorer.vectors(asked + vocab)  # normalised: inner product = cosine
    sims = vecs[: len(asked)] @ vecs[len(asked):].T  # (asked, vocab)
    row = {t: i for i, t in enumerate(asked)}
    col = {w: j for j, w in enumerate(vocab)}
    out: list[set[str]] = []
    for miss, ws in zip(lacking, words_of):
        cols = [col[w] for w in ws]
        out.append({t for t in miss if t in row and cols and float(sims[row[t], cols].max()) >= similar})
    return out
