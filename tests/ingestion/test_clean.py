"""clean_text, remove_boilerplate and Deduplicator on real text."""

from __future__ import annotations

import functools
import random
import re

import pytest

from ingestion.clean import Deduplicator, clean_text, remove_boilerplate
from ingestion.errors import ConfigError

# --- clean_text ---------------------------------------------------------------------------


def test_nfkc_and_invisible_characters():
    raw = "\ufb01le \uff21\uff22\uff23 caf\u0065\u0301 soft\u00adhyphen zero\u200bwidth \ufeffbom\x07\x1b"
    assert clean_text(raw) == "file ABC caf\u00e9 softhyphen zerowidth bom"


def test_line_breaks_and_controls():
    assert clean_text("a\r\nb\rc\x0cd\u2028e") == "a\nb\nc\nd\ne"
    assert clean_text("keep\ttab? no:\tinner tabs collapse") == "keep tab? no: inner tabs collapse"


def test_spaces_collapse_inside_lines_but_indentation_stays():
    assert clean_text("a   b \t c   \n    indented    code   \n") == "a b c\n    indented code"


def test_blank_lines_collapse_to_one():
    assert clean_text("\n\none\n\n\n\n\ntwo\n \n \n\nthree\n\n") == "one\n\ntwo\n\nthree"


def test_dehyphenation_of_line_breaks():
    assert clean_text("the infor-\nmation is use-  \n   ful") == "the information is useful"
    # a capital after the break is a real hyphenated name; a digit is not a word break
    assert clean_text("Jean-\nPaul and COVID-\n19 cases") == "Jean-\nPaul and COVID-\n19 cases"
    # a paragraph break is not a line break inside a word
    assert clean_text("end-\n\nstart") == "end-\n\nstart"


@pytest.mark.parametrize("line", ["3", "  42 ", "Page 3", "page 3 of 10", "PAGE 12/40", "- 3 -",
                                  "\u2013 7 \u2013", "p. 5", "3 / 10"])
def test_page_number_lines_are_dropped(line):
    assert clean_text(f"before\n{line}\nafter") == "before\nafter"


@pytest.mark.parametrize("line", ["3 apples", "Page three", "Chapter 3", "12345", "1.", "- item"])
def test_other_short_lines_stay(line):
    assert clean_text(f"before\n{line}\nafter") == f"before\n{line}\nafter"


def test_page_number_between_a_split_word():
    assert clean_text("the infor-\n\n12\n\nmation") == "the infor-\n\nmation"
    assert clean_text("the infor-\n12\nmation") == "the information"


# --- remove_boilerplate ---------------------------------------------------------------------


def pages(n: int) -> list[str]:
    return [f"ACME Corp - Annual Report\nBody of page {i} talks about topic {i}.\n"
            f"More words on {i}.\nConfidential - page {i} of {n}" for i in range(1, n + 1)]


def test_running_header_and_footer_removed():
    cleaned = remove_boilerplate(pages(4))
    assert cleaned == [f"Body of page {i} talks about topic {i}.\nMore words on {i}." for i in range(1, 5)]
    assert remove_boilerplate(pages(30))[29] == "Body of page 30 talks about topic 30.\nMore words on 30."


def test_needs_three_sections():
    assert remove_boilerplate(pages(2)) == pages(2)


def test_line_in_under_half_of_sections_stays():
    sections = pages(6)  # 6 pages: a line must be on 3 of them
    sections[0] = "Rare header\n" + sections[0]
    sections[1] = "Rare header\n" + sections[1]
    cleaned = remove_boilerplate(sections)
    assert cleaned[0].startswith("Rare header\nBody of page 1")
    assert cleaned[2].startswith("Body of page 3")


def test_records_and_short_sections_are_not_touched():
    rows = [f"id: {i}; amount: {i * 7}" for i in range(10)]
    assert remove_boilerplate(rows) == rows
    short = ["Header\nbody one", "Header\nbody two", "Header\nbody three", "Header\nbody four"]
    assert remove_boilerplate(short) == short
    # short sections do not count towards the 50%: 3 real pages of 103 sections decide alone
    mixed = remove_boilerplate(pages(3) + rows * 10)
    assert mixed[:3] == remove_boilerplate(pages(3)) and "ACME" not in mixed[0]
    assert mixed[3:] == rows * 10


