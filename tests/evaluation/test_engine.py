"""The engine scores exactly what lm-eval's HFLM scores, in fewer and cheaper forward passes.

The reference is lm-eval 0.4.13's own `HFLM.loglikelihood` on the same tiny model, called on
hand-made (context, continuation) pairs that reach every branch of its request handling: one-token
and several-token continuations, trailing context spaces, an empty context, a context that already
starts with the BOS text, contexts longer than the model's window (left truncation), and items that
share a long prefix (MMLU's description), which the engine runs once and continues from its cache.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from runner.errors import UsageError, UserError
from runner.evaluation import engine
from runner.evaluation.engine import prefix_cache
from runner.evaluation.task_data import SAMPLE_DATA_DIR, load_task_rows
from runner.evaluation.tasks import TASKS, Item, build_items

TOLERANCE = 1e-4
LONG = "The patient reports chest pain radiating to the left arm and shortness of breath. " * 12

EDGE_ITEMS = [
    Item(0, "Question: Which organ makes insulin?\nAnswer:", (" A", " B", " C", " D"), 0, None),
    Item(1, "The patient has a fever ", ("and a cough", "and nothing at all", "x"), 1, None),
    Item(2, "", (" yes", " no", " maybe"), 0, None),
    Item(3, "<s>Question: Is the liver an organ?\nAnswer:", (" yes", " no"), 0, None),
    Item(4, f"Abstract: {LONG}\nAnswer:", (" yes", " no", " maybe"), 2, None),
    Item(5, f"Abstract: {LONG}\nAnswer:", (" very likely so", " no"), 1, None),
    Item(6, "Question: Pick one.\nAnswer:", (" A", " the second option"), 0, None),
]

# MMLU-style items short enough for the fixtures' 96-token window (the bundled MMLU rows are
# longer, and a left-truncated context no longer starts with the description).
DESCRIPTION = "The following are multiple choice questions (with answers) about anatomy.\n\n"
PREFIXED_ITEMS = [
    Item(0, DESCRIPTION + "Which organ makes insulin?\nA. Liver\nB. Pancreas\nC. Heart\nD. Lung"
         "\nAnswer:", (" A", " B", " C", " D"), 1, None),
    Item(1, DESCRIPTION + "Where is the femur?\nA. Leg\nB. Arm\nAnswer:", (" A", " B"), 0, None),
    Item(2, DESCRIPTION + "Is the liver an organ?\nAnswer:", (" yes", " no", " maybe"), 0, None),
    Item(3, DESCRIPTION + "The heart pumps\nAnswer:", (" blood through the body", " air"), 0, None),
]  # fmt: skip


@pytest.fixture(scope="module", params=["engine_llama", "engine_gpt2"])
def model_dir(request) -> Path:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def lm(model_dir: Path) -> engine.LoadedModel:
    return engine.load_model(model_dir)


def sample_items(task: str) -> list[Item]:
    spec = TASKS[task]
    return build_items(spec, load_task_rows(spec, SAMPLE_DATA_DIR).rows)


def lm_eval_loglikelihoods(model_dir: Path, items: list[Item]) -> list[list[float]]:
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    hflm = HFLM(pretrained=str(model_dir), dtype="float32", batch_size=4, device="cpu")
    requests = [
        Instance("loglikelihood", {}, (item.context, cont), index)
        for item in items
        for index, cont in enumerate(item.continuations)
    ]
    flat = iter(ll for ll, _ in hflm.loglikelihood(requests, disable_tqdm=True))
    return [[next(flat) for _ in item.continuations] for item in items]


def flat(rows: list[list[float]]) -> list[float]:
    return [x for row in rows for x in row]


def argmax(row: list[float]) -> int:
    return max(range(len(row)), key=lambda i: (row[i], -i))


def test_edge_cases_match_lm_eval(model_dir, lm):
    ours = engine.score_items(lm, EDGE_ITEMS)
    reference = lm_eval_loglikelihoods(model_dir, EDGE_ITEMS)
    for item, mine, theirs in zip(EDGE_ITEMS, ours, reference, strict=True):
        assert mine == pytest.approx(theirs, abs=TOLERANCE), f"item {item.doc_id}"
        assert argmax(mine) == argmax(theirs)
    # The long contexts really exceeded the 96-token window (the truncation branch ran).
    assert len(lm.tokenizer(EDGE_ITEMS[4].context)["input_ids"]) > lm.max_length == 96


def test_single_token_choices_take_one_forward_row_and_one_head_row_per_item(lm):
    items = sample_items("medqa_4options") + sample_items("mmlu_anatomy")
    forward_rows, head_rows = [], []
    hooks = [
        lm.model.register_forward_hook(lambda m, args, kw, out: forward_rows.append(
            kw["input_ids"].shape[0]), with_kwargs=True),
        lm.model.get_output_embeddings().register_forward_hook(
            lambda m, args, out: head_rows.append(args[0].shape[:-1].numel())
        ),
    ]  # fmt: skip
    try:
        scores = engine.score_task(lm, items)
    finally:
        for hook in hooks:
            hook.remove()
    assert scores.multi_token_items == 0
    assert sum(forward_rows) == len(items)  # one sequence per question, not one per choice
    assert sum(head_rows) == len(items)  # the vocabulary projection ran at one position each
    assert [len(row) for row in scores.choice_logprobs] == [4] * len(items)


def test_multi_token_choices_are_scored_one_sequence_per_choice(lm):
    plan = engine.plan_requests(lm.tokenizer, EDGE_ITEMS, lm.max_length)
    multi = [i for i, item in enumerate(EDGE_ITEMS) if item.doc_id in (1, 5, 6)]
    per_item = [sum(1 for f in plan.forwards if i in f.items) for i in range(len(EDGE_ITEMS))]
    for i in multi:
        assert per_item[i] == len(EDGE_ITEMS[i].continuations)
    assert per_item[0] == per_item[4] == 1
    assert all(len(f.tokens) <= lm.max_length for f in plan.forwards)


@pytest.mark.parametrize("shared_prefix", [False, True])
def test_models_whose_head_cannot_be_hooked_fall_back_to_full_logits(
    lm, monkeypatch, shared_prefix
):
    items = PREFIXED_ITEMS if shared_prefix else sample_items("medqa_4options") + EDGE_ITEMS
    plan = engine.plan_requests(lm.tokenizer, items, lm.max_length)
    assert bool(engine.shared_prefix_length(plan.forwards)) == shared_prefix
    gathered = engine.score_items(lm, items)
    monkeypatch.setattr(lm.model, "get_output_embeddings", lambda: None)
    assert flat(engine.score_items(lm, items)) == pytest.approx(flat(gathered), abs=1e-5)


def test_repeated_questions_run_once_and_score_the_same(lm):
    items = sample_items("medmcqa")
    repeated = items + [
        Item(len(items) + i, it.context, it.continuations, it.gold, it.subject)
        for i, it in enumerate(items)
    ]
    plan = engine.plan_requests(lm.tokenizer, repeated, lm.max_length)
    assert len(plan.forwards) == len(items)
    scores = engine.score_items(lm, repeated)
    assert scores[: len(items)] == scores[len(items) :]


def tokens_run(lm, score) -> tuple[object, int]:
    """`score()`'s result and the tokens the model computed (inputs that the mask keeps)."""
    counted: list[int] = []

    def count(module, args, kwargs):
        width = kwargs["input_ids"].shape[1]  # the mask also covers a cached prefix: skip it
        counted.append(int(kwargs["attention_mask"][:, -width:].sum()))

    hook = lm.model.register_forward_pre_hook(count, with_kwargs=True)
    try:
        return score(), sum(counted)
    finally:
        hook.remove()


