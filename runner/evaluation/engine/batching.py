"""Batching under a token budget: sort by length, pack by padded tokens, back off on OOM.

`score_task` is the engine's main loop: it plans the requests, runs the task's shared prefix
once, and runs the rest in batches whose padded size stays within a `TokenBudget`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from runner.errors import UserError
from runner.evaluation.engine.batch import release_cuda_memory, run_batch
from runner.evaluation.engine.loading import LoadedModel
from runner.evaluation.engine.prefix_cache import task_shared_prefix
from runner.evaluation.engine.requests import plan_requests
from runner.evaluation.tasks import Item

# Token budgets (padded tokens per forward pass). On CPU larger batches stop paying off early; on
# a GPU the budget starts high and halves on out-of-memory until it fits.
CPU_TOKEN_BUDGET = 2048
CUDA_TOKEN_BUDGET = 65536


@dataclass
class TokenBudget:
    """Padded tokens (longest sequence x sequences) one forward pass may hold.

    `max_sequences` caps the batch size (`--batch-size N`). On out-of-memory the engine halves
    `tokens` and retries; `before_forward` is where a device's memory limit shows up, and a test
    overrides it to make the engine meet a smaller "device" without a GPU.
    """

    tokens: int
    max_sequences: int | None = None
    backoffs: int = field(default=0)

    def batch_size_for(self, longest: int) -> int:
        fitting = max(1, self.tokens // max(1, longest))
        return min(fitting, self.max_sequences) if self.max_sequences else fitting

    def before_forward(self, sequences: int, padded_tokens: int) -> None:
        """Called with each batch's shape right before its forward pass."""

    def shrink(self, sequences: int, longest: int) -> None:
        """After an out-of-memory error on a batch of `sequences` x `longest` tokens."""
        if sequences <= 1:
            raise UserError(
                f"out of device memory on a single sequence of {longest} tokens; "
                "use a device with more memory or --dtype bfloat16"
            )
        self.tokens = max(longest, (sequences * longest) // 2)
        if self.max_sequences:
            self.max_sequences = max(1, min(self.max_sequences, sequences // 2))
        self.backoffs += 1
        print(
            f"medlb: out of memory at {sequences} x {longest} tokens; "
            f"retrying with a budget of {self.tokens} tokens",
            file=sys.stderr,
        )


def default_token_budget(lm: LoadedModel, batch_size: int | None = None) -> TokenBudget:
    """`--batch-size auto`: a token budget per device; `--batch-size N`: at most N sequences."""
    base = CUDA_TOKEN_BUDGET if lm.input_device.type == "cuda" else CPU_TOKEN_BUDGET
    if batch_size is not None:
        return TokenBudget(tokens=batch_size * lm.max_length, max_sequences=batch_size)
    return TokenBudget(tokens=base)


@dataclass(frozen=True)
class TaskScores:
    choice_logprobs: list[list[float]]  # per item, per choice
    model_tokens: int  # tokens run through the model (unpadded; a shared prefix counts once)
    multi_token_items: int


def score_items(
    lm: LoadedModel,
    items: Sequence[Item],
    *,
    token_budget: int | TokenBudget | None = None,
    progress: str | None = None,
    share_prefix: bool = True,
) -> list[list[float]]:
    """Per item, per choice: summed log-likelihood of the continuation tokens (lm-eval-exact)."""
    return score_task(
        lm, items, token_budget=token_budget, progress=progress, share_prefix=share_prefix
    ).choice_logprobs


def score_task(
    lm: LoadedModel,
    items: Sequence[Item],
    *,
    token_budget: int | TokenBudget | None = None,
    progress: str | None = None,
    share_prefix: bool = True,
) -> TaskScores:
    """`score_items` plus the counts a results file reports. `progress`: the bar's label.
    `share_prefix=False` runs every sequence whole (no shared-prefix cache)."""
    import torch
    from tqdm import tqdm

    if isinstance(token_budget, TokenBudget):
        budget = token_budget
    elif token_budget is None:
        budget = default_token_budget(lm)
    else:
        budget = TokenBudget(tokens=token_budget)
    plan = plan_requests(lm.tokenizer, items, lm.max_length)
    scores = [[0.0] * n for n in plan.choice_counts]
    # Longest first: the first batch is the largest, so memory trouble shows at once (lm-eval's
    # order too); ties keep item order, so the batches and hence the bytes are reproducible.
    order = sorted(plan.forwards, key=lambda f: -len(f.tokens))
    pending = [0] * len(items)  # forwards left per item, for the progress bar
    for forward in order:
        for item in forward.items:
            pending[item] += 1
    bar = tqdm(
        total=len(items), desc=progress, unit="item", file=sys.stderr, disable=progress is None
    )
    start = 0
    with torch.inference_mode(), bar:
        prefix = task_shared_prefix(lm, order) if share_prefix else None
        while start < len(order):
            size = budget.batch_size_for(len(order[start].tokens))
            batch = order[start : start + size]
            values = None
            try:
                budget.before_forward(len(batch), len(batch) * len(batch[0].tokens))
                values = run_batch(lm, batch, prefix)
            except torch.OutOfMemoryError:
                pass  # handled below, once the exception (and the frames holding memory) is gone
            if values is None:
                release_cuda_memory()
                budget.shrink(len(batch), len(batch[0].tokens))
                continue
            for item, choice, value in values:
                scores[item][choice] += value
            for forward in batch:
                for item in forward.items:
                    pending[item] -= 1
                    bar.update(pending[item] == 0)
            start += len(batch)
    shared = 0 if prefix is None else prefix.length * (len(order) - 1)
    return TaskScores(
        choice_logprobs=scores,
        model_tokens=sum(len(f.tokens) for f in plan.forwards) - shared,
        multi_token_items=plan.multi_token_items,
    )