def test_repeats_in_the_middle_and_symbol_lines_stay():
    sections = [f"Report {i}\nintro {i}\nwords {i}\nNote: see above\n```\ncode {i}\n```\n"
                f"more {i}\nalso {i}\nPage {i} - ACME" for i in range(3)]
    cleaned = remove_boilerplate(sections)
    for i, text in enumerate(cleaned):
        # the outermost lines match once digits are ignored: running header and footer
        assert text.startswith(f"intro {i}\nwords {i}\nNote: see above\n```\ncode {i}\n```\n")
        assert text.endswith(f"also {i}")


def test_digits_are_ignored_only_on_the_outermost_lines():
    sections = [f"Top\nItem {i} costs {i * 3} EUR\nbody text {i * 7}\nBottom" for i in range(3)]
    cleaned = remove_boilerplate(sections)
    assert cleaned == [f"Item {i} costs {i * 3} EUR\nbody text {i * 7}" for i in range(3)]


def test_output_aligned_with_input():
    sections = ["Header\nonly"] * 3 + ["", "Header\nother"]
    cleaned = remove_boilerplate(sections)
    assert len(cleaned) == 5
    assert cleaned[3] == ""


# --- Deduplicator ----------------------------------------------------------------------------

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron".split()


def text_of(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


@functools.cache
def shingles(text: str, k: int = 5) -> frozenset[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    k = min(k, len(words))
    return frozenset(tuple(words[i:i + k]) for i in range(len(words) - k + 1))


def jaccard(a: str, b: str) -> float:
    x, y = shingles(a), shingles(b)
    return len(x & y) / len(x | y)


def test_exact_duplicate_after_case_and_whitespace():
    dedup = Deduplicator()
    assert dedup.keep("The quick  brown fox\njumps")
    assert not dedup.keep("the QUICK brown fox jumps  ")
    assert dedup.keep("The quick brown fox jumps high")
    assert not dedup.keep("   ")


def test_near_duplicate_threshold_is_respected():
    rng = random.Random(3)
    base = text_of(rng, 400)
    words = base.split()
    one_word = " ".join(words[:200] + ["zzz"] + words[201:])
    many = " ".join(w if i % 15 else "yyy" for i, w in enumerate(words))
    assert jaccard(base, one_word) >= 0.9
    assert jaccard(base, many) < 0.9
    dedup = Deduplicator()
    assert dedup.keep(base)
    assert not dedup.keep(one_word)
    assert dedup.keep(many)
    assert Deduplicator(threshold=0.2).keep(base)


def test_matches_brute_force_on_many_mutated_texts():
    """Prefix filtering must find exactly the near-duplicates a full comparison finds."""
    rng = random.Random(11)
    seeds = [text_of(rng, rng.randint(3, 120)) for _ in range(30)]
    texts = []
    for _ in range(300):
        words = rng.choice(seeds).split()
        for _ in range(rng.choice([0, 0, 1, 2, 5, 20])):
            words[rng.randrange(len(words))] = rng.choice(WORDS + ["new", "other"])
        texts.append(" ".join(words))
    for threshold in (0.9, 0.7, 0.5):
        dedup, kept, seen = Deduplicator(threshold=threshold), [], set()
        for text in texts:
            normal = " ".join(text.lower().split())
            expected = normal not in seen and all(jaccard(text, k) < threshold for k in kept)
            assert dedup.keep(text) == expected, (threshold, text)
            if expected:
                kept.append(text)
                seen.add(normal)
        assert 30 <= len(kept) < 300


@pytest.mark.parametrize("kwargs, field", [
    ({"threshold": 0}, "threshold"), ({"threshold": 1.5}, "threshold"),
    ({"threshold": "0.9"}, "threshold"), ({"threshold": True}, "threshold"),
    ({"shingle": 0}, "shingle"), ({"shingle": 2.5}, "shingle"), ({"shingle": True}, "shingle"),
])
def test_invalid_settings_name_the_field(kwargs, field):
    with pytest.raises(ConfigError) as info:
        Deduplicator(**kwargs)
    assert info.value.message.startswith(f"{field} must be")
    assert info.value.fix


def test_settings_are_keyword_only():
    with pytest.raises(TypeError):
        Deduplicator(0.9)  # type: ignore[misc]
