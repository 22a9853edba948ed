"""Question focus: which words a question is about, and whether one retrieved sentence holds them."""

from __future__ import annotations

import pytest

from ingestion.errors import ConfigError
from rag.abstain import AbstentionGate
from rag.context import EvidenceScorer
from rag.focus import focus_coverage, focus_terms
from tests.rag.rag_corpus import corpus_index, retriever  # noqa: F401  (fixtures)


def test_focus_keeps_nouns_and_names_and_drops_verbs_and_modifiers():
    assert focus_terms("How much does a replacement antenna for the Kestrel KG-2 cost?") == [
        "replacement", "antenna", "kestrel", "kg-2", "cost"]
    # "serves" after "Who" is the verb; "established" and "latest" can only be verb / adjective.
    assert focus_terms("Who serves as Marrowfield's Chief Financial Officer?") == ["marrowfield", "chief", "officer"]
    assert focus_terms("In which year was Marrowfield Instruments established?") == ["marrowfield", "instruments"]
    assert "latest" not in focus_terms("Which firmware version is the latest for the Heron S4?")
    # Gerunds used as nouns and product codes count; question modifiers do not.
    assert focus_terms("What is the maximum sampling frequency of the Heron S5?") == ["sampling", "frequency", "heron", "s5"]
    assert focus_terms("What is it?") == []


def test_focus_coverage_tells_a_near_miss_from_an_answerable_question(corpus_index, retriever):
    scorer = EvidenceScorer(corpus_index[0])

    def cover(q):
        return focus_coverage(q, scorer.score(q, retriever.search(q, k=3).hits), scorer)

    answerable = cover("What is the standard hotel limit per night?")
    assert answerable.coverage == 1.0 and answerable.missing == () and "EUR 180" in answerable.sentence.text
    # Every word is in the corpus ("parking"? no - "hotel", "limit", "parental"), but not together.
    near_miss = cover("What is the hotel limit for parental leave?")
    assert near_miss.coverage < 0.7 and near_miss.missing
    assert cover("What is it?").coverage == 1.0  # nothing to check


def test_gate_lowers_confidence_when_the_focus_is_missing(corpus_index, retriever):
    scorer = EvidenceScorer(corpus_index[0])
    q = "What is the hotel limit for parental leave?"
    ranked = scorer.score(q, retriever.search(q, k=3).hits)
    with_focus = AbstentionGate(focus_weight=0.3).confidence(q, ranked, scorer)
    without = AbstentionGate(focus_weight=0.0).confidence(q, ranked, scorer)
    assert with_focus.focus < 1.0 and with_focus.focus_missing
    assert with_focus.score < without.score
    assert set(with_focus.as_json()) >= {"focus", "focus_missing", "confidence"}


def test_a_reworded_noun_is_held_by_a_close_sentence_word(corpus_index, retriever):
    scorer = EvidenceScorer(corpus_index[0])
    q = "What is the standard lodging limit per night?"  # the document says "hotel"
    ranked = scorer.score(q, retriever.search(q, k=3).hits)
    literal = focus_coverage(q, ranked, scorer, similar=None)
    reworded = focus_coverage(q, ranked, scorer, similar=0.6)
    assert "lodging" in literal.missing and literal.coverage < 1.0
    assert reworded.coverage == 1.0 and reworded.missing == () and "EUR 180" in reworded.sentence.text
    # A cut above the words' cosine (about 0.75 with MiniLM) keeps the literal answer.
    assert focus_coverage(q, ranked, scorer, similar=0.95).missing == literal.missing


def test_names_and_unrelated_words_still_have_to_occur(corpus_index, retriever):
    scorer = EvidenceScorer(corpus_index[0])
    # "parental leave" is not in the hotel sentence, nor close to any of its words.
    q = "What is the hotel limit for parental leave?"
    assert set(focus_coverage(q, scorer.score(q, retriever.search(q, k=3).hits), scorer, similar=0.6).missing) >= {"parental"}
    # A name unknown to the lexicon is never matched by embedding, however close its vector.
    q = "Who hosts the Quayside meeting?"
    missing = focus_coverage(q, scorer.score(q, retriever.search(q, k=3).hits), scorer, similar=0.01).missing
    assert missing == ("quayside",)


def test_gate_uses_word_similarity_only_to_rescue_a_declined_question(corpus_index, retriever):
    scorer = EvidenceScorer(corpus_index[0])
    q = "What is the standard lodging limit per night?"
    ranked = scorer.score(q, retriever.search(q, k=3).hits)
    strict = dict(threshold=2.0, focus_weight=1.0)  # every question is declined first: the rescue path runs
    assert AbstentionGate(**strict, similar=None).confidence(q, ranked, scorer).focus < 1.0
    rescued = AbstentionGate(**strict, similar=0.6).confidence(q, ranked, scorer)
    assert rescued.focus == 1.0 and rescued.focus_missing == ()
    with pytest.raises(ConfigError, match="similarity"):
        AbstentionGate(similar=1.5)
