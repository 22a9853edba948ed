"""What an adapter recalls of its trained facts: the probe's questions and the measurement."""

from __future__ import annotations

from finetune.examples import Example
from finetune.recall import contains, knowledge, measure_recall, recall_probe


def ex(line, kind, fact, answer="EUR 49", split="train"):
    return Example([{"role": "user", "content": f"Q{line}?"}, {"role": "assistant", "content": f"It is {answer}."}],
                   split, line, fact, kind, answer)


def test_the_probe_asks_trained_wordings_and_the_paraphrases_training_left_out():
    rows = [ex(1, "qa", "a"), ex(2, "paraphrase", "a"), ex(3, "paraphrase", "a"), ex(4, "qa", "b"),
            ex(5, "paraphrase", "z", split="validation"), ex(6, "qa", "c", answer=None)]
    trained = [rows[0], rows[1], rows[3], rows[5]]  # one paraphrase per fact kept, as --paraphrases-per-fact 1 does
    probe = recall_probe(rows, trained)
    assert [e.line for e in probe["trained"]] == [1, 2, 4]  # rows without a gold answer cannot be checked
    assert [e.line for e in probe["held_out_wordings"]] == [3]  # a trained fact's unseen wording, not a validation fact
    many = [ex(i, "qa", f"f{i}") for i in range(100)]
    assert [e.line for e in recall_probe(many, many, n=4)["trained"]] == [0, 25, 50, 75]  # spread, not random


def test_knowledge_prefers_held_out_wordings_and_says_when_nothing_was_measured():
    assert knowledge({"trained": 0.9, "held_out_wordings": 0.2}) == (0.2, "held-out wordings of its trained facts")
    assert knowledge({"trained": 0.9, "held_out_wordings": None}) == (0.9, "its trained questions")
    assert knowledge(None) == (None, "not measured")
    assert contains("It costs EUR 1,500.", "eur 1500") and not contains("EUR 15", "EUR 150")


def test_measure_recall_generates_an_answer_per_question(tiny_llama_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_llama_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir)
    out = measure_recall(model, tok, {"trained": [ex(1, "qa", "a"), ex(2, "qa", "b")], "held_out_wordings": []})
    assert out["trained_n"] == 2 and out["trained"] == 0.0  # random weights recall nothing
    assert out["held_out_wordings"] is None and out["held_out_wordings_n"] == 0 and not model.training