def test_shared_prefix_runs_once_and_matches_lm_eval(model_dir, lm):
    engine.score_task(lm, PREFIXED_ITEMS)  # the model's one-time cache check runs here
    assert lm.prefix_cache.agrees is True
    shared, shared_tokens = tokens_run(lm, lambda: engine.score_task(lm, PREFIXED_ITEMS))
    whole, whole_tokens = tokens_run(
        lm, lambda: engine.score_task(lm, PREFIXED_ITEMS, share_prefix=False)
    )
    plan = engine.plan_requests(lm.tokenizer, PREFIXED_ITEMS, lm.max_length)
    prefix = engine.shared_prefix_length(plan.forwards)
    assert prefix >= len(lm.tokenizer(DESCRIPTION.rstrip())["input_ids"]) - 1
    assert plan.multi_token_items >= 1  # both the one-pass and the per-choice paths share it
    assert shared_tokens == whole_tokens - (len(plan.forwards) - 1) * prefix
    assert (shared.model_tokens, whole.model_tokens) == (shared_tokens, whole_tokens)
    reference = lm_eval_loglikelihoods(model_dir, PREFIXED_ITEMS)
    for mine, plain, theirs in zip(
        shared.choice_logprobs, whole.choice_logprobs, reference, strict=True
    ):
        assert mine == pytest.approx(theirs, abs=TOLERANCE)
        assert mine == pytest.approx(plain, abs=1e-5)
        assert argmax(mine) == argmax(theirs)


