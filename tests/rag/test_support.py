"""Answer support: sentences with numbers or names the context lacks are dropped."""

from __future__ import annotations

from rag.support import supported_answer, unsupported

CONTEXT = "[1] Warranty: CarePlus costs EUR 690 per sonde per year.\n[2] Members: Maarten de Kock | Chief Financial Officer"


def test_unsupported_finds_invented_numbers_and_names_only():
    assert unsupported("CarePlus costs EUR 690 per sonde [1].", "", CONTEXT) == []
    assert unsupported("The CarePlus extended warranty is $100.", "", CONTEXT) == ["100"]
    assert unsupported("The CFO is Ingrid Vosselaar.", "", CONTEXT) == ["Ingrid Vosselaar"]
    assert unsupported("The CFO is Maarten de Kock [2].", "", CONTEXT) == []
    # Whole words only: a part of a longer name or number does not support a claim.
    assert unsupported("The first hire was Tom Marrow.", "", CONTEXT + " Marrowfield Instruments.") == ["Tom Marrow"]
    assert unsupported("It costs EUR 69.", "", CONTEXT) == ["69"]
    assert unsupported("It costs EUR 6.", "", "It costs EUR 6.90 or 1,690.") == ["6"]
    assert unsupported("It costs EUR 690.", "", "Price: EUR 690.") == []
    # A number the question already holds is not a claim of the answer.
    assert unsupported("Plan 7 costs EUR 690.", "What does plan 7 cost?", CONTEXT) == []


def test_supported_answer_keeps_the_supported_sentences_in_order():
    kept, dropped = supported_answer("CarePlus costs EUR 690 [1]. It has 12 options. Maarten de Kock signs it.", "", CONTEXT)
    assert kept == "CarePlus costs EUR 690 [1]. Maarten de Kock signs it." and dropped == ["12"]
    assert supported_answer("It is $100.", "", CONTEXT) == ("", ["100"])
