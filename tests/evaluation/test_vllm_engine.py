"""The vLLM adapter: never imported where vLLM is absent, and a faithful translation where present.

vLLM needs CUDA, so it is never installed for `make test`. Two things are still checked here:
the import graph (only `vllm_engine` names vLLM, only inside functions, and only `select_engine`
imports `vllm_engine`, lazily), and the adapter's translation, against a module in `sys.modules`
that has vLLM's documented surface (`LLM`, `SamplingParams`, `TokensPrompt`, `CompletionOutput`'s
`token_ids` and `finish_reason`) and records what it was given. What vLLM then generates is
vLLM's business, measured on a GPU (bench/README.md).
"""

from __future__ import annotations

import ast
import json
import sys
import types
from pathlib import Path
from types import SimpleNamespace

import pytest

from runner.errors import UserError
from runner.evaluation.cot.engine import GenerationRequest, ModelFiles

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = "runner.evaluation.cot.vllm_engine"


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, inside a function) for every import statement of a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((alias.name, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.append((child.module, in_function))
            visit(child, nested)

    visit(tree, False)
    return found


def _python_files() -> list[Path]:
    return sorted([*(ROOT / "runner").rglob("*.py"), *(ROOT / "tests").rglob("*.py")])


def test_only_the_adapter_imports_vllm_and_only_inside_its_functions():
    importers = {}
    for path in _python_files():
        for module, lazy in _imports(path):
            if module == "vllm" or module.startswith("vllm."):
                importers.setdefault(str(path.relative_to(ROOT)), set()).add(lazy)
    assert importers == {"runner/evaluation/cot/vllm_engine.py": {True}}


def test_only_select_engine_imports_the_adapter_lazily():
    importers = {}
    for path in (ROOT / "runner").rglob("*.py"):
        for module, lazy in _imports(path):
            if module == ADAPTER:
                importers.setdefault(str(path.relative_to(ROOT)), set()).add(lazy)
    assert importers == {"runner/evaluation/cot/engine.py": {True}}


def test_importing_every_runner_module_leaves_vllm_unimported():
    import importlib

    for path in sorted((ROOT / "runner").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] != "__main__":
            importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    assert "vllm" not in sys.modules


class FakeVllm(types.ModuleType):
    """vLLM's surface as the adapter uses it; generates `script[doc's first prompt id]`."""

    __version__ = "0.0.test"

    def __init__(self, script: dict[int, tuple[list[int], str]]):
        super().__init__("vllm")
        self.llm_kwargs: dict = {}
        self.sampling_kwargs: list[dict] = []
        self.prompts: list = []
        fake = self

        class LLM:
            def __init__(self, **kwargs):
                fake.llm_kwargs = kwargs

            def generate(self, prompts, params, use_tqdm=True):
                fake.prompts.extend(prompts)
                return [
                    SimpleNamespace(
                        outputs=[
                            SimpleNamespace(
                                token_ids=tuple(script[p["prompt_token_ids"][0]][0]),
                                finish_reason=script[p["prompt_token_ids"][0]][1],
                            )
                        ]
                    )
                    for p in prompts
                ]

        def sampling_params(**kwargs):
            fake.sampling_kwargs.append(kwargs)
            return kwargs

        self.LLM = LLM
        self.SamplingParams = sampling_params
        self.TokensPrompt = dict  # a TypedDict in vLLM: calling it makes a plain dict


@pytest.fixture
def fake_vllm(monkeypatch, tmp_path):
    import torch

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    props = SimpleNamespace(total_memory=80 * 2**30)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: props)
    script = {
        7: ([11, 12, 2], "stop"),  # ends at a stop id, which vLLM keeps in token_ids
        8: ([13, 14, 15], "length"),  # hit max_new_tokens
        9: ([2, 16], "stop"),  # a stop id inside the text is not the one it stopped at
    }
    module = FakeVllm(script)
    monkeypatch.setitem(sys.modules, "vllm", module)
    return module


def _engine(tmp_path, params: int):
    from runner.evaluation.cot.vllm_engine import VllmEngine

    model = ModelFiles(tmp_path, dtype="bfloat16", max_length=8192, params=params)
    return VllmEngine(model)


def test_the_adapter_loads_the_local_safetensors_checkout_without_custom_code(fake_vllm, tmp_path):
    engine = _engine(tmp_path, params=8_000_000_000)
    kwargs = fake_vllm.llm_kwargs
    assert kwargs["model"] == str(tmp_path) and kwargs["tokenizer"] == str(tmp_path)
    assert kwargs["trust_remote_code"] is False
    assert kwargs["load_format"] == "safetensors"
    assert kwargs["enable_prefix_caching"] is True
    assert kwargs["dtype"] == "bfloat16" and kwargs["max_model_len"] == 8192
    assert kwargs["tensor_parallel_size"] == 1  # 16 GB of weights fit one 80 GiB GPU
    assert engine.info.name == "vllm" and engine.info.version == "0.0.test"


def test_a_model_too_big_for_one_gpu_is_spread_over_the_fewest_that_hold_it(fake_vllm, tmp_path):
    _engine(tmp_path, params=70_000_000_000)  # 140 GB of bf16 weights, 4 GPUs of 80 GiB
    assert fake_vllm.llm_kwargs["tensor_parallel_size"] == 4
    _engine(tmp_path, params=30_000_000_000)  # 60 GB: two GPUs leave room for the KV cache
    assert fake_vllm.llm_kwargs["tensor_parallel_size"] == 2


def test_the_same_ids_go_in_greedy_and_ids_come_out_without_the_stop_token(fake_vllm, tmp_path):
    engine = _engine(tmp_path, params=1000)
    requests = [
        GenerationRequest(doc_id=0, prompt_ids=[7, 1, 1]),
        GenerationRequest(doc_id=1, prompt_ids=[8]),
        GenerationRequest(doc_id=2, prompt_ids=[9, 3]),
    ]
    outputs = list(engine.generate(requests, max_new_tokens=3, stop_token_ids=[2, 5]))
    assert [p["prompt_token_ids"] for p in fake_vllm.prompts] == [[7, 1, 1], [8], [9, 3]]
    (sampling,) = fake_vllm.sampling_kwargs
    assert sampling["temperature"] == 0.0 and sampling["max_tokens"] == 3
    assert sampling["stop_token_ids"] == [2, 5] and sampling.get("n", 1) == 1
    assert [(o.doc_id, o.output_ids, o.truncated) for o in outputs] == [
        (0, [11, 12], False),
        (1, [13, 14, 15], True),
        (2, [2, 16], False),
    ]


def test_the_models_generation_config_knobs_apply_as_in_transformers(fake_vllm, tmp_path):
    from runner.evaluation.cot.vllm_engine import VllmEngine

    config = {"eos_token_id": [1, 4], "repetition_penalty": 1.1, "min_new_tokens": 0}
    (tmp_path / "generation_config.json").write_text(json.dumps(config))
    engine = VllmEngine(ModelFiles(tmp_path, dtype="bfloat16", max_length=512, params=1000))
    list(engine.generate([GenerationRequest(0, [7])], max_new_tokens=8, stop_token_ids=[1, 4]))
    (sampling,) = fake_vllm.sampling_kwargs
    assert sampling["repetition_penalty"] == 1.1 and "min_tokens" not in sampling
    assert sampling["temperature"] == 0.0 and sampling["stop_token_ids"] == [1, 4]


def test_a_generation_setting_vllm_cannot_reproduce_is_refused_before_loading(fake_vllm, tmp_path):
    from runner.evaluation.cot.vllm_engine import VllmEngine

    (tmp_path / "generation_config.json").write_text(json.dumps({"no_repeat_ngram_size": 3}))
    with pytest.raises(UserError, match=r"no_repeat_ngram_size is set, .* use --engine hf"):
        VllmEngine(ModelFiles(tmp_path, dtype="bfloat16", max_length=512, params=1000))
    assert fake_vllm.llm_kwargs == {}  # vLLM never loaded the model
