"""`medlb site build` from real tiny-model results: what each page shows, and how it fails."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from site_fixtures import leaderboard_table, published_results, result_file, site_build_argv

from runner.cli import main
from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.submissions.checks import CHECKS
from runner.submissions.schema import Submission

REPO = Path(__file__).resolve().parents[2]


def build(results: Path, submissions: Path, references: Path, work: Path) -> int:
    return main(site_build_argv(results, submissions, references, work))


@pytest.fixture(scope="module")
def site(site_tree, tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("site-build")
    assert build(site_tree.results, site_tree.submissions, site_tree.references, work) == 0
    return work / "html"


def table_rows(index: Path) -> list[dict]:
    return leaderboard_table(index.parent)[0]


def pct(value: float) -> float:
    return round(100 * value, 1)


ROUNDING = 1e-4  # leaderboard.json rounds fractions to four decimals


def check_rank_rule(site: Path) -> None:
    """rank = 1 + models whose interval lies wholly above; overlapping models share ranks.

    Checked on leaderboard.json, whose fractions are rounded to four decimals: a pair of bounds
    closer than that could fall either way, so it counts as either.
    """
    records = json.loads((site / "leaderboard.json").read_text(encoding="utf-8"))
    ranked = [r for r in records if r["rank"] is not None]

    def count(row, gap: float) -> tuple[int, int]:
        above = sum(1 for other in ranked if other["average_low"] - row["average_high"] > gap)
        below = sum(1 for other in ranked if row["average_low"] - other["average_high"] > gap)
        return above, below

    for row in ranked:
        surely_above, surely_below = count(row, ROUNDING)
        maybe_above, maybe_below = count(row, -ROUNDING)
        assert 1 + surely_above <= row["rank"] <= 1 + maybe_above, row["model"]
        most = len(ranked) - 1 - surely_above - surely_below
        least = len(ranked) - 1 - maybe_above - maybe_below
        assert least <= row["tied_with"] <= most, row["model"]


def test_leaderboard_rows_are_the_published_results(site, site_tree):
    rows = table_rows(site / "index.html")
    results = published_results(site_tree.results)
    evaluated = {r["model"]: r for r in rows}
    assert set(evaluated) == set(site_tree.evaluated) == set(results)
    for model_id, result in results.items():
        row = evaluated[model_id]
        assert row["average"][0] == pct(result.average)
        assert row["average"][1] <= row["average"][0] <= row["average"][2]
        assert row["params"] == result.model.params
        assert row["precision"] == result.model.precision
        for i, name in enumerate(TASK_NAMES):
            task = result.tasks[name]
            assert row["tasks"][i] == [pct(task.acc), pct(task.ci95[0]), pct(task.ci95[1])]
        page = site / "models" / row.get("key", row["model"]) / "index.html"  # when not the id
        assert page.is_file(), f"model page for {model_id}"
    assert {r["model_type"] for r in evaluated.values()} == {"fine-tuned", "pretrained"}
    check_rank_rule(site)
    for row in rows:
        assert row.get("rank") is not None, "complete runs are ranked"
    ordered = [r["average"][0] for r in rows if r.get("rank") is not None]
    assert ordered == sorted(ordered, reverse=True), "ranked rows come best first"


def test_reference_rows_are_marked_and_never_ranked(site):
    references = {r["name"]: r for r in leaderboard_table(site)[1]}
    assert {"GPT-4-base", "Med-PaLM 2"} <= set(references)
    for row in references.values():
        assert "rank" not in row and row["source_url"].startswith("https://")
    gpt4 = references["GPT-4-base"]
    medqa = TASK_NAMES.index("medqa_4options")
    assert gpt4["tasks"][medqa] == 86.1
    # All nine cells are reported (the MMLU ones by a second paper), under one protocol: the
    # row has an average, and sits beside the track its setting matches.
    assert gpt4["average"] == 87.0 and (gpt4["setting"], gpt4["track"]) == ("few-shot", "loglik")
    assert gpt4["tasks"][TASK_NAMES.index("mmlu_anatomy")] == 85.2
    # Med-PaLM 2's "best" column mixes protocols: no average, and never beside loglik.
    palm = references["Med-PaLM 2"]
    assert "average" not in palm and (palm["setting"], palm["track"]) == ("ensemble", "cot")


def test_downloads_round_scores_to_four_decimals(site, site_tree):
    results = published_results(site_tree.results)
    csv_text = (site / "leaderboard.csv").read_text(encoding="utf-8")
    json_text = (site / "leaderboard.json").read_text(encoding="utf-8")
    for text in (csv_text, json_text):
        long = re.findall(r"\b0\.\d{5,}", text)
        assert long == [], f"unrounded numbers such as {long[:3]}"
    csv_rows = {row["model"]: row for row in csv.DictReader(io.StringIO(csv_text))}
    json_rows = {row["model"]: row for row in json.loads(json_text)}
    for model_id, result in results.items():
        assert float(csv_rows[model_id]["average"]) == round(result.average, 4)
        assert json_rows[model_id]["revision"] == result.model.revision
        for name in TASK_NAMES:
            assert float(csv_rows[model_id][name]) == round(result.tasks[name].acc, 4)
            assert json_rows[model_id][f"{name}_low"] == round(result.tasks[name].ci95[0], 4)
            assert csv_rows[model_id][f"{name}_rank"].isdigit()
    assert csv_rows["Med-PaLM 2"]["kind"] == "reported"


def test_each_model_page_offers_its_published_results_file(site, site_tree):
    for model_id in site_tree.evaluated:
        page = (site / "models" / model_id / "index.html").read_text(encoding="utf-8")
        assert f'href="../../../data/results/{model_id}.json" download' in page
        published = result_file(site_tree.results, model_id).read_bytes()
        assert (site / "data" / "results" / f"{model_id}.json").read_bytes() == published
        assert "Predictions" not in re.sub(r"<[^>]+>", "", page.split("model-links")[1][:2000]), (
            "no predictions link until they are stored durably"
        )


def test_model_page_shows_scores_subjects_calibration_and_provenance(site, site_tree):
    model_id = site_tree.evaluated[0]
    result = published_results(site_tree.results)[model_id]
    text = (site / "models" / model_id / "index.html").read_text(encoding="utf-8")
    for heading in ("Scores", "Per-subject accuracy", "Calibration", "Provenance"):
        assert f">{heading}<" in text
    assert text.count("<svg") >= 2, "a per-task profile and a per-subject chart"
    for name, task in result.tasks.items():
        assert TASKS[name].title in text
        assert (task.dataset_revision or "unpinned") in text and f"{task.ece:.3f}" in text
        for subject in task.subjects:
            assert html.escape(subject).lower() in text.lower()
    assert result.model.revision in text and result.environment.medlb_version in text
    assert result.environment.device in text
    snippet = re.search(r'<div class="language-yaml highlight"><pre><code>(.*?)</code>', text, re.S)
    card = yaml.safe_load(html.unescape(snippet.group(1)))["model-index"][0]
    assert card["name"] == model_id
    values = {r["dataset"]["type"] + r["dataset"].get("config", ""): r for r in card["results"]}
    medqa = values["GBaker/MedQA-USMLE-4-options-hf"]["metrics"][0]["value"]
    assert medqa == round(100 * result.tasks["medqa_4options"].acc, 2)
    assert "medlb-raw" not in text, "every raw block was spliced back"


def test_task_pages_rank_models_by_that_task(site, site_tree):
    results = published_results(site_tree.results)
    for name in TASK_NAMES:
        text = (site / "tasks" / name / "index.html").read_text(encoding="utf-8")
        assert f"{TASKS[name].n_total}" in text
        listed = re.findall(r'<a href="../../models/([^"]+)/">', text)
        accuracies = [results[key].tasks[name].acc for key in listed]
        assert set(listed) == set(results) and accuracies == sorted(accuracies, reverse=True)


def test_queue_lists_pending_and_failed_but_not_evaluated(site, site_tree):
    text = re.sub(r"<[^>]+>", "", (site / "queue" / "index.html").read_text(encoding="utf-8"))
    assert site_tree.pending in text and site_tree.failed in text
    assert "is not a transformers architecture" in html.unescape(text)
    for model_id in site_tree.evaluated:
        assert model_id not in text


def test_submit_page_lists_every_check_and_fix(site):
    text = html.unescape((site / "submit" / "index.html").read_text(encoding="utf-8"))
    template = re.search(r'<code class="language-yaml">(.*?)</code>', text, re.S).group(1)
    Submission.model_validate(yaml.safe_load(template))  # the template is a valid submission
    text = re.sub(r"<[^>]+>", "", text)
    for check in CHECKS:
        assert check.id in text
        assert re.sub(r"`", "", check.fix)[:40] in text


def test_about_page_cites_the_leaderboard_and_the_original_in_valid_bibtex(site):
    text = html.unescape((site / "about" / "index.html").read_text(encoding="utf-8"))
    text = re.sub(r"<[^>]+>", "", text)
    entries = re.findall(r"(@misc\{(.*?),\n.*?\n\})", text, re.S)
    assert len(entries) == 2, "this leaderboard's entry and the original's"
    for entry, key in entries:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_:-]*", key), f"invalid BibTeX key {key!r}"
        depth = 0
        for char in entry:
            depth += {"{": 1, "}": -1}.get(char, 0)
            assert depth >= 0
        assert depth == 0, f"unbalanced braces in {key}"
        assert re.search(r"\btitle\s*=", entry) and re.search(r"\byear\s*=\s*\{\d{4}\}", entry)
    assert "https://github.com/open-medical-llm/leaderboard" in entries[0][0]
    assert "Ankit Pal and Pasquale Minervini and Andreas Geert Motzfeldt" in entries[1][0]


def test_pages_load_nothing_from_other_hosts(site):
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for url in re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', text):
            assert not re.match(r"(https?:)?//", url), f"{page}: loads {url}"


def test_a_broken_results_file_is_listed_with_its_reason_and_the_rest_builds(site_tree, tmp_path):
    """Issue 17: one model's results file cannot stop every model's page. It is left out, named
    with its reason in the build's output and on the queue page; every other model is built."""
    results = tmp_path / "results"
    shutil.copytree(site_tree.results, results)
    work = tmp_path / "work"
    broken_model, kept_model = site_tree.evaluated
    broken = result_file(results, broken_model)
    data = json.loads(broken.read_text())
    data["tasks"]["pubmedqa"]["acc"] = 1.7
    broken.write_text(json.dumps(data))
    stray = results / "medlb-tiny" / "tiny-llama" / "not-a-revision.json"
    stray.write_text("{}")
    argv = [sys.executable, "-m", "runner", "site", "build", "--results", str(results)]
    argv += ["--submissions", str(site_tree.submissions), "--references", str(site_tree.references)]
    argv += ["--out", str(work / "html"), "--pages-dir", str(work / "docs")]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    shown = f"results/{broken.relative_to(results).as_posix()}"
    printed = done.stdout + done.stderr
    assert f"{shown}: broken, not on the site (" in printed and "tasks.pubmedqa.acc" in printed
    assert "not-a-revision.json: broken" in printed
    html = work / "html"
    assert not (html / "models" / broken_model / "index.html").exists()
    assert kept_model in (html / "models" / kept_model / "index.html").read_text()
    queue = (html / "queue" / "index.html").read_text()
    assert shown in queue and "tasks.pubmedqa.acc" in queue


