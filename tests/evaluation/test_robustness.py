"""Rotations, letter bias, robustness and calibration scores: hand-computed small cases, and a
model that always answers "B" run end to end through `medlb evaluate --rotations`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from runner.cli import main
from runner.evaluation import calibration
from runner.evaluation.robustness import (
    LetterOutcomes,
    RotationOutcomes,
    letter_bias,
    letter_recall,
    recall_std,
    rotation_scores,
    rstd_estimate,
)
from runner.evaluation.rotations import to_original_order
from runner.evaluation.task_data import SAMPLE_DATA_DIR, load_task_rows
from runner.evaluation.tasks import (
    LETTER_TASK_NAMES,
    LETTERS,
    TASKS,
    build_items,
    build_rotated_items,
)
from runner.results_schema import ReliabilityBin, load_result
from runner.stats import Bootstrap, bootstrap_ci95

# RStd for n = 4 is at most 1/2: the population standard deviation of four numbers in [0, 1] is
# largest for two at 0 and two at 1 (a model perfect on two letters, always wrong on the others).
# A model that ignores the question answers letter l with some fixed share q_l, so on golds
# balanced over the letters its recalls are q_1..q_4, summing to 1; the largest standard deviation
# of such a vector is the one-hot's, sqrt(n - 1) / n = sqrt(3) / 4 = 0.433: always one letter.
ONE_LETTER_RSTD = math.sqrt(3) / 4


# ---- the rotation itself ----------------------------------------------------------------------


@pytest.mark.parametrize("task", ["medqa_4options", "medmcqa", "mmlu_anatomy"])
def test_rotation_r_shows_original_option_j_plus_r_at_letter_j_and_moves_the_gold(task):
    spec = TASKS[task]
    rows = load_task_rows(spec, SAMPLE_DATA_DIR).rows[:3]
    rotated = build_rotated_items(spec, rows)
    assert len(rotated) == 3 * 3
    for i, row in enumerate(rows):
        original = [option_text(task, row, k) for k in range(4)]
        gold = spec.doc_to_gold(row)
        for r in range(1, 4):
            item = rotated[i * 3 + r - 1]
            assert item.doc_id == i and item.gold == (gold - r) % 4
            for j, letter in enumerate(LETTERS):
                assert f"\n{letter}. {original[(j + r) % 4]}\n" in item.context
            # The gold letter still labels the gold answer's text.
            assert f"\n{LETTERS[item.gold]}. {original[gold]}\n" in item.context


def option_text(task: str, row: dict, k: int) -> str:
    """Option k of a Hub row, read from the dataset's own columns."""
    if task == "medqa_4options":
        return row[f"ending{k}"]
    if task == "medmcqa":
        return row[f"op{'abcd'[k]}"]
    return row["choices"][k]


def test_pubmedqa_has_no_rotations():
    assert "pubmedqa" not in LETTER_TASK_NAMES and len(LETTER_TASK_NAMES) == 8
    with pytest.raises(ValueError, match="not letters"):
        build_rotated_items(TASKS["pubmedqa"], [])


def test_scores_are_reindexed_by_original_option():
    items = build_items(
        TASKS["mmlu_anatomy"], load_task_rows(TASKS["mmlu_anatomy"], SAMPLE_DATA_DIR).rows[:1]
    )
    # Rotation 1 scores letters A..D; letter (k - 1) mod 4 labels original option k.
    letters = {
        1: [-1.0, -2.0, -3.0, -4.0],
        2: [-5.0, -6.0, -7.0, -8.0],
        3: [-9.0, -10.0, -11.0, -12.0],
    }
    rotated = to_original_order(items, [letters[1], letters[2], letters[3]])
    assert rotated == [
        [[-4.0, -1.0, -2.0, -3.0], [-7.0, -8.0, -5.0, -6.0], [-10.0, -11.0, -12.0, -9.0]]
    ]


# ---- robustness from hand-made log-likelihoods ------------------------------------------------


def one_hot(k: int, n: int = 4, high: float = 0.0, low: float = -5.0) -> list[float]:
    return [high if i == k else low for i in range(n)]


def outcomes_of(items: list[list[list[float]]], golds: list[int]) -> RotationOutcomes:
    """`items[i][r]`: scores by original option under rotation r (r = 0 first)."""
    return RotationOutcomes.of([it[0] for it in items], [it[1:] for it in items], golds)


def hand_made_items() -> tuple[list[list[list[float]]], list[int]]:
    always_right = [one_hot(0)] * 4  # gold 0, chosen under every rotation
    always_letter_a = [one_hot(r) for r in range(4)]  # letter A labels option r under rotation r
    all_tied = [[-1.0] * 4] * 4  # ties go to the first LETTER: option r under rotation r
    return [always_right, always_letter_a, all_tied], [0, 2, 1]


