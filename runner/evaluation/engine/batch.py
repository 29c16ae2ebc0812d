"""One batch: a padded forward pass with the LM head run only at the positions that are read.

Exactness of the head gathering, the right padding and the shared-prefix continuation: the
package docstring (`runner.evaluation.engine`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runner.evaluation.engine.loading import LoadedModel
from runner.evaluation.engine.requests import Forward

if TYPE_CHECKING:
    from runner.evaluation.engine.prefix_cache import SharedPrefix


def run_batch(
    lm: LoadedModel, batch: list[Forward], prefix: SharedPrefix | None = None
) -> list[tuple[int, int, float]]:
    """One padded forward pass: `(item, choice, log-likelihood)` for the choices it scores.
    With a shared prefix only the tokens after it are input; the cache stands for the rest."""
    import torch

    skip = 0 if prefix is None else prefix.length
    width = max(len(f.tokens) for f in batch) - skip
    pad_id = lm.tokenizer.pad_token_id
    pad_id = 0 if pad_id is None else pad_id
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(batch), skip + width), dtype=torch.long)
    rows: list[int] = []
    cols: list[int] = []
    read_rows: list[list[int]] = []  # per sequence: index into the gathered positions per read
    for r, forward in enumerate(batch):
        input_ids[r, : len(forward.tokens) - skip] = torch.tensor(
            forward.tokens[skip:], dtype=torch.long
        )
        attention_mask[r, : len(forward.tokens)] = 1
        slot = {}
        for position in forward.positions:
            slot[position] = len(rows)
            rows.append(r)
            cols.append(position - skip)
        read_rows.append([slot[position] for _, _, position, _ in forward.reads])
    input_ids = input_ids.to(lm.input_device)
    attention_mask = attention_mask.to(lm.input_device)

    def model_inputs() -> dict[str, Any]:
        if prefix is None:
            return {"input_ids": input_ids, "attention_mask": attention_mask, "use_cache": False}
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            prefix.argument: prefix.cache_for(len(batch)),
            "use_cache": True,
        }

    logits = _logits_at(lm, model_inputs, rows, cols)
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    flat_rows = torch.tensor([k for ks in read_rows for k in ks], device=logprobs.device)
    flat_tokens = torch.tensor(
        [token for f in batch for _, _, _, token in f.reads], device=logprobs.device
    )
    picked = logprobs[flat_rows, flat_tokens].cpu()
    values: list[tuple[int, int, float]] = []
    offset = 0
    for forward in batch:
        values.extend(forward.sum_by_choice(picked[offset : offset + len(forward.reads)]))
        offset += len(forward.reads)
    return values


def _logits_at(
    lm: LoadedModel, model_inputs: Callable[[], dict[str, Any]], rows: list[int], cols: list[int]
):
    """Logits `[len(rows), vocab]` at (row, position) pairs, with the LM head run only there.

    `model_inputs()` gives the forward's keyword arguments, fresh for each call (a KV cache is
    extended by the pass that uses it). A forward pre-hook on the output embedding replaces its
    input `[batch, seq, hidden]` by the gathered rows, so everything the model does after its head
    (e.g. Gemma's logit soft-capping) still applies. If a model computes logits without calling
    its output embedding, or reshapes them, the forward runs again without the hook and the full
    logits are gathered: slower, same numbers.
    """
    import torch

    head = lm.model.get_output_embeddings()
    if head is not None:
        gathered = _forward_with_gathered_head(lm.model, head, model_inputs(), rows, cols)
        if gathered is not None:
            return gathered
    logits = lm.model(**model_inputs()).logits
    device = logits.device
    return logits[torch.tensor(rows, device=device), torch.tensor(cols, device=device)]


def _forward_with_gathered_head(
    model: Any, head: Any, inputs: dict[str, Any], rows: list[int], cols: list[int]
):
    import torch

    calls = []

    def gather_positions(module: Any, args: tuple) -> tuple:
        hidden = args[0]
        calls.append(hidden.shape)
        index_rows = torch.tensor(rows, device=hidden.device)
        index_cols = torch.tensor(cols, device=hidden.device)
        return (hidden[index_rows, index_cols].unsqueeze(0), *args[1:])

    handle = head.register_forward_pre_hook(gather_positions)
    try:
        logits = model(**inputs).logits
    finally:
        handle.remove()
    if len(calls) == 1 and logits.shape[:2] == (1, len(rows)):
        return logits[0]
    return None


def release_cuda_memory() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
