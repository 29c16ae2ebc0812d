"""Requests: items -> the token sequences to run and the log-probabilities to read from them.

This is where lm-eval's `_encode_pair` and its special-token rule are reproduced (the exactness
argument is the package docstring's, `runner.evaluation.engine`), and where an item whose choices
are all one token becomes a single forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runner.evaluation.tasks import Item


@dataclass(frozen=True)
class Forward:
    """One sequence through the model and the log-probabilities to read from its output.

    `reads[k] = (item, choice, position, token)`: add log p(token | tokens[:position + 1]) to the
    score of `choice` of `item`.
    """

    tokens: list[int]
    reads: list[tuple[int, int, int, int]]

    @property
    def positions(self) -> list[int]:
        return sorted({position for _, _, position, _ in self.reads})

    @property
    def items(self) -> set[int]:
        return {item for item, _, _, _ in self.reads}

    def sum_by_choice(self, logprobs: Any) -> list[tuple[int, int, float]]:
        """`(item, choice, score)` from the read log-probabilities (a float32 tensor, one per
        read): a continuation's tokens are summed in float32, as lm-eval sums them."""
        groups: dict[tuple[int, int], list[int]] = {}
        for k, (item, choice, _, _) in enumerate(self.reads):
            groups.setdefault((item, choice), []).append(k)
        return [(i, c, float(logprobs[ks].sum())) for (i, c), ks in groups.items()]


@dataclass(frozen=True)
class ScoringPlan:
    forwards: list[Forward]
    choice_counts: list[int]  # choices per item
    multi_token_items: int  # items scored with one sequence per choice (slow path)


def plan_requests(tokenizer: Any, items: Sequence[Item], max_length: int) -> ScoringPlan:
    """The forward passes that score `items`: one per item when every choice is one token."""
    forwards: list[Forward] = []
    multi_token_items = 0
    for index, (item, pairs) in enumerate(zip(items, encode_pairs(tokenizer, items), strict=True)):
        if any(not cont for _, cont in pairs):
            raise ValueError(f"item {item.doc_id}: a continuation encodes to no tokens")
        contexts = {tuple(ctx) for ctx, _ in pairs}
        if len(contexts) == 1 and all(len(cont) == 1 for _, cont in pairs):
            # (ctx + [t])[-(max_length + 1):][:-1] == ctx[-max_length:] for every choice t.
            tokens = pairs[0][0][-max_length:]
            last = len(tokens) - 1
            reads = [(index, choice, last, cont[0]) for choice, (_, cont) in enumerate(pairs)]
            forwards.append(Forward(tokens=tokens, reads=reads))
        else:
            multi_token_items += 1
            forwards.extend(_continuation_forwards(index, pairs, max_length))
    return ScoringPlan(
        forwards=_merge_identical(forwards),
        choice_counts=[len(item.continuations) for item in items],
        multi_token_items=multi_token_items,
    )


def encode_pairs(tokenizer: Any, items: Sequence[Item]) -> list[list[tuple[list[int], list[int]]]]:
    """Per item, per choice: lm-eval's `(context_enc, continuation_enc)`, in three bulk calls."""
    prefix_id = _prefix_token_id(tokenizer)
    prefix_text = tokenizer.decode(prefix_id)
    contexts: list[str] = []
    wholes: list[str] = []
    bare_continuations: list[str] = []  # continuations of empty contexts
    for item in items:
        if item.context:
            context, moved = _split_trailing_space(item.context)
            contexts.append(context)
            wholes.extend(context + moved + cont for cont in item.continuations)
        else:
            bare_continuations.extend(item.continuations)
    context_ids = iter(_encode(tokenizer, contexts, prefix_text))
    whole_ids = iter(_encode(tokenizer, wholes, prefix_text))
    bare_ids = iter(_encode(tokenizer, bare_continuations, None))
    pairs = []
    for item in items:
        if item.context:
            ctx = next(context_ids)
            pairs.append([(ctx, next(whole_ids)[len(ctx) :]) for _ in item.continuations])
        else:
            pairs.append(
                [_empty_context_pair(next(bare_ids), prefix_id) for _ in item.continuations]
            )
    return pairs


def _merge_identical(forwards: list[Forward]) -> list[Forward]:
    """One forward per distinct token sequence (repeated questions, lm-eval's "contexts" cache)."""
    merged: dict[tuple[int, ...], Forward] = {}
    for forward in forwards:
        key = tuple(forward.tokens)
        earlier = merged.get(key)
        merged[key] = (
            forward if earlier is None else Forward(forward.tokens, earlier.reads + forward.reads)
        )
    return list(merged.values())


def _continuation_forwards(
    index: int, pairs: list[tuple[list[int], list[int]]], max_length: int
) -> list[Forward]:
    """lm-eval's general case: one sequence per choice, scored on its last len(cont) positions."""
    forwards = []
    for choice, (ctx, cont) in enumerate(pairs):
        tokens = (ctx + cont)[-(max_length + 1) :][:-1]
        start = len(tokens) - len(cont)
        reads = [(index, choice, start + j, token) for j, token in enumerate(cont)]
        forwards.append(Forward(tokens=tokens, reads=reads))
    return forwards


def _split_trailing_space(context: str) -> tuple[str, str]:
    stripped = context.rstrip()
    return stripped, context[len(stripped) :]


def _prefix_token_id(tokenizer: Any) -> int:
    # lm-eval's `prefix_token_id`: BOS, else EOS.
    return tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id


def _empty_context_pair(cont: list[int], prefix_id: int) -> tuple[list[int], list[int]]:
    return ([prefix_id], cont) if cont[0] != prefix_id else (cont[:1], cont[1:])


def _encode(tokenizer: Any, texts: list[str], prefix_text: str | None) -> list[list[int]]:
    """Bulk encode. `prefix_text=None`: no special tokens at all (lm-eval's empty-context case);
    otherwise the tokenizer's default, except for texts already starting with `prefix_text`."""
    if not texts:
        return []
    if prefix_text is None:
        return tokenizer(texts, add_special_tokens=False)["input_ids"]
    own = [i for i, text in enumerate(texts) if text.startswith(prefix_text)]
    encoded = tokenizer(texts)["input_ids"]
    if own:
        plain = tokenizer([texts[i] for i in own], add_special_tokens=False)["input_ids"]
        for i, ids in zip(own, plain, strict=True):
            encoded[i] = ids
    return encoded
