"""The reference generation engine: transformers `generate`, greedy, on CPU or CUDA.

Requests are sorted longest first (so out-of-memory shows at once, and lm-eval's order), packed
into batches by a token budget (prompt + `max_new_tokens` per row), left-padded with an attention
mask and decoded with the KV cache; on CUDA an out-of-memory error halves the budget and retries
the same rows. The model's own `generation_config` (repetition penalty and the like) applies, as
it does under lm-eval, except that decoding is greedy and stops at `stop_token_ids`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from importlib.metadata import version
from typing import Any

from runner.evaluation.cot.engine import GenerationOutput, GenerationRequest, ModelFiles
from runner.evaluation.engine import TokenBudget, default_token_budget, load_model_dir
from runner.evaluation.engine.batch import release_cuda_memory
from runner.evaluation.engine.batching import CUDA_TOKEN_BUDGET
from runner.results_schema import EngineInfo

# Tokens (prompt + max_new_tokens per row) one `generate` batch may hold. On CPU a decoding step
# costs little more for 16 rows than for 4, so generation packs wider than scoring's 2048.
CPU_GENERATION_BUDGET = 8192


class HfEngine:
    """`GenerationEngine` on transformers: the reference everywhere (ARCHITECTURE.md, "The
    reasoning track")."""

    def __init__(
        self,
        model: ModelFiles,
        *,
        device: str = "cpu",
        batch_size: int | None = None,
        loaded: Any = None,
    ) -> None:
        self.lm = loaded or load_model_dir(
            model.directory, device=device, dtype=model.dtype, params=model.params
        )
        self.info = EngineInfo(name="hf", version=version("transformers"))
        self.budget: TokenBudget = (
            default_token_budget(self.lm, batch_size)
            if batch_size is not None
            else TokenBudget(
                tokens=CUDA_TOKEN_BUDGET
                if self.lm.input_device.type == "cuda"
                else CPU_GENERATION_BUDGET
            )
        )

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        *,
        max_new_tokens: int,
        stop_token_ids: Sequence[int],
    ) -> Iterator[GenerationOutput]:
        """Outputs in longest-prompt-first order, batch by batch."""
        import torch

        order = sorted(requests, key=lambda r: -len(r.prompt_ids))
        start = 0
        while start < len(order):
            longest = len(order[start].prompt_ids) + max_new_tokens
            batch = order[start : start + self.budget.batch_size_for(longest)]
            outputs = None
            try:
                self.budget.before_forward(len(batch), len(batch) * longest)
                outputs = self._generate_batch(batch, max_new_tokens, stop_token_ids)
            except torch.OutOfMemoryError:
                pass  # handled below, once the exception (and the frames holding memory) is gone
            if outputs is None:
                release_cuda_memory()
                self.budget.shrink(len(batch), longest)
                continue
            yield from outputs
            start += len(batch)

    def _generate_batch(
        self, batch: Sequence[GenerationRequest], max_new_tokens: int, stops: Sequence[int]
    ) -> list[GenerationOutput]:
        import torch

        tokenizer = self.lm.tokenizer
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stops[0]
        width = max(len(r.prompt_ids) for r in batch)
        ids = [[pad] * (width - len(r.prompt_ids)) + list(r.prompt_ids) for r in batch]
        mask = [[0] * (width - len(r.prompt_ids)) + [1] * len(r.prompt_ids) for r in batch]
        device = self.lm.input_device
        with torch.inference_mode():
            generated = self.lm.model.generate(
                input_ids=torch.tensor(ids, device=device),
                attention_mask=torch.tensor(mask, device=device),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                eos_token_id=list(stops),
                pad_token_id=pad,
                use_cache=True,
            )
        return [
            _output(request, row[width:], stops, max_new_tokens)
            for request, row in zip(batch, generated.tolist(), strict=True)
        ]


def _output(
    request: GenerationRequest, new_ids: list[int], stops: Sequence[int], max_new_tokens: int
) -> GenerationOutput:
    """The row's generated ids up to (excluding) its first stop token."""
    stop_set = set(stops)
    for index, token in enumerate(new_ids):
        if token in stop_set:
            return GenerationOutput(request.doc_id, new_ids[:index], truncated=False)
    return GenerationOutput(request.doc_id, new_ids, truncated=len(new_ids) >= max_new_tokens)
