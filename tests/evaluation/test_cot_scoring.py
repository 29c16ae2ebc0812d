"""The reasoning track's scores: the paired table against loglik, McNemar's exact p, the track's
average only over a complete run, and the prompts of DESIGN §10."""

from __future__ import annotations

import math

import pytest

from runner.evaluation.cot.prompts import cot_message, gold_label
from runner.evaluation.cot.records import CotRow, parse_rows, render_rows
from runner.evaluation.cot.scoring import agreement
from runner.evaluation.predictions import PredictionRow
from runner.evaluation.tasks import TASKS
from runner.stats import mcnemar_exact_p


def binomial_two_sided(b: int, c: int) -> float:
    """The exact McNemar p from its definition, summed over every outcome as extreme."""
    n = b + c
    probabilities = [math.comb(n, k) / 2**n for k in range(n + 1)]
    observed = probabilities[min(b, c)]
    return min(1.0, sum(p for p in probabilities if p <= observed + 1e-15))


@pytest.mark.parametrize(("b", "c"), [(0, 0), (0, 5), (1, 9), (3, 3), (7, 2), (12, 30)])
def test_mcnemar_exact_p(b, c):
    assert mcnemar_exact_p(b, c) == pytest.approx(binomial_two_sided(b, c), abs=1e-12)


def test_mcnemar_known_values():
    assert mcnemar_exact_p(0, 0) == 1.0
    assert mcnemar_exact_p(0, 5) == pytest.approx(0.0625)  # 2 / 2**5
    assert mcnemar_exact_p(1, 9) == pytest.approx(22 / 1024)


def cot(doc_id: int, answer: str | None, gold: str) -> CotRow:
    return CotRow(doc_id, f"... Final Answer: {answer}", answer, gold, answer == gold, 5, False)


def test_agreement_counts_the_four_cells_and_same_answers():
    golds = ["A", "B", "C", "D", "A"]
    loglik_preds = [0, 0, 2, 0, 1]  # right, wrong, right, wrong, wrong
    cot_answers = ["A", "B", "D", None, "B"]  # right, right, wrong, no answer, wrong (= loglik)
    rows = [cot(i, a, g) for i, (a, g) in enumerate(zip(cot_answers, golds, strict=True))]
    loglik = [
        PredictionRow(i, [0.0] * 4, p, "ABCD".index(g))
        for i, (p, g) in enumerate(zip(loglik_preds, golds, strict=True))
    ]
    table = agreement(TASKS["medqa_4options"], rows, loglik)
    assert (table.both_right, table.cot_fixes, table.cot_breaks, table.both_wrong) == (1, 1, 1, 2)
    assert table.same_answer == 2  # doc 0 (A) and doc 4 (B)
    assert table.mcnemar_p == 1.0


def test_agreement_needs_the_same_rows():
    rows = [cot(0, "A", "A")]
    assert agreement(TASKS["medqa_4options"], rows, [PredictionRow(1, [0.0] * 4, 0, 0)]) is None


def test_pubmedqa_agreement_reads_the_decision_words():
    rows = [cot(0, "maybe", "maybe"), cot(1, "no", "yes")]
    loglik = [PredictionRow(0, [0.0] * 3, 2, 2), PredictionRow(1, [0.0] * 3, 1, 0)]
    table = agreement(TASKS["pubmedqa"], rows, loglik)
    assert table.same_answer == 2 and table.both_right == 1 and table.both_wrong == 1


def test_rows_round_trip_and_reject_wrong_types():
    rows = [cot(0, "A", "A"), cot(1, None, "B")]
    assert parse_rows(render_rows(rows)) == rows
    with pytest.raises(ValueError, match="line 1"):
        parse_rows(
            b'{"doc_id": "0", "generation": "", "answer": null, "gold": "A", '
            b'"correct": false, "output_tokens": 0, "truncated": false}\n'
        )


def test_letter_prompt_is_design_section_10_byte_for_byte():
    row = {"sent1": " A patient?\n", "ending0": "one ", "ending1": "two", "ending2": "three",
           "ending3": "four", "label": 2}  # fmt: skip
    assert cot_message(TASKS["medqa_4options"], row) == (
        "Answer the following multiple-choice question. Think step by step, then end your "
        'response with a line of the form "Final Answer: X", where X is one of A, B, C or D.\n'
        "\nQuestion: A patient?\nA. one\nB. two\nC. three\nD. four"
    )
    assert gold_label(TASKS["medqa_4options"], row) == "C"


def test_pubmedqa_prompt_is_design_section_10_byte_for_byte():
    row = {"QUESTION": "Does it?", "CONTEXTS": [" First. ", "Second."], "final_decision": "maybe"}
    assert cot_message(TASKS["pubmedqa"], row) == (
        "Answer the following question about the research abstract below with yes, no or maybe. "
        'Think step by step, then end your response with a line of the form "Final Answer: X", '
        "where X is yes, no or maybe.\n\nAbstract: First.\nSecond.\nQuestion: Does it?"
    )
    assert gold_label(TASKS["pubmedqa"], row) == "maybe"
