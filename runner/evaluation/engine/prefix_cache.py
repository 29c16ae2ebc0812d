"""The shared prefix: tokens every sequence of a task starts with, run once, continued from
their KV cache. Why this computes the same function, and the one-time check that guards it: the
package docstring (`runner.evaluation.engine`, "Shared prefix").
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runner.evaluation.engine.batch import run_batch
from runner.evaluation.engine.loading import LoadedModel
from runner.evaluation.engine.requests import Forward

# A shared prefix shorter than this is not worth the extra forward pass and the cache copies.
MIN_SHARED_PREFIX_TOKENS = 16
# What a model's forward calls its KV cache (argument and output): transformers 5, then 4.
_CACHE_ARGUMENTS = ("cache", "past_key_values")
# What a model whose cache does not work the usual way raises when given or asked for one.
_NO_USABLE_CACHE = (TypeError, ValueError, NotImplementedError, RuntimeError, IndexError)
# Largest |log-probability difference| between the cached and uncached paths that the one-time
# check accepts: float32 rounding is about 1e-6; bfloat16/float16 rounding alone reaches 1e-2.
PREFIX_CHECK_TOLERANCE = {"float32": 1e-4, "bfloat16": 0.1, "float16": 0.1}


@dataclass(frozen=True)
class SharedPrefix:
    """The first `length` tokens of every sequence of a task, already run: their KV cache."""

    length: int
    cache: Any  # transformers.Cache of a batch of one; copied, never extended
    argument: str  # the forward's name for it: "cache" (transformers 5), "past_key_values" before

    def cache_for(self, rows: int) -> Any:
        """A fresh copy for a batch of `rows` (the forward pass appends to the cache it gets)."""
        cache = copy.deepcopy(self.cache)
        cache.batch_repeat_interleave(rows)
        return cache


def shared_prefix_length(forwards: Sequence[Forward]) -> int:
    """Tokens that start every sequence and precede every read; 0 below the useful minimum."""
    if len(forwards) < 2:
        return 0
    # The prefix all sequences share is the one the lexicographically first and last share.
    low, high = min(f.tokens for f in forwards), max(f.tokens for f in forwards)
    pairs = enumerate(zip(low, high, strict=False))  # `low` may be a prefix of `high`
    common = next((k for k, (a, b) in pairs if a != b), len(low))
    first_read = min(position for f in forwards for _, _, position, _ in f.reads)
    length = min(common, first_read)
    return length if length >= MIN_SHARED_PREFIX_TOKENS else 0


def task_shared_prefix(lm: LoadedModel, forwards: list[Forward]) -> SharedPrefix | None:
    """The task's shared prefix, run once, if it is long enough and this model's cache agrees
    with full forward passes (checked the first time, see the module docstring)."""
    length = shared_prefix_length(forwards)
    if not length or lm.prefix_cache.agrees is False:
        return None
    prefix = run_prefix(lm, forwards[0].tokens[:length])
    if lm.prefix_cache.agrees is None:
        lm.prefix_cache.agrees = prefix is not None and _prefix_cache_agrees(lm, forwards, prefix)
    return prefix if lm.prefix_cache.agrees else None


def run_prefix(lm: LoadedModel, tokens: list[int]) -> SharedPrefix | None:
    import inspect

    import torch

    # The class's forward: accelerate (device_map="auto") wraps the instance's in `*args, **kwargs`.
    parameters = inspect.signature(type(lm.model).forward).parameters
    argument = next((name for name in _CACHE_ARGUMENTS if name in parameters), None)
    if argument is None:
        return None
    input_ids = torch.tensor([tokens], dtype=torch.long, device=lm.input_device)
    try:
        output = lm.model(
            input_ids=input_ids, attention_mask=torch.ones_like(input_ids), use_cache=True
        )
    except torch.OutOfMemoryError:
        raise
    except _NO_USABLE_CACHE:
        return None
    cache = output.get(argument)
    if cache is None or not hasattr(cache, "batch_repeat_interleave"):
        return None
    return SharedPrefix(length=len(tokens), cache=cache, argument=argument)


def _prefix_cache_agrees(lm: LoadedModel, forwards: list[Forward], prefix: SharedPrefix) -> bool:
    """Score the longest and the shortest sequence (so one is padded) with and without the cache.
    `forwards` is sorted longest first."""
    import torch

    pair = [forwards[0], forwards[-1]]
    try:
        cached = run_batch(lm, pair, prefix)
    except torch.OutOfMemoryError:
        raise
    except _NO_USABLE_CACHE:
        return False
    whole = run_batch(lm, pair, None)
    tolerance = PREFIX_CHECK_TOLERANCE[lm.dtype]
    return all(
        (i, c) == (j, d) and abs(x - y) <= tolerance
        for (i, c, x), (j, d, y) in zip(cached, whole, strict=True)
    )
