"""Shared pytest fixtures. Each block below belongs to one area; add new ones as separate blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

# ---- validation: one tiny real model directory, built once per session -----------------------


@pytest.fixture(scope="session")
def validation_tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete tiny Llama checkpoint (safetensors, fast tokenizer); copy it to break it."""
    from runner.evaluation.tiny_models import TinyModelSpec, build_tiny_model

    spec = TinyModelSpec(vocab_size=300, hidden_size=32, layers=1, heads=2, intermediate_size=64)
    return build_tiny_model(tmp_path_factory.mktemp("validation-tiny-llama"), spec)


# ---- lm-eval reference: lm-eval's own task objects on the bundled sample rows -----------------


@pytest.fixture(scope="session")
def lmeval_task_manager(tmp_path_factory: pytest.TempPathFactory):
    """lm-eval's TaskManager, with the nine reference tasks of tests/lmeval_reference.py and the
    letter tasks' rotated rows (rotations 1-3) as tasks of their own; one index for both."""
    from lmeval_reference import make_task_manager

    from runner.evaluation.task_data import SAMPLE_DATA_DIR

    return make_task_manager(
        SAMPLE_DATA_DIR,
        tmp_path_factory.mktemp("lmeval-task-yamls"),
        rotated_dir=tmp_path_factory.mktemp("lmeval-rotated-rows"),
    )


# ---- pipeline (results merge/publish, rehearsal): a tiny model and its full sample-data run ----


@pytest.fixture(scope="session")
def pipeline_tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny GPT-2 checkpoint (no BOS token) for the pipeline tests; read-only."""
    from runner.evaluation.tiny_models import TinyModelSpec, build_tiny_model

    spec = TinyModelSpec(arch="gpt2", seed=3, vocab_size=400, hidden_size=32, layers=1, heads=2)
    return build_tiny_model(tmp_path_factory.mktemp("pipeline-tiny-gpt2"), spec)


@pytest.fixture(scope="session")
def pipeline_full_run(tmp_path_factory: pytest.TempPathFactory, pipeline_tiny_model: Path) -> Path:
    """`medlb evaluate` of `pipeline_tiny_model` on all nine sample tasks, in one run; read-only."""
    from runner.cli import main
    from runner.evaluation.tiny_models import SAMPLE_DATA_DIR

    out = tmp_path_factory.mktemp("pipeline-full-run") / "run"
    argv = ["evaluate", "--model", str(pipeline_tiny_model), "--data-dir", str(SAMPLE_DATA_DIR)]
    assert main([*argv, "--no-progress", "--output", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def pipeline_rotations_run(
    tmp_path_factory: pytest.TempPathFactory, pipeline_tiny_model: Path
) -> Path:
    """The same run as `pipeline_full_run`, with `--rotations`; read-only."""
    from runner.cli import main
    from runner.evaluation.tiny_models import SAMPLE_DATA_DIR

    out = tmp_path_factory.mktemp("pipeline-rotations-run") / "run"
    argv = ["evaluate", "--model", str(pipeline_tiny_model), "--data-dir", str(SAMPLE_DATA_DIR)]
    assert main([*argv, "--rotations", "--no-progress", "--output", str(out)]) == 0
    return out


# Figures tests record with `record_property(name, line)`, printed in the terminal summary.
SUMMARY_SECTIONS = {
    "lm_eval_parity": "lm-eval parity (float32, CPU)",
    "always_b": "a model that always answers B (medlb evaluate --rotations)",
    "cot_lm_eval_parity": "cot track: lm-eval parity (generate_until, chat template, CPU)",
}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures that test_parity.py, test_rotation_parity.py (max |Δ|, equal
    predictions) and test_robustness.py (the always-B model) record.

    They travel as `record_property(name, line)`, which pytest-xdist also carries back from its
    workers, so the figures appear in CI output with or without `-n`.
    """
    for section, title in SUMMARY_SECTIONS.items():
        lines = [
            value
            for reports in terminalreporter.stats.values()
            for report in reports
            if getattr(report, "when", None) == "call"
            for name, value in getattr(report, "user_properties", ())
            if name == section
        ]
        if lines:
            terminalreporter.section(title)
            for line in lines:
                terminalreporter.write_line(line)


# ---- engine and evaluate: tiny models with a short context window (truncation is exercised) ----


def _engine_spec(arch: str, seed: int):
    from runner.evaluation.tiny_models import TinyModelSpec

    return TinyModelSpec(
        arch=arch, seed=seed, vocab_size=500, hidden_size=48, layers=2, heads=4, max_positions=96
    )


@pytest.fixture(scope="session")
def engine_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Llama whose tokenizer adds BOS, with a 96-token window; read-only."""
    from runner.evaluation.tiny_models import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("engine-llama"), _engine_spec("llama", 21))


@pytest.fixture(scope="session")
def engine_gpt2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny GPT-2 (no BOS added), with a 96-token window; read-only."""
    from runner.evaluation.tiny_models import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("engine-gpt2"), _engine_spec("gpt2", 22))


# ---- site: two tiny models evaluated and published through the real CLI, read-only -------------


@pytest.fixture(scope="session")
def site_tree(tmp_path_factory: pytest.TempPathFactory):
    """results/ + submissions/ from real tiny-model runs (see tests/site_fixtures.py)."""
    from site_fixtures import publish_tiny_runs

    return publish_tiny_runs(tmp_path_factory.mktemp("site-tree"))
