"""Per-collection calibration on a real index: questions made from the collection, a fit stored
with it, the routes' settings read from it, defaults (said so) when it is too small."""

from __future__ import annotations

import json

import pytest

from assistant import calibration


@pytest.fixture(scope="module")
def sample_home(tmp_path_factory):
    from ingestion.home import Home
    from ingestion.sample import materialize
    from rag.indexing import ingest_paths

    home = Home.resolve(tmp_path_factory.mktemp("cal-home"))
    corpus = home.root / "sample-corpus"
    materialize("v1", corpus)
    assert not ingest_paths(home, [str(corpus)]).failed
    return home


@pytest.fixture(scope="module")
def fitted(sample_home):
    return calibration.calibrate_collection(sample_home)


def test_made_questions_are_deterministic_and_unanswerable_ones_never_co_occur(sample_home):
    from rag.index import Index

    index = Index.open(sample_home, create=False)
    try:
        chunks = [c for s in index.records.documents("default") for c in index.records.chunks_of("default", s)]
        never = calibration.make_questions(chunks, doc_freq=lambda ws: 0)
        assert calibration.make_questions(chunks, doc_freq=lambda ws: 0) == never  # same seed, same questions
        always = calibration.make_questions(chunks, doc_freq=lambda ws: 1)  # every candidate co-occurs somewhere
    finally:
        index.close()
    answerable = [m for m in never if m.answerable]
    assert len(answerable) >= calibration.MIN_ANSWERABLE and any(not m.answerable for m in never)
    for m in answerable:  # the specific is asked for, not given away, and it is in its sentence
        assert m.answer in m.sentence and m.answer.lower() not in m.question.lower()
    assert [m for m in always if not m.answerable] == []  # nothing the collection states is made unanswerable
    assert [m for m in always if m.answerable] == answerable


def test_calibration_is_fitted_stored_and_used_by_the_routes(sample_home, fitted):
    assert fitted.fitted and fitted.answerable >= calibration.MIN_ANSWERABLE
    assert fitted.unanswerable >= calibration.MIN_UNANSWERABLE
    # the gate is the cross-corpus fit; what the collection's own questions measure is reported
    assert (fitted.threshold, fitted.threshold_by) == (calibration.THRESHOLD, "cross-corpus fit")
    assert fitted.made_answerable_abstained < fitted.made_unanswerable_abstained
    assert fitted.made_answerable_abstained <= calibration.WARN_ANSWERABLE_ABSTAIN and not fitted.note
    assert 1 <= fitted.max_sentences <= 4 and set(fitted.context_recall) == {"1", "2", "3", "4"}
    stored = json.loads((sample_home.root / "calibration" / "default.json").read_text())
    assert stored["threshold"] == fitted.threshold and str(sample_home.root) not in json.dumps(stored)
    settings = calibration.settings_for(sample_home, "default", None, k=7)
    assert (settings.abstain_threshold, settings.unknown_weight, settings.focus_weight, settings.k) == (
        fitted.threshold, fitted.unknown_weight, fitted.focus_weight, 7)
    assert settings.context.max_sentences == fitted.max_sentences and settings.answer_mode == "generate"


def test_a_user_threshold_is_kept_by_recalibration_until_reset(tmp_path_factory, sample_home):
    import shutil

    from ingestion.home import Home
    from ingestion.errors import ConfigError

    target = tmp_path_factory.mktemp("cal-user") / "home"
    shutil.copytree(sample_home.root, target)  # a data dir copy: the module's fitted one stays as it is
    home = Home.resolve(target)
    with pytest.raises(ConfigError, match="threshold 5.0"):
        calibration.calibrate_collection(home, threshold=5.0)
    assert calibration.calibrate_collection(home, threshold=0.3).threshold == 0.3
    again = calibration.calibrate_collection(home)  # as `ragft ingest` does after a change
    assert (again.threshold, again.threshold_by) == (0.3, "user")
    assert calibration.settings_for(home, "default").abstain_threshold == 0.3
    reset = calibration.calibrate_collection(home, reset_threshold=True)
    assert (reset.threshold, reset.threshold_by) == (calibration.THRESHOLD, "cross-corpus fit")


def test_a_measured_answer_mode_is_used_for_its_model_only(sample_home, fitted):
    cal = calibration.load_calibration(sample_home, "default")
    cal.answer_modes["tiny"] = {"generate": 0.1, "quote": 0.4, "mode": "quote", "n": 30}
    settings = cal.rag_settings("tiny")
    assert settings.answer_mode == "quote" and "40% by quoting" in settings.answer_mode_why
    assert cal.rag_settings("other").answer_mode == "generate"


def test_a_tiny_collection_gets_the_defaults_and_says_why(home, embedder, tmp_path):
    from rag.indexing import ingest_paths

    (tmp_path / "note.md").write_text("# Note\n\nThe office opens at 9 and closes at 17 on weekdays.\n")
    ingest_paths(home, [str(tmp_path / "note.md")], embedder=embedder)
    cal = calibration.calibrate_collection(home)
    assert not cal.fitted and "too small to calibrate" in cal.note
    assert cal.threshold == calibration.DEFAULTS["threshold"]
    [row] = calibration.calibration_report(home)
    assert row["calibrated"] and not row["stale"] and not row["fitted"]
    (tmp_path / "note.md").write_text("# Note\n\nThe office opens at 8 and closes at 18 on weekdays.\n")
    ingest_paths(home, [str(tmp_path / "note.md")], embedder=embedder)
    [row] = calibration.calibration_report(home)
    assert row["stale"]  # the documents changed since: doctor says so


def test_never_calibrated_collections_use_the_cross_corpus_defaults(home):
    settings = calibration.settings_for(home, "nothing-here")
    assert settings.abstain_threshold == calibration.DEFAULTS["threshold"]
    assert settings.context.max_sentences == calibration.DEFAULTS["max_sentences"]
