"""The vLLM engine of the reasoning track: a thin adapter, CUDA only (ARCHITECTURE.md, "The
reasoning track").

vLLM is installed only on GPU machines (requirements/gpu.in) and imported only inside this
module's functions; `select_engine` imports this module only when vLLM was chosen, so CPU machines
and `make test` never import vLLM. The adapter translates, and decides nothing the transformers
engine decides differently: it gets the very token ids the shared code built (chat template,
lm-eval's tokenisation, left truncation), decodes greedily (`temperature=0`) up to
`max_new_tokens`, stops at the same stop ids, and hands back token ids, never text: decoding, the
cut at the first stop string and answer extraction are shared. vLLM adds continuous batching,
prefix caching (every prompt of a task starts with the same template and instruction) and tensor
parallelism over the runner's GPUs for a model whose weights do not fit one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from runner.errors import UserError
from runner.evaluation.cot.engine import GenerationOutput, GenerationRequest, ModelFiles
from runner.evaluation.engine.loading import safetensors_param_count
from runner.results_schema import EngineInfo

# The weights may take this share of the GPU memory they are spread over; the rest is KV cache for
# thousands of generated tokens per sequence, which vLLM needs far more of than scoring does.
_WEIGHT_SHARE_OF_GPU_MEMORY = 0.5
_GPU_MEMORY_UTILIZATION = 0.9  # vLLM's own default: what it may claim of each GPU
_REQUESTS_PER_CALL = 1024  # one `generate` call's share: progress and resume between calls
_BYTES_PER_PARAMETER = {"float16": 2, "bfloat16": 2, "float32": 4}


class VllmEngine:
    """`GenerationEngine` on vLLM: the model loaded once, on every GPU it needs."""

    def __init__(self, model: ModelFiles) -> None:
        import torch
        import vllm

        gpus = torch.cuda.device_count()
        gpu_bytes = torch.cuda.get_device_properties(0).total_memory
        params = (
            model.params if model.params is not None else safetensors_param_count(model.directory)
        )
        weight_bytes = params * _BYTES_PER_PARAMETER[model.dtype]
        self._generation_knobs = generation_knobs(model.directory)  # refused before loading
        self.info = EngineInfo(name="vllm", version=vllm.__version__)
        self._vllm = vllm
        tensor_parallel = tensor_parallel_size(weight_bytes, gpu_bytes, gpus)
        self._llm = vllm.LLM(**llm_arguments(model, tensor_parallel))

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        *,
        max_new_tokens: int,
        stop_token_ids: Sequence[int],
    ) -> Iterator[GenerationOutput]:
        arguments = sampling_arguments(max_new_tokens, stop_token_ids, self._generation_knobs)
        params = self._vllm.SamplingParams(**arguments)
        for start in range(0, len(requests), _REQUESTS_PER_CALL):
            chunk = requests[start : start + _REQUESTS_PER_CALL]
            prompts = [self._vllm.TokensPrompt(prompt_token_ids=list(r.prompt_ids)) for r in chunk]
            outputs = self._llm.generate(prompts, params, use_tqdm=False)
            for request, output in zip(chunk, outputs, strict=True):
                yield generation_output(request.doc_id, output.outputs[0], stop_token_ids)


def llm_arguments(model: ModelFiles, tensor_parallel: int) -> dict[str, Any]:
    """`vllm.LLM`'s arguments: the local, already verified safetensors checkout, no custom code."""
    return {
        "model": str(model.directory),  # a local directory at the pinned revision
        "tokenizer": str(model.directory),
        "dtype": model.dtype,
        "trust_remote_code": False,
        "load_format": "safetensors",
        "enable_prefix_caching": True,
        "tensor_parallel_size": tensor_parallel,
        "max_model_len": model.max_length,  # lm-eval's window: prompts are cut to fit it
        "gpu_memory_utilization": _GPU_MEMORY_UTILIZATION,
        "seed": 0,
        # The sampling parameters are given in full (`sampling_arguments`, with the knobs of the
        # model's generation_config.json that transformers applies); vLLM reads none itself.
        "generation_config": "vllm",
    }


def sampling_arguments(
    max_new_tokens: int, stop_token_ids: Sequence[int], knobs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Greedy decoding to `max_new_tokens`, stopping at exactly the transformers engine's ids,
    with the model's `knobs` (`generation_knobs`)."""
    return {
        **(knobs or {}),
        "temperature": 0.0,  # greedy: vLLM's argmax, as `do_sample=False`
        "max_tokens": max_new_tokens,
        "stop_token_ids": list(stop_token_ids),
        "detokenize": False,  # ids only: the text is decoded by the shared code
        "skip_special_tokens": False,
        "n": 1,
    }


# generation_config.json settings that transformers' greedy `generate` applies, and vLLM's name
# for each; with its default value, a setting changes nothing and is left out.
_KNOBS = {"repetition_penalty": ("repetition_penalty", 1.0), "min_new_tokens": ("min_tokens", 0)}
# Settings that change greedy decoding in transformers and that vLLM cannot reproduce.
_UNSUPPORTED = (
    "no_repeat_ngram_size",
    "encoder_repetition_penalty",
    "bad_words_ids",
    "suppress_tokens",
    "begin_suppress_tokens",
    "sequence_bias",
    "min_length",
)


def generation_knobs(directory: Path) -> dict[str, Any]:
    """vLLM's arguments for the model's generation_config.json settings that transformers applies
    when decoding greedily; a `UserError` for one vLLM cannot apply (use `--engine hf`)."""
    path = Path(directory) / "generation_config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"{path}: not readable JSON ({type(err).__name__})") from None
    for name in _UNSUPPORTED:
        if config.get(name) not in (None, 0, 1.0, [], {}):
            raise UserError(
                f"{path}: {name} is set, which vLLM cannot apply as transformers does; "
                "use --engine hf"
            )
    return {
        vllm_name: config[name]
        for name, (vllm_name, default) in _KNOBS.items()
        if config.get(name) not in (None, default)
    }


def generation_output(
    doc_id: int, completion: Any, stop_token_ids: Sequence[int]
) -> GenerationOutput:
    """One vLLM `CompletionOutput` as a `GenerationOutput`: vLLM keeps the stop id it stopped at
    in `token_ids`; the interface excludes it, as transformers' output once cut does."""
    ids = list(completion.token_ids)
    if completion.finish_reason == "stop" and ids and ids[-1] in set(stop_token_ids):
        ids = ids[:-1]
    return GenerationOutput(doc_id, ids, truncated=completion.finish_reason == "length")


def tensor_parallel_size(weight_bytes: int, gpu_bytes: int, gpus: int) -> int:
    """The fewest GPUs (a power of two, so that the attention heads divide evenly) whose memory
    holds the weights with room for the KV cache; the most such GPUs when none is enough (vLLM
    then says that the model does not fit)."""
    size = 1
    while size * 2 <= gpus and weight_bytes > _WEIGHT_SHARE_OF_GPU_MEMORY * size * gpu_bytes:
        size *= 2
    return max(1, size)
