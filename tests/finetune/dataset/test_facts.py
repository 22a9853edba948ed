"""Rule-based fact extraction and question wording on the real sample corpus."""

from __future__ import annotations

from finetune.dataset.corpus import document_facts
from finetune.dataset.facts import _resolve, _we_to_org, prose_facts
from finetune.dataset.text import Lexicon, Passage, normalize, split_sentences
from ingestion.loaders import iter_files, load_document


def _facts(v1, rel):
    docs = [load_document(p) for p in iter_files(v1)]
    lexicon = Lexicon.build([d.text for d in docs])
    doc = next(d for d in docs if d.source.endswith(rel))
    return document_facts(doc, lexicon, seed=0)


def _by_answer(facts, answer):
    found = [f for f in facts if f.answer == answer]
    assert found, f"no fact with answer {answer!r}; answers: {[f.answer for f in facts]}"
    return found[0]


def test_pricing_page_yields_the_team_plan_price(v1):
    fact = _by_answer(_facts(v1, "product/lanternfish-pricing.md"), "EUR 49")
    assert fact.sentence == "The Team plan costs EUR 49 per seat per month."
    assert fact.questions[0] == "How much does the Team plan cost per seat per month?"
    assert fact.kind == "money" and fact.source.endswith("lanternfish-pricing.md")
    assert "The Team plan costs EUR 49" in fact.passage


def test_pricing_page_yields_numbers_dates_and_durations(v1):
    facts = _facts(v1, "product/lanternfish-pricing.md")
    answers = {f.answer for f in facts}
    assert {"EUR 19", "6 January 2025", "13 months", "5 years", "15 percent", "EUR 9,100", "30 days"} <= answers
    starter = _by_answer(facts, "EUR 19")  # "It costs EUR 19 ..." with "It" resolved to the previous subject
    assert starter.sentence == "Starter costs EUR 19 per user per month."


def test_named_roles_people_and_table_rows(v1):
    facts = _facts(v1, "company/leadership.html")
    cto = [f for f in facts if f.answer == "Priya Lindqvist"]
    questions = {q for f in cto for q in f.questions}
    assert "Who is the Chief Technology Officer of Marrowfield?" in questions  # from the prose
    assert "Who is the Chief Technology Officer?" in questions  # from the Members table
    chair = _by_answer(facts, "Willemijn Hoekstra")
    assert chair.questions[0] == "By whom is the supervisory board chaired?"


def test_csv_rows_become_field_questions(v1):
    facts = _facts(v1, "company/offices.csv")
    lisbon = [f for f in facts if f.answer == "Beatriz Antunes"]
    assert any(q == "Who is the site lead of the Lisbon office?" for f in lisbon for q in f.questions)
    phone = _by_answer(facts, "+353 21 555 0178")
    assert "Cork" in phone.questions[0] and phone.sentence.endswith("+353 21 555 0178.")
    assert len({f.group for f in facts if "Lisbon" in f.sentence}) == 1  # one row, one split group


def test_glossary_definitions_both_ways(v1):
    facts = _facts(v1, "company/glossary.md")
    meeting = _by_answer(facts, "the weekly all-hands meeting")
    assert meeting.questions[0] == "What is Tidemark?" and meeting.kind == "definition"
    term = [f for f in facts if f.answer == "Tidemark" and f.kind == "term"][0]
    assert term.questions[0] == "What is the weekly all-hands meeting called?"
    dock = _by_answer(facts, "once every six sprints")
    assert dock.questions[0] == "How often does every crew hold a dry dock?"


def test_faq_records_keep_their_question(v1):
    facts = _facts(v1, "product/faq.jsonl")
    faq = [f for f in facts if f.kind == "faq" and f.questions[0] == "How many alert rules can one station have?"]
    assert faq and faq[0].answer.startswith("Each station can have up to 50 alert rules")
    assert any(f.answer == "50 alert rules" for f in facts)  # and sentence facts inside the answer


def test_paraphrases_differ_but_share_the_answer(v1):
    facts = _facts(v1, "product/lanternfish-pricing.md") + _facts(v1, "company/history.md")
    multi = [f for f in facts if len(f.questions) >= 3]
    assert len(multi) >= 10
    for fact in multi:
        keys = [normalize(q) for q in fact.questions]
        assert len(set(keys)) == len(keys), fact.questions
        assert normalize(fact.answer) in normalize(fact.sentence)
        for q in fact.questions:  # a question never gives its answer away
            assert f" {normalize(fact.answer)} " not in f" {normalize(q)} ", q


def test_prompt_injection_sentence_is_never_a_target(v1):
    facts = _facts(v1, "support/escalation-guide.md")
    assert facts
    assert not any("previous instructions" in f.sentence.lower() or "system prompt" in f.sentence.lower() for f in facts)


def test_every_corpus_document_gives_facts(v1):
    docs = [load_document(p) for p in iter_files(v1)]
    lexicon = Lexicon.build([d.text for d in docs])
    assert lexicon.org == "Marrowfield"
    empty = [d.source for d in docs if not document_facts(d, lexicon, seed=0)]
    assert not empty


def test_we_and_our_become_the_organisation():
    assert _we_to_org("We publish our internal documentation on the Wharf.", "Marrowfield") == \
        "Marrowfield publishes Marrowfield's internal documentation on the Wharf."
    assert _we_to_org("In 2024 we opened offices in Singapore.", "Marrowfield") == \
        "In 2024 Marrowfield opened offices in Singapore."


def test_pronouns_resolve_or_skip():
    assert _resolve("It costs EUR 19 per user per month.", "Starter", "Starter") == ("Starter costs EUR 19 per user per month.", False)
    assert _resolve("This price list was revised on 6 January 2025.", "", "") == ("The price list was revised on 6 January 2025.", True)
    assert _resolve("It is recommended that you rest.", "Tidemark", "") == (None, False)
    assert _resolve("They meet daily.", "", "") == (None, False)


def test_sentence_splitting_keeps_abbreviations_and_decimals():
    text = "Revenue was EUR 84.3 million, e.g. more than before. Marrowfield Instruments B.V. is Dutch.\n- A list item"
    assert split_sentences(text) == ["Revenue was EUR 84.3 million, e.g. more than before.",
                                     "Marrowfield Instruments B.V. is Dutch.", "- A list item"]


def test_questions_for_a_plain_sentence():
    text = "The Keel crew is led by Oskar Lindahl. Logs are kept for 400 days."
    facts = prose_facts(Passage("/doc.md", "Handbook", "", "prose", text), Lexicon.build([text]), seed=0)
    assert [f.answer for f in facts] == ["Oskar Lindahl", "400 days"]
    assert facts[1].questions[0] == "How long are logs kept?"
    assert any(q.startswith('According to "Handbook"') for q in facts[1].questions)