def test_accuracy_per_rotation_consistency_and_flips_by_hand():
    items, golds = hand_made_items()
    outcomes = outcomes_of(items, golds)
    assert outcomes.correct.tolist() == [
        [True, True, True, True],
        [False, False, True, False],
        [False, True, False, False],
    ]
    assert outcomes.consistent.tolist() == [True, False, False]
    assert outcomes.flipped.tolist() == [False, True, True]
    # Averaged probabilities: item 0 keeps option 0; items 1 and 2 are flat, so option 0 (first).
    assert outcomes.debiased_correct.tolist() == [True, False, False]
    scores = rotation_scores([outcomes])
    assert [e.value for e in scores.acc_by_rotation] == pytest.approx([1 / 3, 2 / 3, 2 / 3, 1 / 3])
    assert scores.consistent.value == pytest.approx(1 / 3)
    assert scores.flip_rate.value == pytest.approx(2 / 3)
    assert scores.debiased.value == pytest.approx(1 / 3)
    assert scores.acc_by_rotation[0].ci95 == bootstrap_ci95([True, False, False])


def test_averaging_over_rotations_removes_a_letter_bias():
    # Content prefers option 1 (+1); letter A gets +2 wherever it is: only rotation 1 is right.
    content, bias = [0.0, 1.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0]
    item = [[content[k] + bias[(k - r) % 4] for k in range(4)] for r in range(4)]
    outcomes = outcomes_of([item], [1])
    assert outcomes.correct.tolist() == [[False, True, False, False]]
    assert outcomes.debiased_correct.tolist() == [True]


def test_an_average_over_tasks_is_the_unweighted_mean_of_task_scores():
    items, golds = hand_made_items()
    three = outcomes_of(items, golds)  # consistent 1/3
    one = outcomes_of(items[:1], golds[:1])  # consistent 1
    average = rotation_scores([three, one])
    assert average.consistent.value == pytest.approx((1 / 3 + 1) / 2)  # not 2/4 pooled
    low, high = average.consistent.ci95
    assert 0.5 <= low <= average.consistent.value <= high <= 1.0


def test_letter_recall_and_rstd_by_hand():
    golds, preds = np.array([0, 0, 1, 1, 2, 3]), np.array([0, 1, 1, 1, 1, 3])
    assert letter_recall(golds, preds, 4).tolist() == [0.5, 1.0, 0.0, 1.0]
    assert float(recall_std(golds, preds, 4)) == pytest.approx(math.sqrt(0.171875))
    # A letter that is nobody's gold has no recall and does not count.
    bias = letter_bias(LetterOutcomes(np.array([0, 0, 1]), np.array([0, 1, 1]), 4))
    assert bias.recall == [0.5, 1.0, None, None]
    assert bias.rstd.value == pytest.approx(0.25)
    always_b = LetterOutcomes(np.array([0, 1, 2, 3] * 3), np.array([1] * 12), 4)
    assert letter_bias(always_b).rstd.value == pytest.approx(ONE_LETTER_RSTD)


def test_stratified_bootstrap_keeps_each_sample_within_itself():
    bootstrap = Bootstrap.of_sizes([5, 3])
    assert bootstrap.mean_ci95([[1.0] * 5, [0.0] * 3]) == (0.5, 0.5)
    values = [True, False, True, True, False, False, True]
    assert Bootstrap.of_sizes([7]).mean_ci95([values]) == bootstrap_ci95(values)


# ---- calibration ------------------------------------------------------------------------------


def test_brier_score_by_hand():
    half = math.log(0.5)
    assert calibration.brier_score([[half, half]], [0]) == pytest.approx(0.5)
    assert calibration.brier_score([[0.0, -1000.0]], [1]) == pytest.approx(2.0)
    assert calibration.brier_score([[half, half], [0.0, -1000.0]], [0, 1]) == pytest.approx(1.25)
    uniform = calibration.brier_score([[0.0] * 4], [2])
    assert uniform == pytest.approx(3 * (1 / 4) ** 2 + (3 / 4) ** 2)  # 0.75, guessing


