"""lm-evaluation-harness as the reference: its own task code, run on local sample files.

For each leaderboard task a YAML is written at test time that `include:`s lm-eval's installed task
YAML (an absolute path into the lm_eval package) and overrides only where the rows come from
(`dataset_path: json`, `dataset_kwargs.data_files`, no `dataset_name`) and the task's name. So the
prompts, choices, gold and target delimiter that the parity test compares against come from
lm-eval's code, never from a copy of it.

For the rotations parity test, `write_rotated_rows` rotates the sample rows in their Hub columns
straight from the definition (rotation r puts original option (j + r) mod n at position j and
moves the gold to (gold - r) mod n), written here independently of medlb's own rotation code, and
each rotation's rows get their own reference tasks (`rotation_prefix(r)`).
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

# Where each letter task's options and gold sit in its Hub row: one column per option, or a list.
ROTATED_COLUMNS: dict[str, tuple[tuple[str, ...] | str, str]] = {
    "medqa_4options": (("ending0", "ending1", "ending2", "ending3"), "label"),
    "medmcqa": (("opa", "opb", "opc", "opd"), "cop"),
    **{name: ("choices", "answer") for name in TASK_NAMES if name.startswith("mmlu_")},
}
ROTATED_TASKS = tuple(ROTATED_COLUMNS)
OPTIONS = 4

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


def rotation_prefix(r: int) -> str:
    return f"{PREFIX}rot{r}_"


def rotate_row(task: str, row: dict[str, Any], r: int) -> dict[str, Any]:
    """The Hub row with original option (j + r) mod n at position j and gold (gold - r) mod n."""
    options, gold = ROTATED_COLUMNS[task]
    rotated = dict(row)
    if isinstance(options, str):
        original = list(row[options])
        rotated[options] = [original[(j + r) % OPTIONS] for j in range(OPTIONS)]
    else:
        for j, column in enumerate(options):
            rotated[column] = row[options[(j + r) % OPTIONS]]
    rotated[gold] = (row[gold] - r) % OPTIONS
    return rotated


def write_rotated_rows(data_dir: Path, out_dir: Path, r: int) -> Path:
    """`out_dir/<task>.jsonl` for every letter task: `data_dir`'s rows, rotated by r."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for task in ROTATED_TASKS:
        lines = (data_dir / f"{task}.jsonl").read_text(encoding="utf-8").splitlines()
        rows = [rotate_row(task, json.loads(line), r) for line in lines if line.strip()]
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        (out_dir / f"{task}.jsonl").write_text(text, encoding="utf-8")
    return out_dir


def write_task_yamls(
    data_dir: Path, yaml_dir: Path, tasks: tuple[str, ...] = TASK_NAMES, prefix: str = PREFIX
) -> None:
    import lm_eval

    tasks_root = Path(lm_eval.__file__).parent / "tasks"
    yaml_dir.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        data_file = str((data_dir / f"{task}.jsonl").resolve())
        config = {
            "include": str(tasks_root / LMEVAL_TASK_YAMLS[task]),
            "task": prefix + task,
            "dataset_path": "json",
            "dataset_name": None,
            "dataset_kwargs": {"data_files": {split: data_file for split in SPLIT_NAMES}},
        }
        # JSON is YAML: no YAML writer needed, and every string is quoted unambiguously.
        (yaml_dir / f"{prefix}{task}.yaml").write_text(json.dumps(config, indent=2) + "\n")


def make_task_manager(
    data_dir: Path,
    yaml_dir: Path,
    tasks: tuple[str, ...] = TASK_NAMES,
    rotated_dir: Path | None = None,
):
    """A `TaskManager` knowing lm-eval's tasks and our reference tasks (indexing takes ~10 s);
    with `rotated_dir`, also each rotation r = 1..3 of the letter tasks' rows (written there)."""
    from lm_eval.tasks import TaskManager

    write_task_yamls(data_dir, yaml_dir, tasks)
    if rotated_dir is not None:
        for r in range(1, OPTIONS):
            rows = write_rotated_rows(data_dir, rotated_dir / f"rot{r}", r)
            write_task_yamls(rows, yaml_dir, ROTATED_TASKS, rotation_prefix(r))
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
    docs = run_lm_eval_tasks(model_dir, manager, [PREFIX + task for task in tasks])
    return {task: docs[PREFIX + task] for task in tasks}


def run_lm_eval_tasks(
    model_dir: Path, manager: Any, names: list[str]
) -> dict[str, list[ReferenceDoc]]:
    """The same for reference tasks by their full names (e.g. the rotated ones), in one run."""
    import lm_eval

    output = lm_eval.simple_evaluate(
        model="hf",
        model_args=f"pretrained={model_dir},dtype=float32",
        device="cpu",
        batch_size=16,
        log_samples=True,
        task_manager=manager,
        tasks=names,
    )
    return {name: _reference_docs(output["samples"][name]) for name in names}


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