def test_malformed_reference_names_file_and_field(site_tree, tmp_path, capsys):
    references = tmp_path / "references"
    references.mkdir()
    (references / "bad.yaml").write_text(
        "name: X\ndeveloper: Y\nsetting: z\nsetting_kind: few-shot\n"
        "source: {title: t, authors: a, year: 2023, "
        "url: 'https://example.org', location: T1}\nscores_percent: {medqa: 50}\n"
    )
    assert build(site_tree.results, site_tree.submissions, references, tmp_path / "w") == 1
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "scores_percent" in err and "medqa" in err


def test_refuses_to_overwrite_a_directory_it_did_not_make(site_tree, tmp_path, capsys):
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "notes.txt").write_text("mine")
    assert build(site_tree.results, site_tree.submissions, site_tree.references, tmp_path) == 1
    assert "not made by `medlb site build`" in capsys.readouterr().err
    assert (tmp_path / "html" / "notes.txt").read_text() == "mine"


def test_a_thousand_models_keep_the_leaderboard_page_small(site_tree, pilot_site):
    """On the session's 1,000-model site (conftest.pilot_site: the two tiny runs beside 1,000
    synthetic results, all on the sample questions, so all ranked together; two flagged)."""
    work, ids = pilot_site
    index = work / "html" / "index.html"
    assert index.stat().st_size < 1_000_000
    rows = table_rows(index)
    assert {r["model"] for r in rows} == set(ids) | set(site_tree.evaluated)
    check_rank_rule(work / "html")
    ranks = [r["rank"][0] for r in rows if r.get("rank") is not None]
    assert len(set(ranks)) < len(ranks), "overlapping intervals allow the same best rank"
    assert max(ranks) > 1, "clearly worse models rank lower"
    assert sum(1 for _ in (work / "html" / "models").rglob("index.html")) == 1002
    # Beyond accuracy: nine in ten synthetic models have rotation scores, all are ranked by them
    # and by the chance-normalised average, and every row carries its chance-normalised scores.
    synthetic = [r for r in rows if r["model"] in set(ids)]
    assert sum(1 for r in synthetic if "consistent_rank" in r) == 900
    assert all("consistent" in r for r in rows if "consistent_rank" in r)
    assert all("normalized_rank" in r and len(r["normalized_tasks"]) == 9 for r in synthetic)


def test_sample_data_is_never_ranked_against_full_splits(site_tree, tmp_path):
    """Scores on the 12 bundled questions must not share a ranking with full-split scores."""
    from site_fixtures import synthesize_results

    from runner.sitegen.entries import build_entries, sample_data_site
    from runner.sitegen.inputs import collect_inputs

    def entries_of(results: Path, submissions: Path):
        inputs = collect_inputs(results, submissions, site_tree.references)
        return inputs, {e.model_id: e for e in build_entries(inputs)}

    inputs, sample_only = entries_of(site_tree.results, site_tree.submissions)
    assert sample_data_site(inputs)
    assert all(e.place is not None for e in sample_only.values()), "a demo site ranks its runs"

    results, submissions = tmp_path / "results", tmp_path / "submissions"
    shutil.copytree(site_tree.results, results)
    shutil.copytree(site_tree.submissions, submissions)
    bases = list(published_results(site_tree.results).values())
    full = synthesize_results(bases, 3, results, submissions, seed=3, full_size=True)
    inputs, mixed = entries_of(results, submissions)
    assert not sample_data_site(inputs)
    assert {m for m, e in mixed.items() if e.place is not None} == set(full)
    assert all(not mixed[m].task_places for m in sample_only), "no task rank on sample data"