def test_a_cache_that_disagrees_with_full_passes_is_never_used(model_dir, monkeypatch):
    lm = engine.load_model(model_dir)  # a fresh model: its cache has not been checked yet
    whole = engine.score_items(lm, PREFIXED_ITEMS, share_prefix=False)
    run_prefix = prefix_cache.run_prefix
    # A cache of other tokens than the prefix: the one-time check must catch the difference.
    monkeypatch.setattr(prefix_cache, "run_prefix", lambda lm, tokens: run_prefix(lm, tokens[::-1]))
    assert engine.score_items(lm, PREFIXED_ITEMS) == whole
    assert lm.prefix_cache.agrees is False
    _, tokens = tokens_run(lm, lambda: engine.score_items(lm, PREFIXED_ITEMS))
    plan = engine.plan_requests(lm.tokenizer, PREFIXED_ITEMS, lm.max_length)
    assert tokens == sum(len(f.tokens) for f in plan.forwards)


@dataclass
class SimulatedDevice(engine.TokenBudget):
    """A device that runs out of memory on any batch above `memory_tokens` padded tokens."""

    memory_tokens: int = 0

    def before_forward(self, sequences: int, padded_tokens: int) -> None:
        if padded_tokens > self.memory_tokens:
            raise torch.OutOfMemoryError(f"simulated: {padded_tokens} > {self.memory_tokens}")


def test_out_of_memory_halves_the_budget_and_gives_the_same_scores(lm):
    items = sample_items("pubmedqa") + sample_items("medmcqa")
    reference = engine.score_items(lm, items, token_budget=100_000)
    device = SimulatedDevice(tokens=100_000, memory_tokens=300)
    scores = engine.score_items(lm, items, token_budget=device)
    assert device.backoffs >= 2
    assert device.tokens <= 300
    # Same numbers up to float32 rounding (other batch shapes), and the same answers.
    assert flat(scores) == pytest.approx(flat(reference), abs=1e-5)
    assert [argmax(r) for r in scores] == [argmax(r) for r in reference]


def test_out_of_memory_on_a_single_sequence_is_a_user_error(lm):
    with pytest.raises(UserError, match="single sequence"):
        engine.score_items(lm, sample_items("pubmedqa"), token_budget=SimulatedDevice(
            tokens=4096, memory_tokens=5))  # fmt: skip


def test_fixed_batch_size_caps_sequences_per_forward(lm):
    items = sample_items("mmlu_college_biology")
    rows: list[int] = []
    hook = lm.model.register_forward_hook(
        lambda m, args, kw, out: rows.append(kw["input_ids"].shape[0]), with_kwargs=True
    )
    try:
        scores = engine.score_items(
            lm, items, token_budget=engine.default_token_budget(lm, 3), share_prefix=False
        )
    finally:
        hook.remove()
    assert max(rows) == 3 and sum(rows) == len(items)
    assert flat(scores) == pytest.approx(flat(engine.score_items(lm, items)), abs=1e-5)


def test_model_dir_without_safetensors_is_refused(engine_llama, tmp_path):
    broken = tmp_path / "no-weights"
    shutil.copytree(engine_llama, broken, ignore=shutil.ignore_patterns("*.safetensors"))
    with pytest.raises(UserError, match=r"no-weights: no \*\.safetensors"):
        engine.load_model(broken)


def test_hub_id_needs_a_pinned_revision():
    with pytest.raises(UsageError, match="needs --revision"):
        engine.load_model("some-org/some-model")


def test_max_length_follows_lm_eval(engine_llama, engine_gpt2):
    from lm_eval.models.utils import resolve_max_length
    from transformers import AutoConfig, AutoTokenizer

    for model_dir in (engine_llama, engine_gpt2):
        config = AutoConfig.from_pretrained(model_dir)
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        assert engine.lm_eval_max_length(config, tokenizer) == resolve_max_length(
            config, tokenizer, default=2048
        )
