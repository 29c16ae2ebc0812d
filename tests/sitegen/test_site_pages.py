"""The pages a reader uses besides the leaderboard: specialties, tasks, queue, submit, charts,
and the links to the repository a submitter opens a pull request on."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from site_fixtures import page_words, published_results, site_build_argv

from runner.cli import main
from runner.evaluation.tasks import TASK_NAMES
from runner.results_schema import EvaluationFailure, save
from runner.sitegen.ranking import rank_places
from runner.stats import Interval, wilson_interval
from runner.submissions.schema import Submission

DEFAULT_REPO = "https://github.com/open-medical-llm/leaderboard"  # mkdocs.yml's repo_url


def build(site_tree, work: Path, *extra: str, results: Path | None = None) -> int:
    argv = site_build_argv(
        results or site_tree.results, site_tree.submissions, site_tree.references, work
    )
    return main([*argv, *extra])


@pytest.fixture(scope="module")
def site(site_tree, tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("site-pages")
    assert build(site_tree, work, "--repo-url", "https://github.com/acme/medical-lb/") == 0
    return work / "html"


def pct(value: float) -> float:
    return round(100 * value, 1)


def test_specialties_rank_every_subject_by_its_wilson_interval(site, site_tree):
    results = published_results(site_tree.results)
    page = (site / "specialties" / "index.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="sp-data">(.*?)</script>', page, re.S).group(1))
    medmcqa = {s for r in results.values() for s in r.tasks["medmcqa"].subjects}
    mmlu = {f"{n}:{n[5:].replace('_', ' ')}" for n in TASK_NAMES if n.startswith("mmlu_")}
    assert {c["key"] for c in data["columns"]} == {f"medmcqa:{s}" for s in medmcqa} | mmlu
    models = data["models"]
    rows = {models[row["model_index"]]["model"]: row for row in data["tracks"][0]["rows"]}
    assert set(rows) == set(results)
    for i, column in enumerate(data["columns"]):
        key, label = column["key"], column["name"]
        task, subject = key.split(":", 1)
        scores = {m: r.tasks[task].subjects[subject] for m, r in results.items()}
        places = rank_places(
            [Interval(s.acc, *wilson_interval(s.acc, s.n)) for s in scores.values()]
        )
        for (model, score), place in zip(scores.items(), places, strict=True):
            low, high = wilson_interval(score.acc, score.n)
            expected = [pct(score.acc), pct(low), pct(high), place.rank, place.worst, score.n]
            assert rows[model]["cells"][i] == expected, (model, key)
        assert label[0].isupper()
    assert '<a href="?sort=medmcqa%3AGynaecology%20%26%20Obstetrics">' in page, "one click"
    nav = (site / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<a href="specialties/" class="md-tabs__link">\s*Specialties', nav)


def test_tasks_index_names_each_tasks_leader(site, site_tree):
    results = published_results(site_tree.results)
    text = (site / "tasks" / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr><td[^>]*><div><a href="([a-z_0-9]+)/">.*?</tr>', text, re.S)
    assert rows == list(TASK_NAMES)
    for name in TASK_NAMES:
        row = re.search(rf'<tr><td[^>]*><div><a href="{name}/">.*?</tr>', text, re.S).group(0)
        best = max(results.values(), key=lambda r, n=name: (r.tasks[n].acc, r.model.id))
        leader = re.search(r'href="../models/([^"]+)/"', row).group(1)
        assert results[leader].tasks[name].acc == best.tasks[name].acc
        assert f"{100 * best.tasks[name].acc:.1f}" in row


def test_charts_mark_chance_and_pubmedqas_majority_answer(site, site_tree):
    text = (site / "models" / site_tree.evaluated[0] / "index.html").read_text(encoding="utf-8")
    profile = text.split('class="medlb-chart bars"')[1]
    rows = re.findall(r'<div class="bar-row" title="([^"]*)">(.*?)</div>', profile)[:9]
    assert len(rows) == 9
    for title, row in rows:
        chance = re.search(r'class="chance" x1="([\d.]+)"', row).group(1)
        majority = re.search(r'class="majority" x1="([\d.]+)"', row)
        if title.startswith("PubMedQA"):
            assert float(chance) == pytest.approx(100 / 3, abs=0.01)
            assert majority and float(majority.group(1)) == pytest.approx(55.2)
        else:
            assert float(chance) == 25 and majority is None
    caption = page_words(site / "models" / site_tree.evaluated[0] / "index.html")
    assert "chance (25% with four options, 33.3% for PubMedQA's three)" in caption
    assert "PubMedQA's majority answer (“yes”, 55.2% of its test set)" in caption
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'class="line-label chance"' in index, "the size chart marks chance too"


def test_header_submit_page_and_citation_link_the_repository(site, tmp_path, site_tree):
    repo = "https://github.com/acme/medical-lb"
    index = (site / "index.html").read_text(encoding="utf-8")
    assert f'<a href="{repo}" title="Go to repository" class="md-source">' in index
    assert 'data-md-component="source"' not in index, "no request to GitHub's API for stars"
    submit = (site / "submit" / "index.html").read_text(encoding="utf-8")
    new_file = re.search(r'href="([^"]*/new/main/submissions\?[^"]*)"', submit).group(1)
    url = urlsplit(html.unescape(new_file))
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{repo}/new/main/submissions"
    query = parse_qs(url.query)
    assert query["filename"] == ["ORG/MODEL.yaml"]
    Submission.model_validate(yaml.safe_load(query["value"][0]))  # the pre-filled example is valid
    assert f"{repo}/pulls" in submit
    assert repo in page_words(site / "about" / "index.html")

    default = tmp_path / "default"
    assert build(site_tree, default) == 0
    assert f'href="{DEFAULT_REPO}"' in (default / "html" / "index.html").read_text("utf-8")


def test_a_repository_url_that_is_not_one_is_refused_in_one_line(site_tree, tmp_path, capsys):
    assert build(site_tree, tmp_path, "--repo-url", "github.com/acme") == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--repo-url" in err and "https://HOST/OWNER/NAME" in err


def test_submit_page_is_submitting_md_rendered(site):
    page = site / "submit" / "index.html"
    text = page_words(page)
    repo_doc = (Path(__file__).resolve().parents[2] / "SUBMITTING.md").read_text("utf-8")
    for heading in re.findall(r"^## (.+)$", repo_doc, re.M):
        assert heading in text
    assert "submissions/<org>/<model>.yaml" in text, "the path reads as written"
    assert "&lt;" not in text and "&gt;" not in text
    raw = page.read_text(encoding="utf-8")
    first_column = re.findall(r"<tr>\s*<td><code>([a-z-]+)</code></td>", raw)
    assert "no-remote-code" in first_column and "pr-scope" in first_column


def test_queue_rows_link_pull_requests_and_show_dates(site_tree, tmp_path):
    """A pending row shows its file's last commit date; a failed row its date and CI run."""
    repo = tmp_path / "repo"
    shutil.copytree(site_tree.submissions, repo / "submissions")
    shutil.copytree(site_tree.results, repo / "results")
    save(
        repo / "results" / "medlb-tiny" / "tiny-broken.failure.json",
        EvaluationFailure(
            model=site_tree.failed,
            revision="b" * 40,
            stage="evaluation",
            reason="CUDA out of memory at batch size 1",
            failed_at=datetime(2026, 1, 3, 4, 5, tzinfo=UTC),
            ci_run_url="https://github.com/acme/medical-lb/actions/runs/42",
        ),
    )
    env = {**os.environ, "GIT_AUTHOR_DATE": "2026-01-05T10:00:00Z"}
    env["GIT_COMMITTER_DATE"] = env["GIT_AUTHOR_DATE"]
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "submissions"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "s"],
    ):
        subprocess.run(command, cwd=repo, env=env, check=True, capture_output=True)
    argv = site_build_argv(repo / "results", repo / "submissions", site_tree.references, tmp_path)
    assert main([*argv, "--repo-url", "https://github.com/acme/medical-lb"]) == 0
    queue = (tmp_path / "html" / "queue" / "index.html").read_text(encoding="utf-8")
    pending = queue.split('class="queue-pending')[1].split("</table>")[0]
    assert "2026-01-05" in pending
    assert "pulls?q=is%3Apr%20%22medlb-tiny%2Ftiny-pending%22" in pending
    failed = queue.split('class="queue-failed')[1].split("</table>")[0]
    assert "2026-01-03 04:05 UTC" in failed
    assert 'href="https://github.com/acme/medical-lb/actions/runs/42">CI run</a>' in failed
    assert "tiny-broken%22" in failed


def test_empty_sites_point_to_the_queue_or_to_submitting(site_tree, tmp_path):
    empty = tmp_path / "no-results"
    empty.mkdir()
    assert build(site_tree, tmp_path / "a", results=empty) == 0
    text = page_words(tmp_path / "a" / "html" / "index.html")
    submitted = len(list(site_tree.submissions.rglob("*.yaml")))
    assert "No results yet" in text and f"{submitted} submissions are in the queue" in text
    assert 'href="queue/"' in (tmp_path / "a" / "html" / "index.html").read_text("utf-8")

    argv = site_build_argv(empty, empty, site_tree.references, tmp_path / "b")
    assert main(argv) == 0
    text = page_words(tmp_path / "b" / "html" / "index.html")
    assert "Nothing has been submitted yet: submit a model" in text
