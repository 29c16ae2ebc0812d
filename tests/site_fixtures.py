"""Inputs for the site tests and the site benchmark, all derived from real runner output.

- `publish_tiny_runs`: two tiny real models evaluated by `medlb evaluate` on the bundled sample
  questions and published by `medlb results publish`, plus a pending submission and a failure
  record: a small but complete `results/` + `submissions/` tree.
- `synthesize_results`: many results files made from those real runs by perturbing the per-item
  correctness bits and recomputing everything derived from them (accuracy, standard error,
  bootstrap interval, per-subject accuracy, average) with `runner.evaluation.metrics`, so the
  numbers are internally consistent. Calibration and predictions hashes cannot be derived from
  bits and are kept from the real run they start from.
- `synthesize_details`: per-item details (predictions files, laid out as the details branch) for
  synthetic results, consistent with their correctness bits (and, for a `--rotations` result, its
  consistent-correctness bits), each result's `predictions_sha256` updated to pin them.

Run as a script it is the site benchmark (`medlb site build` on N synthetic models, with their
per-item details unless --no-details):
    .venv/bin/python tests/site_fixtures.py --models 1000 --full-size
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from runner.results_schema import (
    EvaluationFailure,
    EvaluationResult,
    SubjectScore,
    load_result,
    save,
)

TINY_ORG = "medlb-tiny"
MODEL_TYPES = ("pretrained", "fine-tuned", "instruction-tuned", "rl-tuned", "merged")
LICENSES = ("apache-2.0", "mit", "llama3", "cc-by-nc-4.0", "other")
PRECISIONS = ("bfloat16", "float16", "float32")
SYNTHETIC_BOOTSTRAP_RESAMPLES = 200  # fewer than a real run's 1,000: generation speed only


@dataclass(frozen=True)
class SiteTree:
    results: Path
    submissions: Path
    references: Path  # the repository's own references/
    evaluated: tuple[str, ...]  # model ids with results
    pending: str  # a submitted model without results
    failed: str  # a model whose run failed
    details: Path | None = None  # the evaluated models' per-item details (details-branch layout)


def write_submission(
    submissions: Path,
    model: str,
    revision: str,
    *,
    model_type: str = "pretrained",
    license: str = "apache-2.0",
    precision: str = "float32",
) -> Path:
    org, name = model.split("/")
    fields = {
        "model": model,
        "revision": revision,
        "precision": precision,
        "model_type": model_type,
        "license": license,
        "description": f"{name}: a test model for the leaderboard site.",
    }
    if model_type != "pretrained":
        fields["base_model"] = f"{org}/base-model"
    path = submissions / org / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(fields, sort_keys=False), encoding="utf-8")
    return path


def publish_tiny_runs(work: Path, *, rotations: bool = False) -> SiteTree:
    """Build, evaluate (with `--rotations` if asked) and publish two tiny models through the real
    CLI, their per-item details into work/details."""
    from runner.cli import main
    from runner.evaluation.tiny_models import SAMPLE_DATA_DIR, TinyModelSpec, build_tiny_model

    results, submissions = work / "results", work / "submissions"
    specs = {
        "tiny-llama": (TinyModelSpec(arch="llama", seed=11, vocab_size=500), "fine-tuned"),
        "tiny-gpt2": (TinyModelSpec(arch="gpt2", seed=12, vocab_size=500), "pretrained"),
    }
    evaluated = []
    for name, (spec, model_type) in specs.items():
        model_dir = build_tiny_model(work / "models" / name, spec)
        # A content hash stands in for the Hub commit a real submission pins.
        revision = hashlib.sha1((model_dir / "model.safetensors").read_bytes()).hexdigest()
        model_id = f"{TINY_ORG}/{name}"
        submission = write_submission(submissions, model_id, revision, model_type=model_type)
        run = work / "runs" / name
        argv = ["evaluate", "--model", str(model_dir), "--data-dir", str(SAMPLE_DATA_DIR)]
        argv += ["--rotations"] if rotations else []
        assert main([*argv, "--no-progress", "--output", str(run)]) == 0
        publish = ["results", "publish", str(run), "--submission", str(submission)]
        publish += ["--details-dir", str(work / "details")]
        assert main([*publish, "--results-dir", str(results)]) == 0
        evaluated.append(model_id)

    pending = f"{TINY_ORG}/tiny-pending"
    write_submission(submissions, pending, "a" * 40, model_type="merged", license="mit")
    failed = f"{TINY_ORG}/tiny-broken"
    write_submission(submissions, failed, "b" * 40, model_type="instruction-tuned")
    failure = EvaluationFailure(
        model=failed,
        revision="b" * 40,
        stage="loading",
        reason="config.json: model_type 'tinyformer' is not a transformers architecture",
        failed_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
    )
    save(results / TINY_ORG / "tiny-broken.failure.json", failure)
    return SiteTree(
        results=results,
        submissions=submissions,
        references=Path(__file__).resolve().parent.parent / "references",
        evaluated=tuple(evaluated),
        pending=pending,
        failed=failed,
        details=work / "details",
    )


def published_results(results: Path) -> dict[str, EvaluationResult]:
    """Every results file under `results/` by model id (failure records left out)."""
    paths = sorted(p for p in results.rglob("*.json") if not p.name.endswith(".failure.json"))
    return {r.model.id: r for r in map(load_result, paths)}


def page_words(page: Path) -> str:
    """A built page's visible words: scripts and styles dropped, tags removed, entities decoded,
    whitespace collapsed."""
    import html
    import re

    raw = page.read_text(encoding="utf-8")
    raw = re.sub(r"<script.*?</script>|<style.*?</style>", " ", raw, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def site_build_argv(results: Path, submissions: Path, references: Path, work: Path) -> list[str]:
    """`medlb site build` on these inputs, writing work/html and work/docs."""
    config = Path(__file__).resolve().parent.parent / "mkdocs.yml"
    argv = ["site", "build", "--results", str(results), "--submissions", str(submissions)]
    argv += ["--references", str(references), "--out", str(work / "html")]
    return [*argv, "--pages-dir", str(work / "docs"), "--config", str(config), "--quiet"]


def synthesize_results(
    bases: list[EvaluationResult],
    count: int,
    results: Path,
    submissions: Path,
    *,
    seed: int = 0,
    full_size: bool = False,
) -> list[str]:
    """Write `count` results (and their submissions) derived from `bases`; returns model ids.

    Model i has a skill s_i; each item keeps its real correctness bit with probability 0.4 and is
    otherwise redrawn as correct with probability s_i. `full_size` tiles each task's items up to
    the real split's size, so pages and data files have their production weight.
    """
    from runner.evaluation.metrics import leaderboard_average, subject_accuracy
    from runner.evaluation.tasks import TASKS
    from runner.results_schema import decode_bits, encode_bits
    from runner.stats import accuracy, bootstrap_ci95, mean_stderr

    rng = random.Random(seed)
    subjects_of = _item_subjects()
    ids = []
    for i in range(count):
        base = bases[i % len(bases)]
        skill = rng.uniform(0.2, 0.85)
        tasks = {}
        for name, task in base.tasks.items():
            n = TASKS[name].n_total if full_size else task.n
            real = decode_bits(task.correct, task.n)
            correct = [
                real[j % task.n] if rng.random() < 0.4 else rng.random() < skill for j in range(n)
            ]
            subjects = [subjects_of[name][j % task.n] for j in range(n)]
            tasks[name] = task.model_copy(
                update={
                    "n": n,
                    "n_total": n,
                    "acc": accuracy(correct),
                    "stderr": mean_stderr(correct),
                    "ci95": bootstrap_ci95(correct, resamples=SYNTHETIC_BOOTSTRAP_RESAMPLES),
                    "subjects": {
                        s: SubjectScore(n=a.n, acc=a.acc)
                        for s, a in subject_accuracy(correct, subjects).items()
                    },
                    "correct": encode_bits(correct),
                    "data_sha256": hashlib.sha256(f"{task.data_sha256}:{n}".encode()).hexdigest(),
                }
            )
        model_id = f"synth-org-{i % 41}/synth-model-{i:04d}"
        revision = f"{rng.getrandbits(160):040x}"
        precision = rng.choice(PRECISIONS)
        result = base.model_copy(
            update={
                "model": base.model.model_copy(
                    update={
                        "id": model_id,
                        "source": "hub",
                        "revision": revision,
                        "precision": precision,
                        "params": int(10 ** rng.uniform(8, 11.3)),
                    }
                ),
                "tasks": tasks,
                "average": leaderboard_average({k: t.acc for k, t in tasks.items()}, complete=True),
            }
        )
        org, name = model_id.split("/")
        save(results / org / f"{name}.json", result)
        write_submission(
            submissions,
            model_id,
            revision,
            model_type=rng.choice(MODEL_TYPES),
            license=rng.choice(LICENSES),
            precision=precision,
        )
        ids.append(model_id)
    return ids


def synthesize_details(results: Path, details: Path, model_ids: list[str], *, seed: int = 0) -> int:
    """Write the predictions files of `model_ids`' synthetic results under `details` (the details
    branch's layout) and pin them in the results; returns the bytes written.

    Each item gets a gold option and log-likelihoods whose argmax is the gold exactly where the
    result's correctness bit says right. A `--rotations` result's letter tasks also get
    `rotation_logprobs`: an item right under every rotation where its consistent-correctness bit
    says so (when the bits fit the item count), else wrong under at least one rotation.
    """
    from runner.evaluation.tasks import LETTERS, PUBMEDQA_CHOICES, TASKS
    from runner.pipeline.details import details_path
    from runner.results_schema import decode_bits

    rng = random.Random(seed)
    written = 0
    for model_id in model_ids:
        path = results / f"{model_id}.json"
        result = load_result(path)
        tasks = {}
        for name, task in result.tasks.items():
            k = len(LETTERS if TASKS[name].letter_choices else PUBMEDQA_CHOICES)
            correct = decode_bits(task.correct, task.n)
            consistent = _consistent_bits(task, correct, rng) if result.rotations else None
            lines = [
                _synthetic_row(i, k, correct[i], None if consistent is None else consistent[i], rng)
                for i in range(task.n)
            ]
            data = ("\n".join(lines) + "\n").encode()
            target = details / details_path(model_id, result.model.revision or "", name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written += len(data)
            digest = hashlib.sha256(data).hexdigest()
            tasks[name] = task.model_copy(update={"predictions_sha256": digest})
        save(path, result.model_copy(update={"tasks": tasks}))
    return written


def _consistent_bits(task, correct: list[bool], rng: random.Random) -> list[bool] | None:
    """Right under every rotation: the result's bits where they fit, else drawn (never where the
    item is wrong at rotation 0). None for a task without rotations."""
    from runner.results_schema import decode_bits

    if task.robustness is None:
        return None
    try:
        bits = decode_bits(task.robustness.consistent_correct, task.n)
    except ValueError:  # bits of the real run a synthetic result was tiled from
        bits = [rng.random() < 0.6 for _ in correct]
    return [b and c for b, c in zip(bits, correct, strict=True)]


def _synthetic_row(
    doc_id: int, k: int, right: bool, consistent: bool | None, rng: random.Random
) -> str:
    """One predictions row: right (at rotation 0) as told; with `consistent` set, rotation scores
    that keep the gold under every rotation exactly when it is True (it implies `right`)."""
    gold = rng.randrange(k)
    pred = gold if right else rng.choice([o for o in range(k) if o != gold])
    row = {"doc_id": doc_id, "choice_logprobs": _scores(k, pred, rng), "pred": pred, "gold": gold}
    if consistent is not None:
        slip = None if consistent or not right else rng.randrange(1, k)  # wrong there only
        chosen = [
            rng.randrange(k)
            if not right
            else rng.choice([o for o in range(k) if o != gold])
            if r == slip
            else gold
            for r in range(1, k)
        ]
        row["rotation_logprobs"] = [_scores(k, option, rng) for option in chosen]
    return json.dumps(row)


def _scores(k: int, top: int, rng: random.Random) -> list[float]:
    """Log-likelihoods of k options whose largest is option `top`'s."""
    scores = [rng.uniform(-9.0, -0.05) for _ in range(k)]
    scores[top] = max(scores) + rng.uniform(0.01, 3.0)
    return scores


