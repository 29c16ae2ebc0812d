"""Answer extraction of the reasoning track (DESIGN §10): the LAST "Final Answer" match, read after
the last `</think>`; each spelling is also checked against lm-eval's own `regex` filter
(`group_select: -1`) on the same text, so the two cannot drift apart."""

from __future__ import annotations

import pytest

from runner.evaluation.cot.extraction import (
    LETTER_PATTERN,
    PUBMEDQA_PATTERN,
    answer_text,
    extract_answer,
)

LETTER_CASES = [
    ("Final Answer: B", "B"),
    ("Reasoning...\n\n**Final Answer: B**", "B"),
    ("**Final Answer:** C", "C"),
    ("Final Answer: (C)", "C"),
    ("Final Answer: [D]", "D"),
    ("Final Answer: _A_", None),  # "A_" has no word boundary, for lm-eval too
    ("Final Answer: _A", "A"),
    ("final answer: d", None),  # a lower-case letter is not an option's letter
    ("final answer: D", "D"),  # the phrase in lower case
    ("FINAL ANSWER: A", "A"),
    ("FinalAnswer:B", "B"),
    ("Final Answer: A\nOn reflection...\nFinal Answer: C", "C"),  # the last line wins
    ("Final Answer: Both", None),
    ("Final Answer：C", "C"),  # full-width colon
    ("Final answer:\nB", "B"),
    ("Final Answer: A.", "A"),
    ("Final Answer: A or B", "A"),
    ("Final Answer: E", None),
    ("Final Answer: The answer is C", None),
    ("The answer is B.", None),
    ("Answer: C", None),
    ("", None),
    ("<think>Final Answer: A</think>\n\nFinal Answer: C", "C"),
    ("<think>weighing it up. Final Answer: A</think> I cannot tell.", None),
    ("<think>a</think><think>b</think>Final Answer: D", "D"),
    ("Final Answer - B", None),
]

PUBMEDQA_CASES = [
    ("Final Answer: yes", "yes"),
    ("Final Answer: **Maybe**", "maybe"),
    ("Final Answer: No.", "no"),
    ("FINAL ANSWER: YES", "yes"),
    ("Final Answer: yesterday", None),
    ("Final Answer: B", None),
    ("Final Answer: no\nWait.\nFinal Answer: yes", "yes"),
    ("Final Answer：maybe", "maybe"),
    ("<think>Final Answer: no</think>Final Answer: (yes)", "yes"),
    ("The answer is yes.", None),
]


def lm_eval_filter(pattern: str, text: str) -> str | None:
    from lm_eval.filters.extraction import RegexFilter

    [[answer]] = RegexFilter(regex_pattern=pattern, group_select=-1).apply([[text]], [{}])
    return None if answer == "[invalid]" else answer


@pytest.mark.parametrize(("generation", "expected"), LETTER_CASES)
def test_letter_answers(generation, expected):
    assert extract_answer(generation, letters=True) == expected
    assert lm_eval_filter(LETTER_PATTERN, answer_text(generation)) == expected


@pytest.mark.parametrize(("generation", "expected"), PUBMEDQA_CASES)
def test_pubmedqa_answers(generation, expected):
    assert extract_answer(generation, letters=False) == expected
    reference = lm_eval_filter(PUBMEDQA_PATTERN, answer_text(generation))
    assert (reference and reference.lower()) == expected


def test_answer_text_is_what_follows_the_last_think_block():
    assert answer_text("<think>x</think>\n  Final Answer: A") == "Final Answer: A"
    assert answer_text("no thinking here") == "no thinking here"
