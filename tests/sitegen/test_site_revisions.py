"""Issue 17 on the site: the merged submission decides what is ranked, and no single model, file
or commit can break the build (ARCHITECTURE.md, "Results and ranking")."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from site_fixtures import (
    leaderboard_table,
    result_file,
    site_build_argv,
    write_flag,
    write_submission,
)

from runner.cli import main
from runner.results_schema import load_result, save

REPO = Path(__file__).resolve().parents[2]


def _git(cwd: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, input=stdin
    )
    return done.stdout.strip()


def _publish_copy(
    site_tree, results: Path, model_id: str, revision: str, *, tweak=None, legacy=False
) -> Path:
    """One of the tiny models' results published as `model_id` at `revision` (`legacy`: in the
    one-file-per-model layout)."""
    result = load_result(result_file(site_tree.results, site_tree.evaluated[0]))
    model = result.model.model_copy(update={"id": model_id, "revision": revision})
    result = result.model_copy(update={"model": model})
    if tweak:
        result = tweak(result)
    target = results / (f"{model_id}.json" if legacy else f"{model_id}/{revision}.json")
    save(target, result)
    return target


def _lb_rows(html_dir: Path) -> list[dict]:
    """The leaderboard's model rows (loglik track), as its script sees them."""
    return leaderboard_table(html_dir)[0]


def test_reserved_and_case_colliding_names_and_an_odd_commit_date_build(site_tree, tmp_path):
    """Results for acme/index, acme/README and acme/Index, and a submissions commit whose
    committer timezone is +9959 (git fsck --strict accepts it; Python's fromisoformat does not):
    the site builds, and every model's page is reachable from its leaderboard row."""
    repo = tmp_path / "repo"
    results, submissions = repo / "results", repo / "submissions"
    models = {"acme/index": "1" * 40, "acme/README": "2" * 40, "acme/Index": "3" * 40}
    for model, revision in models.items():
        _publish_copy(site_tree, results, model, revision)
        write_submission(submissions, model, revision)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=m", "-c", "user.email=m@x", "commit", "-q", "-m", "seed")
    touched = submissions / "acme" / "index.yaml"
    touched.write_text(touched.read_text() + "# touched by the odd commit\n")
    _git(repo, "add", ".")
    tree = _git(repo, "write-tree")
    parent = _git(repo, "rev-parse", "HEAD")
    odd = (
        f"tree {tree}\nparent {parent}\nauthor a <a@x> 1700000000 +9959\n"
        "committer c <c@x> 1700000000 +9959\n\nodd timezone\n"
    )
    commit = _git(repo, "hash-object", "-t", "commit", "-w", "--stdin", stdin=odd)
    _git(repo, "update-ref", "refs/heads/main", commit)
    _git(repo, "fsck", "--strict")
    assert "+99:59" in _git(repo, "log", "-1", "--format=%cI", "--", "submissions")

    work = tmp_path / "work"
    assert main(site_build_argv(results, submissions, site_tree.references, work)) == 0
    html_dir = work / "html"
    rows = _lb_rows(html_dir)
    assert sorted(row["model"] for row in rows) == sorted(models)
    keys = [row.get("key") or row["model"] for row in rows]
    assert len({key.casefold() for key in keys}) == 3  # no two pages on a case-blind host
    pages = {
        row["model"]: html_dir / "models" / key / "index.html"
        for row, key in zip(rows, keys, strict=True)
    }
    assert [m for m, page in pages.items() if not page.is_file()] == []  # none 404s
    for model, page in pages.items():
        assert "<h1" in page.read_text() and model in page.read_text(encoding="utf-8")
    assert not [key for key in keys if key.split("/")[1].casefold() in ("index", "readme")]


def test_reserved_and_case_colliding_names_each_get_their_own_page(site_tree, tmp_path):
    """Without any git history: acme/index and acme/README would be their folder's own page
    (the leaderboard's link 404s), acme/Index and acme/index the same page on a case-blind host.
    In the old layout, which the code before issue 17 read too."""
    results, submissions = tmp_path / "results", tmp_path / "submissions"
    models = {"acme/index": "1" * 40, "acme/README": "2" * 40, "acme/Index": "3" * 40}
    for model, revision in models.items():
        _publish_copy(site_tree, results, model, revision, legacy=True)
        write_submission(submissions, model, revision)
    work = tmp_path / "work"
    assert main(site_build_argv(results, submissions, site_tree.references, work)) == 0
    rows = _lb_rows(work / "html")
    keys = {row["model"]: row.get("key") or row["model"] for row in rows}
    missing = [
        m for m, k in keys.items() if not (work / "html" / "models" / k / "index.html").is_file()
    ]
    assert missing == []
    assert len({k.casefold() for k in keys.values()}) == 3


def test_a_commit_date_python_cannot_parse_dates_nothing(tmp_path):
    from runner.sitegen.git_dates import last_commit_dates

    repo = tmp_path / "repo"
    (repo / "submissions").mkdir(parents=True)
    (repo / "submissions" / "a.yaml").write_text("a: 1\n")
    (repo / "submissions" / "b.yaml").write_text("b: 1\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=m", "-c", "user.email=m@x", "commit", "-q", "-m", "seed")
    (repo / "submissions" / "a.yaml").write_text("a: 2\n")
    _git(repo, "add", ".")
    tree, parent = _git(repo, "write-tree"), _git(repo, "rev-parse", "HEAD")
    odd = f"tree {tree}\nparent {parent}\nauthor a <a@x> 1 +9959\ncommitter c <c@x> 1 +9959\n\nx\n"
    _git(repo, "update-ref", "refs/heads/main", _git(repo, "hash-object", "-t", "commit", "-w",
         "--stdin", stdin=odd))  # fmt: skip
    dates = last_commit_dates(repo / "submissions")
    assert list(dates) == [(repo / "submissions" / "b.yaml").resolve()]  # a.yaml: no date