def test_reliability_bins_and_their_pooling_by_hand():
    confident, unsure = [math.log(0.9), math.log(0.1)], [math.log(0.55), math.log(0.45)]
    bins = calibration.reliability_bins([confident] * 3 + [unsure], [0, 0, 1, 0])
    assert [b.count for b in bins] == [0, 0, 0, 0, 0, 1, 0, 0, 0, 3]
    assert (bins[9].confidence, bins[9].accuracy) == pytest.approx((0.9, 2 / 3))
    assert (bins[5].confidence, bins[5].accuracy) == pytest.approx((0.55, 1.0))
    assert bins[0] == ReliabilityBin(count=0, confidence=None, accuracy=None)
    assert calibration.ece_of_bins(bins) == pytest.approx(3 / 4 * (0.9 - 2 / 3) + 1 / 4 * 0.45)

    other = calibration.reliability_bins([[math.log(0.95), math.log(0.05)]], [0])
    pooled = calibration.pooled_reliability({"a": bins, "b": other})
    assert pooled.tasks == ["a", "b"] and pooled.n == 5
    assert pooled.bins[9].count == 4
    assert pooled.bins[9].confidence == pytest.approx((3 * 0.9 + 0.95) / 4)
    assert pooled.bins[9].accuracy == pytest.approx(3 / 4)
    assert pooled.ece == pytest.approx(4 / 5 * abs(0.75 - 0.9125) + 1 / 5 * 0.45)


def test_chance_normalised_accuracy_and_majority_class_rate():
    assert calibration.chance_normalized(0.25, 4) == pytest.approx(0.0)
    assert calibration.chance_normalized(1.0, 4) == pytest.approx(1.0)
    assert calibration.chance_normalized(0.5, 3) == pytest.approx(0.25)
    assert calibration.chance_normalized(0.0, 4) == pytest.approx(-1 / 3)
    assert calibration.majority_class_rate([0, 0, 1, 2]) == 0.5


# ---- a model that always answers "B" ----------------------------------------------------------


