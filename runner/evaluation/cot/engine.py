"""The generation engines of the reasoning track, behind one interface.

An engine turns already templated, tokenised and left-truncated prompts into generated token ids,
greedily. Everything before (chat template, lm-eval's tokenisation) and after (decoding, cutting at
the first stop string, answer extraction) is shared code, so two engines can differ only in the
ids they generate (ARCHITECTURE.md, "The reasoning track").

`hf` (transformers `generate`) is the reference on every device; `vllm` runs on CUDA only and
lives in `runner.evaluation.cot.vllm_engine`, imported here lazily and only when chosen, so that
CPU machines and `make test` never import vLLM.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from runner.errors import UsageError
from runner.results_schema import EngineInfo

EngineName = Literal["auto", "hf", "vllm"]
ENGINE_NAMES: tuple[EngineName, ...] = ("auto", "hf", "vllm")


@dataclass(frozen=True)
class GenerationRequest:
    doc_id: int  # the caller's key for this request, unique within one `generate` call
    prompt_ids: list[int]  # already chat-templated, tokenised, left-truncated


@dataclass(frozen=True)
class GenerationOutput:
    doc_id: int
    output_ids: list[int]  # generated ids, without the prompt, up to and excluding the stop token
    truncated: bool  # hit max_new_tokens


class GenerationEngine(Protocol):
    info: EngineInfo

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        *,
        max_new_tokens: int,
        stop_token_ids: Sequence[int],
    ) -> Iterator[GenerationOutput]: ...


@dataclass(frozen=True)
class ModelFiles:
    """The model an engine loads: a checked local directory of safetensors weights."""

    directory: Path
    dtype: str  # one of runner.precision.PRECISIONS
    max_length: int  # lm-eval's context window (prompt + generation)
    params: int | None = None  # safetensors parameter count, when already read


def vllm_importable() -> bool:
    """Whether vLLM is installed (it is only on GPU machines, from the GPU lock file)."""
    return importlib.util.find_spec("vllm") is not None


def resolve_engine_name(name: EngineName, device: str) -> Literal["hf", "vllm"]:
    """`auto`: vLLM on CUDA where it is installed, else transformers."""
    if name == "hf":
        return "hf"
    if name == "vllm":
        if device != "cuda":
            raise UsageError("--engine vllm: vLLM runs on CUDA only (use --device cuda)")
        if not vllm_importable():
            raise UsageError("--engine vllm: vLLM is not installed (pip install -r the GPU lock)")
        return "vllm"
    if name != "auto":
        raise UsageError(f"--engine: {name!r} is not one of {', '.join(ENGINE_NAMES)}")
    return "vllm" if device == "cuda" and vllm_importable() else "hf"


def select_engine(
    name: EngineName, device: str, model: ModelFiles, *, batch_size: int | None = None
) -> GenerationEngine:
    """The engine `name` resolves to on `device`, with `model` loaded into it; `batch_size` caps
    the transformers engine's batches (vLLM schedules its own)."""
    if resolve_engine_name(name, device) == "vllm":
        from runner.evaluation.cot.vllm_engine import VllmEngine

        return VllmEngine(model)
    from runner.evaluation.cot.hf_engine import HfEngine

    return HfEngine(model, device=device, batch_size=batch_size)