def build_synthetic_site(
    tree: SiteTree,
    work: Path,
    count: int,
    *,
    seed: int,
    full_size: bool = False,
    details: bool = False,
) -> list[str]:
    """`tree`'s real runs plus `count` synthetic results, built into work/html (with every
    model's per-item details in work/details if asked); returns the synthetic model ids."""
    import shutil

    from runner.cli import main

    results, submissions = work / "results", work / "submissions"
    shutil.copytree(tree.results, results)
    shutil.copytree(tree.submissions, submissions)
    bases = list(published_results(tree.results).values())
    ids = synthesize_results(bases, count, results, submissions, seed=seed, full_size=full_size)
    argv = site_build_argv(results, submissions, tree.references, work)
    if details:
        shutil.copytree(tree.details, work / "details")
        synthesize_details(results, work / "details", ids, seed=seed)
        argv += ["--details", str(work / "details")]
    assert main(argv) == 0
    return ids


def _item_subjects() -> dict[str, list[str | None]]:
    """The subject of every bundled sample item, per task, in item order."""
    from runner.evaluation.task_data import load_task_rows
    from runner.evaluation.tasks import TASKS
    from runner.evaluation.tiny_models import SAMPLE_DATA_DIR

    out = {}
    for name, spec in TASKS.items():
        rows = load_task_rows(spec, SAMPLE_DATA_DIR).rows
        out[name] = [spec.doc_to_subject(row) for row in rows]
    return out


