"""lm-evaluation-harness as the reference: its own task code, run on local sample files.

For each leaderboard task a YAML is written at test time that `include:`s lm-eval's installed task
YAML (an absolute path into the lm_eval package) and overrides only where the rows come from
(`dataset_path: json`, `dataset_kwargs.data_files`, no `dataset_name`) and the task's name. So the
prompts, choices, gold and target delimiter that the parity test compares against come from
lm-eval's code, never from a copy of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.evaluation.tasks import TASK_NAMES

# The reference tasks get their own names so they cannot collide with lm-eval's registered ones.
PREFIX = "parity_"

# Our task -> lm-eval's task YAML, relative to lm_eval/tasks.
LMEVAL_TASK_YAMLS = {
    "medqa_4options": "medqa/medqa.yaml",
    "medmcqa": "medmcqa/medmcqa.yaml",
    "pubmedqa": "pubmedqa/pubmedqa.yaml",
    **{name: f"mmlu/default/{name}.yaml" for name in TASK_NAMES if name.startswith("mmlu_")},
}

# Every split name the included YAMLs mention (train/validation/test/fewshot). All point at the
# one sample file: lm-eval builds the few-shot sampler eagerly even for zero-shot runs, and
# zero-shot prompts never read it.
SPLIT_NAMES = ("train", "validation", "test", "dev")


@dataclass(frozen=True)
class ReferenceDoc:
    """One document as lm-eval scored it."""

    doc_id: int
    requests: list[tuple[str, str]]  # (context, continuation) per choice
    loglikelihoods: list[float]  # per choice
    correct: bool  # lm-eval's own `acc` for this doc: argmax of the log-likelihoods == gold


def write_task_yamls(data_dir: Path, yaml_dir: Path, tasks: tuple[str, ...] = TASK_NAMES) -> None:
    import lm_eval

    tasks_root = Path(lm_eval.__file__).parent / "tasks"
    yaml_dir.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        data_file = str((data_dir / f"{task}.jsonl").resolve())
        config = {
            "include": str(tasks_root / LMEVAL_TASK_YAMLS[task]),
            "task": PREFIX + task,
            "dataset_path": "json",
            "dataset_name": None,
            "dataset_kwargs": {"data_files": {split: data_file for split in SPLIT_NAMES}},
        }
        # JSON is YAML: no YAML writer needed, and every string is quoted unambiguously.
        (yaml_dir / f"{PREFIX}{task}.yaml").write_text(json.dumps(config, indent=2) + "\n")


def make_task_manager(data_dir: Path, yaml_dir: Path, tasks: tuple[str, ...] = TASK_NAMES):
    """A `TaskManager` knowing lm-eval's tasks and our reference tasks (indexing takes ~10 s)."""
    from lm_eval.tasks import TaskManager

    write_task_yamls(data_dir, yaml_dir, tasks)
    return TaskManager(include_path=str(yaml_dir))


def load_reference_tasks(manager: Any, tasks: tuple[str, ...] = TASK_NAMES) -> dict[str, Any]:
    """lm-eval's task objects for our tasks: its `doc_to_text`, `doc_to_choice`, ... on our rows."""
    loaded = manager.load([PREFIX + task for task in tasks])
    by_name = loaded.get("tasks", loaded)  # 0.4.13: {"tasks": {...}, "groups": ..., ...}
    return {task: by_name[PREFIX + task] for task in tasks}


def run_lm_eval(
    model_dir: Path, manager: Any, tasks: tuple[str, ...] = TASK_NAMES
) -> dict[str, list[ReferenceDoc]]:
    """`lm_eval --model hf --log_samples`, float32 on CPU, on the manager's sample files."""
    import lm_eval

    output = lm_eval.simple_evaluate(
        model="hf",
        model_args=f"pretrained={model_dir},dtype=float32",
        device="cpu",
        batch_size=16,
        log_samples=True,
        task_manager=manager,
        tasks=[PREFIX + task for task in tasks],
    )
    return {task: _reference_docs(output["samples"][PREFIX + task]) for task in tasks}


def _reference_docs(samples: list[dict[str, Any]]) -> list[ReferenceDoc]:
    docs = [
        ReferenceDoc(
            doc_id=int(sample["doc_id"]),
            requests=[(str(ctx), str(cont)) for ctx, cont in sample["arguments"]],
            loglikelihoods=[float(resp[0]) for resp in sample["filtered_resps"]],
            correct=bool(sample["acc"]),
        )
        for sample in samples
    ]
    return sorted(docs, key=lambda doc: doc.doc_id)
