"""Option-order rotations of a letter task: scores in the ORIGINAL option order, and what a model
chose under each rotation. The definition is ARCHITECTURE.md's ("Option-order robustness").

Rotation r (1..n-1) shows original option (j + r) mod n at letter j, so original option k carries
letter (k - r) mod n. The engine scores a rotated item letter by letter, like any item;
`to_original_order` re-indexes those scores by original option, which is what a predictions
row's `rotation_logprobs[r - 1][k]` holds. Rotation 0 is the task itself (`choice_logprobs`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from runner.evaluation.tasks import Item


def to_original_order(
    items: Sequence[Item], rotated_scores: Sequence[Sequence[float]]
) -> list[list[list[float]]]:
    """Per item, `rotation_logprobs`: for r = 1..n-1, the log-likelihood of the letter labelling
    original option k, for k = 0..n-1. `rotated_scores` are the engine's per-letter scores of
    `tasks.build_rotated_items` (item by item, r = 1..n-1)."""
    scores = iter(rotated_scores)
    out = []
    for item in items:
        n = len(item.continuations)
        out.append([[float(x) for x in np.roll(next(scores), r)] for r in range(1, n)])
    if next(scores, None) is not None:
        raise ValueError("more rotated scores than items x rotations")
    return out


def all_rotations(
    choice_logprobs: Sequence[Sequence[float]],
    rotation_logprobs: Sequence[Sequence[Sequence[float]]],
) -> np.ndarray:
    """`[items, n rotations, n original options]` log-likelihoods, rotation 0 first."""
    return np.array(
        [
            [row, *rotations]
            for row, rotations in zip(choice_logprobs, rotation_logprobs, strict=True)
        ],
        dtype=np.float64,
    )


def chosen_options(scores: np.ndarray) -> np.ndarray:
    """`[items, n]`: the original option chosen under each rotation. The choice is made as
    lm-eval makes it on the rotated prompt: the first LETTER with the highest log-likelihood
    (ties), then mapped back to the option that letter labels, (letter + r) mod n."""
    n = scores.shape[-1]
    chosen = np.empty(scores.shape[:2], dtype=np.int64)
    for r in range(n):
        letters = np.roll(scores[:, r, :], -r, axis=-1)  # letters[j] = option (j + r) mod n
        chosen[:, r] = (np.argmax(letters, axis=-1) + r) % n
    return chosen


def averaged_probability_choices(scores: np.ndarray) -> np.ndarray:
    """`[items]`: the original option with the highest probability averaged over the n rotations
    (softmax over the choices within each rotation, then the mean per original option)."""
    shifted = scores - scores.max(axis=-1, keepdims=True)
    probabilities = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
    return np.argmax(probabilities.mean(axis=1), axis=-1)
