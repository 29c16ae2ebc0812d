"""Inputs for the site tests and the site benchmark, all derived from real runner output.

- `publish_tiny_runs`: two tiny real models evaluated by `medlb evaluate` on the bundled sample
  questions (the Llama with `--rotations`, the GPT-2 without) and published by `medlb results
  publish`, plus a pending submission and a failure record: a small but complete `results/` +
  `submissions/` tree, with the runs' per-item details laid out as the details branch.
- `synthesize_results`: many results files in the shape of those real runs (same tasks, items,
  golds and subjects, tiled to the full splits' sizes if asked), each from synthetic predictions
  rows: per item, the log-likelihood of every option under every rotation, drawn from a model
  with a skill, a favourite letter and a strength of preference for it. Every score of the file
  (accuracy, intervals, subjects, calibration, letter bias, robustness, averages) is computed
  from those rows by `runner.evaluation.task_results`, as `medlb evaluate` computes it, so the
  numbers are consistent with each other; one model in ten is synthesized without rotations.
  With `details`, those very rows are also written as predictions files (the details branch's
  layout) and pinned by the results' `predictions_sha256`. Results are schema version 3: six
  models in seven carry a `cot` track (`synthetic_results.SyntheticReasoner`: per item it keeps
  or fixes the loglik answer, or gives none; its agreement table and McNemar p computed from
  those items), the seventh `cot_not_run` ("no chat template"); with `details`, the `cot` rows
  are written too, at `runner.pipeline.details.cot_details_path`.
- `write_flag`: a maintainer's flag (flags/<org>/<model>.yaml).

Run as a script it is the site benchmark (`medlb site build` on N synthetic models, with their
per-item details unless --no-details):
    .venv/bin/python tests/site_fixtures.py --models 1000 --full-size
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from runner.results_schema import EvaluationFailure, EvaluationResult, load_result, save

TINY_ORG = "medlb-tiny"
MODEL_TYPES = ("pretrained", "fine-tuned", "instruction-tuned", "rl-tuned", "merged")
LICENSES = ("apache-2.0", "mit", "llama3", "cc-by-nc-4.0", "other")
PRECISIONS = ("bfloat16", "float16", "float32")
WITHOUT_ROTATIONS_EVERY = 10  # synthetic model i has no rotation scores when i % 10 == 9
WITHOUT_COT_EVERY = 7  # synthetic model i has no chat template (no cot track) when i % 7 == 6
NO_CHAT_TEMPLATE = "no chat template: tokenizer_config.json has no chat_template"


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


def publish_tiny_runs(work: Path) -> SiteTree:
    """Build, evaluate and publish two tiny models through the real CLI (the Llama with
    `--rotations`, the GPT-2 without), their per-item details into work/details."""
    from runner.cli import main
    from runner.evaluation.tiny_models import SAMPLE_DATA_DIR, TinyModelSpec, build_tiny_model

    results, submissions = work / "results", work / "submissions"
    specs = {  # name: (model, type, evaluated with --rotations)
        "tiny-llama": (TinyModelSpec(arch="llama", seed=11, vocab_size=500), "fine-tuned", True),
        "tiny-gpt2": (TinyModelSpec(arch="gpt2", seed=12, vocab_size=500), "pretrained", False),
    }
    evaluated = []
    for name, (spec, model_type, rotations) in specs.items():
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
        publish += ["--details-dir", str(work / "details"), "--data-dir", str(SAMPLE_DATA_DIR)]
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
    save(results / TINY_ORG / "tiny-broken" / f"{'b' * 40}.failure.json", failure)
    return SiteTree(
        results=results,
        submissions=submissions,
        references=Path(__file__).resolve().parent.parent / "references",
        evaluated=tuple(evaluated),
        pending=pending,
        failed=failed,
        details=work / "details",
    )


def result_file(results: Path, model_id: str) -> Path:
    """The one results file of `model_id` under `results/` (results/<org>/<model>/<rev>.json, or
    the old results/<org>/<model>.json)."""
    found = [*sorted((results / model_id).glob("*.json")), results / f"{model_id}.json"]
    found = [p for p in found if p.is_file() and not p.name.endswith(".failure.json")]
    assert len(found) == 1, found
    return found[0]


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


def leaderboard_table(html: Path) -> tuple[list[dict], list[dict]]:
    """The leaderboard's loglik rows as its script sees them (payloads.LeaderboardRow joined with
    its ModelFacts and, fetched from their file, its chance-normalised scores), and the reference
    rows of every track (each with its `track`)."""
    import json
    import re

    text = (html / "index.html").read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" id="lb-data">(.*?)</script>', text, re.S)
    assert found, "the leaderboard page embeds its rows"
    page = json.loads(found.group(1))
    normalized = json.loads((html / page["normalized_file"]).read_text(encoding="utf-8"))
    extra = {row["model_index"]: row for row in normalized["rows"]}
    rows = [
        {**page["models"][row["model_index"]], **row, **extra.get(row["model_index"], {})}
        for row in page["tracks"][0]["rows"]
    ]
    tracks = page["tracks"] + [
        json.loads((html / path).read_text(encoding="utf-8"))
        for path in page["track_files"].values()
    ]
    references = [{**ref, "track": t["track"]} for t in tracks for ref in t["references"]]
    return rows, references


def site_build_argv(
    results: Path,
    submissions: Path,
    references: Path,
    work: Path,
    flags: Path | None = None,
    details: Path | None = None,
) -> list[str]:
    """`medlb site build` on these inputs, writing work/html and work/docs; flags from `flags`
    (default: the repository's flags/, which flags no model), per-item details from `details`."""
    repo = Path(__file__).resolve().parent.parent
    argv = ["site", "build", "--results", str(results), "--submissions", str(submissions)]
    argv += ["--references", str(references), "--out", str(work / "html")]
    argv += ["--flags", str(flags or repo / "flags")]
    argv += ["--details", str(details)] if details is not None else []
    argv += ["--pages-dir", str(work / "docs"), "--config", str(repo / "mkdocs.yml")]
    return [*argv, "--quiet"]


def write_flag(flags: Path, model: str, reason: str, discussion: str) -> Path:
    """flags/<org>/<model>.yaml, as a maintainer writes it (flags/README.md)."""
    org, name = model.split("/")
    path = flags / org / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = {"model": model, "reason": reason, "discussion": discussion, "date": "2026-01-15"}
    path.write_text(yaml.safe_dump(fields, sort_keys=False), encoding="utf-8")
    return path


def synthesize_results(
    bases: list[EvaluationResult],
    count: int,
    results: Path,
    submissions: Path,
    *,
    seed: int = 0,
    full_size: bool = False,
    details: Path | None = None,
) -> list[str]:
    """Write `count` results (and their submissions) shaped like `bases`; returns model ids.

    `full_size` tiles each task's items up to the real split's size, so pages and data files
    have their production weight; with `details`, each result's predictions files are written
    there too (the details branch's layout) and pinned by its `predictions_sha256`.
    """
    from synthetic_results import SyntheticModel, fewer_resamples, sample_items, task_result_of

    from runner.evaluation.metrics import leaderboard_average
    from runner.evaluation.task_results import result_averages
    from runner.evaluation.tasks import TASKS

    rng = random.Random(seed)
    items = sample_items()
    ids = []
    with fewer_resamples():
        for i in range(count):
            base = bases[i % len(bases)]
            model = SyntheticModel.draw(rng)
            rotations = i % WITHOUT_ROTATIONS_EVERY != WITHOUT_ROTATIONS_EVERY - 1
            tasks, rows_by_task = {}, {}
            for name, task in base.tasks.items():
                n = TASKS[name].n_total if full_size else task.n
                rows = model.predictions(items[name], n, rotations=rotations, rng=rng)
                tasks[name] = task_result_of(name, task, rows, items[name], n, rotations=rotations)
                rows_by_task[name] = rows
            model_id = f"synth-org-{i % 41}/synth-model-{i:04d}"
            revision = f"{rng.getrandbits(160):040x}"
            if details is not None:
                tasks = write_details(details, model_id, revision, tasks, rows_by_task)
            chat_template = i % WITHOUT_COT_EVERY != WITHOUT_COT_EVERY - 1
            cot = (
                synthetic_cot(
                    random.Random(f"{seed}:cot:{i}"),
                    tasks,
                    rows_by_task,
                    items,
                    details=None if details is None else (details, model_id, revision),
                )
                if chat_template
                else None
            )
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
                    "average": leaderboard_average(
                        {k: t.acc for k, t in tasks.items()}, complete=True
                    ),
                    **result_averages(tasks, rows_by_task, complete=True, rotations=rotations),
                    "schema_version": 3,
                    "cot": cot,
                    "cot_not_run": None if chat_template else NO_CHAT_TEMPLATE,
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


def synthetic_cot(rng: random.Random, tasks: dict, rows_by_task: dict, items, *, details):
    """A synthetic `cot` track beside the loglik `tasks` (their rows' choices as the paired
    answers); with `details` = (folder, model id, revision), its predictions files written there."""
    import hashlib

    from synthetic_results import SyntheticReasoner, cot_rows_jsonl, cot_task_result, cot_track

    from runner.pipeline.details import cot_details_path

    reasoner = SyntheticReasoner.draw(rng)
    cot_items, cot_tasks = {}, {}
    for name, task in tasks.items():
        cot_items[name] = reasoner.items(rows_by_task[name], items[name], rng)
        data = cot_rows_jsonl(cot_items[name], items[name])
        if details:
            folder, model_id, revision = details
            target = folder / cot_details_path(model_id, revision, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        cot_tasks[name] = cot_task_result(name, task, cot_items[name], items[name], digest)
    return cot_track(cot_tasks, cot_items, rng, complete=True)


def write_details(details: Path, model_id: str, revision: str, tasks: dict, rows_by_task: dict):
    """Write each task's rows as its predictions file on the details branch's layout; the task
    entries with `predictions_sha256` pinning those bytes."""
    from runner.evaluation.predictions import render_rows, sha256
    from runner.pipeline.details import details_path

    pinned = {}
    for name, task in tasks.items():
        data = render_rows(rows_by_task[name])
        target = details / details_path(model_id, revision, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        pinned[name] = task.model_copy(update={"predictions_sha256": sha256(data)})
    return pinned


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
    folder = work / "details" if details else None
    if folder is not None:
        shutil.copytree(tree.details, folder)
    ids = synthesize_results(
        bases, count, results, submissions, seed=seed, full_size=full_size, details=folder
    )
    argv = site_build_argv(results, submissions, tree.references, work, details=folder)
    assert main(argv) == 0
    return ids


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
        tree = publish_tiny_runs(work / "tiny")
        clock = time.perf_counter()
        details = None if args.no_details else work / "details"
        ids = synthesize_results(
            list(published_results(tree.results).values()),
            args.models,
            work / "results",
            work / "submissions",
            full_size=args.full_size,
            details=details,
        )
        what = "results" if details is None else "results and their per-item details"
        print(f"generated {len(ids)} {what} in {time.perf_counter() - clock:.1f} s")
        argv = site_build_argv(
            work / "results", work / "submissions", tree.references, work, details=details
        )
        if details is not None:
            size = sum(p.stat().st_size for p in details.rglob("*.jsonl"))
            print(f"details: {size / 2**20:.0f} MiB, {size / len(ids) / 2**20:.2f} MiB per model")
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