def test_the_merged_submission_decides_the_ranked_revision(site_tree, tmp_path):
    """Two results of one model: the leaderboard shows the one the submission names (whatever
    the other scores); the other is listed on the model page as not the submitted revision. A
    PR's result without a merged submission waits on the queue page with its scores."""
    results, submissions = tmp_path / "results", tmp_path / "submissions"
    shutil.copytree(site_tree.submissions, submissions)
    submitted, older = "a" * 40, "b" * 40

    def higher(result):
        tasks = {n: t.model_copy(update={"acc": 0.99}) for n, t in result.tasks.items()}
        return result.model_copy(update={"tasks": tasks, "average": 0.99})

    _publish_copy(site_tree, results, "BioMistral/BioMistral-7B", submitted)
    _publish_copy(site_tree, results, "BioMistral/BioMistral-7B", older, tweak=higher)
    write_submission(submissions, "BioMistral/BioMistral-7B", submitted)
    _publish_copy(site_tree, results, "newcomer/unmerged-7b", "c" * 40)
    work = tmp_path / "work"
    assert main(site_build_argv(results, submissions, site_tree.references, work)) == 0
    html_dir = work / "html"
    [row] = [r for r in _lb_rows(html_dir) if r["model"] == "BioMistral/BioMistral-7B"]
    assert row["average"][0] != 99.0  # the submitted revision's average, not the higher one
    assert not [r for r in _lb_rows(html_dir) if r["model"] == "newcomer/unmerged-7b"]
    page = (html_dir / "models" / "BioMistral" / "BioMistral-7B" / "index.html").read_text()
    assert "not the submitted revision" in page and older[:10] in page and "99.0%" in page
    queue = (html_dir / "queue" / "index.html").read_text()
    awaiting = queue.split('class="queue-evaluated')[1].split("</table>")[0]
    assert "newcomer/unmerged-7b" in re.sub(r"<[^>]+>", "", awaiting)
    assert "medqa_4options" in awaiting
    assert "pulls?q=" in awaiting


def test_a_flag_and_a_result_match_whatever_the_case(site_tree, tmp_path):
    """Hub ids ignore case: a flag of BioMistral/BioMistral-7B flags the result published as
    biomistral/biomistral-7b (an exact-string lookup missed it)."""
    results, submissions = tmp_path / "results", tmp_path / "submissions"
    revision = "d" * 40
    _publish_copy(site_tree, results, "biomistral/biomistral-7b", revision)
    write_submission(submissions, "biomistral/biomistral-7b", revision)
    flags = tmp_path / "flags"
    write_flag(flags, "BioMistral/BioMistral-7B", "Trained on the test set.", "https://x.org/1")
    work = tmp_path / "work"
    argv = site_build_argv(results, submissions, site_tree.references, work, flags=flags)
    assert main(argv) == 0
    page = work / "html" / "models" / "biomistral" / "biomistral-7b" / "index.html"
    assert "Flagged by a maintainer" in page.read_text()


def test_a_legacy_one_file_result_still_loads_and_migrates(site_tree, tmp_path, capsys):
    """The layout before issue 17 (results/<org>/<model>.json) still builds; `medlb results
    migrate` moves it to results/<org>/<model>/<revision>.json in one command."""
    results, submissions = tmp_path / "results", tmp_path / "submissions"
    revision = "e" * 40
    new_layout = _publish_copy(site_tree, results, "acme/legacy-7b", revision)
    legacy = results / "acme" / "legacy-7b.json"
    new_layout.rename(legacy)
    new_layout.parent.rmdir()
    write_submission(submissions, "acme/legacy-7b", revision)
    work = tmp_path / "work"
    assert main(site_build_argv(results, submissions, site_tree.references, work)) == 0
    assert (work / "html" / "models" / "acme" / "legacy-7b" / "index.html").exists()
    before = legacy.read_bytes()
    assert main(["results", "migrate", "--results-dir", str(results)]) == 0
    assert "migrated 1 file(s)" in capsys.readouterr().out
    assert not legacy.exists() and new_layout.read_bytes() == before
    assert main(site_build_argv(results, submissions, site_tree.references, work)) == 0


def test_a_config_elsewhere_builds_the_pages_it_wrote(site_tree, tmp_path, monkeypatch):
    """`medlb site build --config OTHER/mkdocs.yml` from another directory: mkdocs reads the
    pages this build wrote under the working directory, never stale pages beside the config."""
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(REPO / "mkdocs.yml", other / "mkdocs.yml")
    shutil.copytree(REPO / "site", other / "site")
    stale = other / "pages"
    stale.mkdir()
    (stale / "index.md").write_text("# STALE PAGE FROM ANOTHER BUILD\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    argv = ["site", "build", "--results", str(site_tree.results)]
    argv += ["--submissions", str(site_tree.submissions), "--references", str(site_tree.references)]
    argv += ["--config", str(other / "mkdocs.yml"), "--flags", str(tmp_path / "no-flags")]
    assert main([*argv, "--pages-dir", "pages", "--out", "html"]) == 0
    index = (elsewhere / "html" / "index.html").read_text()
    assert "STALE PAGE" not in index and site_tree.evaluated[0] in index