@pytest.fixture(scope="module")
def always_b_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny GPT-2 whose LM head is biased to the token " B" at every position.

    GPT-2's final layer norm has a bias: with weight 0 and bias 1 on hidden unit 0, that unit is
    1 everywhere, so the head's weight on it acts as a per-token bias. It is 0 for every token but
    " B", and 60 for " B" (a random tiny model's logits spread over a few units).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from runner.evaluation.tiny_models import TinyModelSpec, build_tiny_model

    spec = TinyModelSpec(arch="gpt2", seed=7, vocab_size=500, hidden_size=32, layers=1, heads=2)
    directory = build_tiny_model(tmp_path_factory.mktemp("always-b"), spec)
    model = AutoModelForCausalLM.from_pretrained(directory)
    (b_token,) = AutoTokenizer.from_pretrained(directory).encode(" B")
    with torch.no_grad():
        model.transformer.ln_f.weight[0] = 0.0
        model.transformer.ln_f.bias[0] = 1.0
        head = model.get_output_embeddings().weight
        head[:, 0] = 0.0
        head[b_token, 0] = 60.0
    model.save_pretrained(directory, safe_serialization=True)
    return directory


def test_a_model_that_always_answers_b_is_inconsistent_and_maximally_letter_biased(
    always_b_model: Path, tmp_path: Path, record_property
):
    out = tmp_path / "out"
    argv = ["evaluate", "--model", str(always_b_model), "--data-dir", str(SAMPLE_DATA_DIR)]
    argv += ["--tasks", ",".join(LETTER_TASK_NAMES), "--rotations", "--no-progress"]
    assert main([*argv, "--output", str(out)]) == 0
    result = load_result(out / "results.json")

    for name in LETTER_TASK_NAMES:
        rows = [json.loads(line) for line in (out / "predictions" / f"{name}.jsonl").open()]
        assert all(row["pred"] == 1 for row in rows)  # "B" at rotation 0 ...
        for row in rows:  # ... and under rotation r, B labels original option (1 + r) mod 4
            for r, scores in enumerate(row["rotation_logprobs"], start=1):
                assert int(np.argmax(scores)) == (1 + r) % 4
        task = result.tasks[name]
        robustness = task.robustness
        assert robustness.consistent.value == 0.0 and robustness.consistent.ci95 == (0.0, 0.0)
        assert robustness.flip_rate.value == 1.0 and robustness.flip_rate.ci95 == (1.0, 1.0)
        # The sample questions' golds are balanced over A-D, so "B" is right a quarter of the
        # time under every rotation.
        assert [e.value for e in robustness.acc_by_rotation] == [0.25] * 4
        assert task.letter_bias.recall == [0.0, 1.0, 0.0, 0.0]
        assert task.letter_bias.rstd.value == pytest.approx(ONE_LETTER_RSTD)
    average = result.letter_tasks_average
    record_property(
        "always_b",
        f"8 letter tasks: consistent accuracy {average.rotations.consistent.value:.4f}, "
        f"flip rate {average.rotations.flip_rate.value:.4f}, RStd {average.rstd.value:.4f} "
        f"(one letter always: sqrt(3)/4 = {ONE_LETTER_RSTD:.4f}; any recalls: at most 0.5), "
        f"accuracy per rotation {[e.value for e in average.rotations.acc_by_rotation]}",
    )
    assert average.rotations.consistent.value == 0.0
    assert average.rotations.flip_rate.value == 1.0
    assert average.rstd.value == pytest.approx(ONE_LETTER_RSTD)


# ---- intervals that contain their estimates (issue 19, item 8) ---------------------------------


def unbiased_guesser(n: int, seed: int, skill: float = 0.25) -> LetterOutcomes:
    """A model with no letter preference: golds balanced, right with probability `skill` and
    otherwise a uniformly random letter. Its sample RStd is pure noise, and a resample's RStd
    adds more noise on top."""
    rng = np.random.default_rng(seed)
    golds = np.arange(n) % 4
    preds = np.where(rng.random(n) < skill, golds, rng.integers(0, 4, size=n))
    return LetterOutcomes(golds, preds, 4)


def test_rstd_interval_contains_rstd_where_the_percentile_interval_missed_it():
    # The case that broke (RStd 2.7, "95% interval 3.1-5.4"): the mean RStd of the eight letter
    # tasks of a model without letter preference. Every task's resampled RStd sits above its
    # own, the average narrows the spread but keeps that bias, so the plain percentile
    # interval (what results files carried before) lies wholly above the estimate.
    missed = 0
    for seed in range(6):
        tasks = [unbiased_guesser(400, 10 * seed + j, skill=0.6) for j in range(8)]
        value = float(np.mean([recall_std(t.golds, t.preds, 4) for t in tasks]))
        bootstrap = Bootstrap.of_sizes([400] * 8)

        def resampled(indices, tasks=tasks):
            pairs = zip(tasks, indices, strict=True)
            return np.mean([recall_std(t.golds[i], t.preds[i], 4) for t, i in pairs], axis=0)

        missed += value < bootstrap.ci95(resampled)[0]
        estimate = rstd_estimate(tasks)
        assert estimate.value == pytest.approx(value)
        assert 0.0 <= estimate.ci95[0] <= estimate.value <= estimate.ci95[1]
        assert estimate.ci95[1] - estimate.ci95[0] > 0.0  # corrected, not collapsed
        assert estimate.ci95[1] - estimate.ci95[0] == pytest.approx(
            float(np.subtract(*np.percentile(resampled(bootstrap.indices), [97.5, 2.5]))),
            abs=1e-9 if estimate.ci95[0] > 0 else 1.0,
        )  # the same width as the percentile interval (unless cut at 0)
    assert missed >= 4  # the percentile interval really does miss on this data


def test_one_task_rstd_interval_contains_rstd():
    for seed in range(10):
        estimate = letter_bias(unbiased_guesser(100, seed)).rstd
        assert estimate.ci95[0] <= estimate.value <= estimate.ci95[1]


def test_letter_recall_intervals_bracket_each_recall_and_skip_absent_letters():
    outcomes = LetterOutcomes(np.array([0, 1, 2] * 50), np.array([0, 1, 1] * 50), 4)
    bias = letter_bias(outcomes)
    assert bias.recall == [1.0, 1.0, 0.0, None]
    assert bias.recall_ci95[3] is None
    assert bias.recall_ci95[0] == (1.0, 1.0) and bias.recall_ci95[2] == (0.0, 0.0)
    mixed = letter_bias(unbiased_guesser(400, 3))
    for value, (low, high) in zip(mixed.recall, mixed.recall_ci95, strict=True):
        assert low <= value <= high and high - low > 0.05


def test_ece_and_brier_intervals():
    rng = np.random.default_rng(7)
    logprobs = rng.normal(size=(500, 4)).tolist()
    golds = rng.integers(0, 4, size=500).tolist()
    ece = calibration.expected_calibration_error(logprobs, golds)
    brier = calibration.brier_score(logprobs, golds)
    ece_ci, brier_ci = calibration.calibration_intervals(logprobs, golds, Bootstrap.of_sizes([500]))
    assert ece_ci[0] <= ece <= ece_ci[1] and 0.0 <= ece_ci[0] < ece_ci[1] <= 1.0
    assert brier_ci[0] < brier < brier_ci[1]
    # Two resamples: the interval is their spread, moved so that its median is the estimate;
    # each resample's ECE is the ECE of the resampled items computed the long way.
    two = Bootstrap.of_sizes([500]).indices[0][:2]
    v1, v2 = (
        calibration.expected_calibration_error([logprobs[i] for i in d], [golds[i] for i in d])
        for d in two
    )
    shift = (v1 + v2) / 2 - ece
    low, high = calibration.calibration_intervals(logprobs, golds, Bootstrap([two]))[0]
    spread = abs(v1 - v2)
    assert low == pytest.approx(max(0.0, min(v1, v2) + 0.025 * spread - shift))
    assert high == pytest.approx(min(v1, v2) + 0.975 * spread - shift)