def _benchmark(argv: list[str]) -> int:
    import tempfile

    from runner.cli import main

    parser = argparse.ArgumentParser(description="Time `medlb site build` on synthetic results.")
    parser.add_argument("--models", type=int, default=1000, help="synthetic models (default 1000)")
    parser.add_argument("--full-size", action="store_true", help="tile items to full split sizes")
    parser.add_argument(
        "--no-details", action="store_true", help="no per-item details (no question views)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # The GPU workflow runs --rotations: the details (and the views) have their real weight.
        tree = publish_tiny_runs(work / "tiny", rotations=True)
        clock = time.perf_counter()
        ids = synthesize_results(
            list(published_results(tree.results).values()),
            args.models,
            work / "results",
            work / "submissions",
            full_size=args.full_size,
        )
        print(f"generated {args.models} results in {time.perf_counter() - clock:.1f} s")
        argv = site_build_argv(work / "results", work / "submissions", tree.references, work)
        if not args.no_details:
            clock = time.perf_counter()
            size = synthesize_details(work / "results", work / "details", ids)
            print(
                f"generated their per-item details in {time.perf_counter() - clock:.1f} s: "
                f"{size / 2**20:.0f} MiB, {size / len(ids) / 2**20:.2f} MiB per model"
            )
            argv += ["--details", str(work / "details")]
        largest = max(p.stat().st_size for p in (work / "results").rglob("*.json"))
        print(f"largest results file (a model's weight on the default branch): {largest >> 10} KiB")
        clock = time.perf_counter()
        code = main([a for a in argv if a != "--quiet"])
        print(f"medlb site build: {time.perf_counter() - clock:.2f} s wall (exit {code})")
        html = work / "html"
        print(f"leaderboard page: {(html / 'index.html').stat().st_size / 1024:.0f} KiB")
        results = sum(p.stat().st_size for p in (html / "data" / "results").rglob("*.json"))
        print(f"per-model results files (downloads, compare page): {results / 2**20:.1f} MiB")
        views = sum(p.stat().st_size for p in (html / "data" / "questions").rglob("*.json"))
        print(f"question views' data: {views / 2**20:.1f} MiB")
        total = sum(p.stat().st_size for p in html.rglob("*") if p.is_file())
        print(f"built site: {total / 2**20:.0f} MiB in {sum(1 for _ in html.rglob('*'))} entries")
    return code


if __name__ == "__main__":
    sys.exit(_benchmark(sys.argv[1:]))
