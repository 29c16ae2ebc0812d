"""`medlb results intake --event workflow_run`: the bundle is believed only where GitHub agrees.

Every hostile case exits 1 with one line naming the reason and writes nothing (no request
directory, no step outputs, no job summary); the honest case exits 0. The default branch is a
plain directory here (intake reads the checkout's files, not git), and GitHub's answers are JSON
in the documented shapes (tests/github_fake.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from github_fake import file_entry, pull_answer, shown

from runner.cli import main
from runner.digests import git_blob_sha1

HEAD = "ab" * 20
REVISION = "cd" * 20
OLD = "ef" * 20
HEAD_REPO = "contributor/leaderboard"
PATH = "submissions/acme/med-7b.yaml"
VICTIM = "submissions/BioMistral/BioMistral-7B.yaml"


def submission_yaml(model: str = "acme/med-7b", revision: str = REVISION) -> bytes:
    return (
        f"model: {model}\nrevision: '{revision}'\nprecision: bfloat16\nmodel_type: pretrained\n"
        "license: apache-2.0\ndescription: A model for the intake tests.\n"
    ).encode()


@dataclass
class Intake:
    """One intake: a default-branch checkout, a bundle, GitHub's answers and the options."""

    root: Path
    path: str = PATH
    data: bytes = field(default_factory=submission_yaml)
    pr: int = 12
    bundle_head: str = HEAD
    pull: dict[str, Any] = field(default_factory=lambda: pull_answer(12, HEAD, HEAD_REPO))
    files: Any = None
    options: dict[str, str] = field(
        default_factory=lambda: {"--head-repo": HEAD_REPO, "--head-sha": HEAD}
    )

    def __post_init__(self) -> None:
        if self.files is None:
            self.files = [file_entry(self.path, git_blob_sha1(self.data))]

    def argv(self) -> list[str]:
        bundle = self.root / "incoming"
        (bundle / self.path).parent.mkdir(parents=True, exist_ok=True)
        (bundle / self.path).write_bytes(self.data)
        meta = {"submission": self.path, "pr": self.pr, "head_sha": self.bundle_head}
        (bundle / "bundle.json").write_text(json.dumps(meta))
        (self.root / "pull.json").write_text(json.dumps(self.pull))
        (self.root / "files.json").write_text(json.dumps(self.files))
        argv = ["results", "intake", "--event", "workflow_run", "--bundle", str(bundle)]
        argv += ["--pull", str(self.root / "pull.json"), "--pull-files"]
        argv += [str(self.root / "files.json"), "--output", str(self.root / "request")]
        return argv + [x for kv in self.options.items() for x in kv]


@pytest.fixture
def case(tmp_path, monkeypatch) -> Intake:
    """The default branch has BioMistral at OLD (submission and result) and Org/Cased."""
    main_branch = tmp_path / "main"
    for path, text in {
        VICTIM: submission_yaml("BioMistral/BioMistral-7B", OLD),
        "results/BioMistral/BioMistral-7B.json": json.dumps({"model": {"revision": OLD}}).encode(),
        "submissions/Org/Cased.yaml": submission_yaml("Org/Cased", OLD),
        ".github/workflows/validate.yml": b"name: validate\n",
    }.items():
        (main_branch / path).parent.mkdir(parents=True, exist_ok=True)
        (main_branch / path).write_bytes(text)
    monkeypatch.chdir(main_branch)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "github_output"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    return Intake(tmp_path)


def test_the_honest_pull_request_is_taken_in(case, capsys):
    assert main(case.argv()) == 0
    request = json.loads((case.root / "request" / "request.json").read_text())
    assert (request["pr"], request["head_sha"], request["head_repo"]) == (12, HEAD, HEAD_REPO)
    assert request["base_revision"] is None  # a new model
    assert (case.root / "request" / PATH).read_bytes() == case.data
    outputs = (case.root / "github_output").read_text()
    for name, value in {"evaluate": "true", "pr": "12", "model": "acme/med-7b"}.items():
        assert f"{name}<<" in outputs and f"\n{value}\n" in outputs
    assert f"\nPR #12: acme/med-7b@{REVISION[:12]}\n" in outputs  # the GPU jobs' names
    summary = shown((case.root / "summary.md").read_text())
    assert f"### You are approving PR #12: acme/med-7b@{REVISION}\n" in summary
    assert "checked with GitHub's API" in summary


def test_all_pages_of_the_files_list_and_a_new_revision_are_accepted(case):
    """`gh api --paginate --slurp` writes an array of pages; an update of a submitted model."""
    case.path, case.data = VICTIM, submission_yaml("BioMistral/BioMistral-7B", REVISION)
    case.files = [[file_entry(VICTIM, git_blob_sha1(case.data), "modified")]]
    assert main(case.argv()) == 0
    request = json.loads((case.root / "request" / "request.json").read_text())
    assert request["base_revision"] == OLD  # what publishing re-checks against the live branch


def _pull(**changes: Any):
    def edit(case: Intake) -> None:
        case.pull = pull_answer(12, HEAD, HEAD_REPO, **changes)

    return edit


def _files(*entries: Any):
    def edit(case: Intake) -> None:
        case.files = [entry(case) if callable(entry) else entry for entry in entries]

    return edit


def _ours(status: str = "added", **extra: str):
    return lambda case: file_entry(case.path, git_blob_sha1(case.data), status, **extra)


def _set(**attributes: Any):
    def edit(case: Intake) -> None:
        for name, value in attributes.items():
            setattr(case, name, value)

    return edit


def _option(name: str, value: str):
    return lambda case: case.options.__setitem__(name, value)


def _fork_rewrote_validate(case: Intake) -> None:
    """Finding 1: a fork PR edits validate.yml and README; its bundle names another model's file."""
    case.path, case.data = VICTIM, submission_yaml("BioMistral/BioMistral-7B", REVISION)
    case.files = [
        file_entry(".github/workflows/validate.yml", "1" * 40, "modified"),
        file_entry("README.md", "2" * 40, "modified"),
    ]
    case.pull = pull_answer(12, HEAD, HEAD_REPO, changed_files=2)


HOSTILE = {
    "closed": (_pull(state="closed"), 'pull request #12 is "closed", not open'),
    "draft": (_pull(draft=True), "pull request #12 is a draft"),
    "another PR's answer": (
        lambda c: setattr(c, "pull", pull_answer(13, HEAD, HEAD_REPO)),
        "--pull describes pull request #13, the bundle names #12",
    ),
    "pushed since": (_pull(), None),  # replaced below: PR head moved on
    "bundle for another commit": (_set(bundle_head="0" * 40), "is not the checked commit"),
    "fork deleted": (
        lambda c: setattr(c, "pull", pull_answer(12, HEAD, None)),
        "its head repository no longer exists",
    ),
    "another head repository": (
        _option("--head-repo", "attacker/leaderboard"),
        'head repository is "contributor/leaderboard", not "attacker/leaderboard"',
    ),
    "not the default branch": (_pull(base_ref="release"), 'targets "release", not the default'),
    "fork edits validate.yml, bundles another model": (
        _fork_rewrote_validate,
        '".github/workflows/validate.yml": changes .github/workflows/validate.yml: a submission',
    ),
    "two files": (
        _files(_ours(), file_entry("README.md", "2" * 40, "modified")),
        '"README.md": changes README.md',
    ),
    "two submissions": (
        _files(_ours(), file_entry("submissions/acme/b.yaml", "3" * 40)),
        "changes 2 submission files; submit one model per pull request",
    ),
    "no files": (_files(), "changes 1 files, the files list has 0"),
    "changed_files disagrees": (_pull(changed_files=3), "changes 3 files, the files list has 1"),
    "removed": (_files(_ours("removed")), "deletes a submission"),
    "renamed": (_files(_ours("renamed", previous="submissions/acme/old.yaml")), "renames or"),
    "copied": (_files(_ours("copied", previous="submissions/acme/old.yaml")), "renames or"),
    "changed": (_files(_ours("changed")), "changes a file's type"),
    "unchanged": (_files(_ours("unchanged")), 'has status "unchanged"'),
    "path not anchored": (
        _files(file_entry("x/submissions/acme/med-7b.yaml", "4" * 40)),
        "a submission PR may change only submissions/",
    ),
    "dot-dot in the path": (
        _files(file_entry("submissions/acme/../med-7b.yaml", "4" * 40)),
        "is not a submission file",
    ),
    "newline in the path": (
        _files(file_entry("submissions/acme/x.yaml\n::error::forged", "4" * 40)),
        r'"submissions/acme/x.yaml\n::error::forged"',
    ),
    "another file than the bundle's": (
        _files(file_entry("submissions/acme/other.yaml", "5" * 40)),
        'changes "submissions/acme/other.yaml", the bundle holds "submissions/acme/med-7b.yaml"',
    ),
    "bytes differ from the PR's": (
        lambda c: setattr(c, "data", c.data + b"# edited after the fact\n"),
        "is not the file in the pull request",
    ),
    "revision already submitted": (
        lambda c: (
            _set(path=VICTIM, data=submission_yaml("BioMistral/BioMistral-7B", OLD))(c),
            _files(_ours("modified"))(c),
        ),
        f"revision {OLD[:12]} is already submitted in {VICTIM} on the default branch",
    ),
    "revision already evaluated": (
        lambda c: (
            _set(path=VICTIM, data=submission_yaml("BioMistral/BioMistral-7B", OLD))(c),
            (c.root / "main" / VICTIM).unlink(),
            _files(_ours("added"))(c),
        ),
        "is already evaluated (results/BioMistral/BioMistral-7B.json on the default branch)",
    ),
    "same model in other case": (
        lambda c: (
            _set(path="submissions/org/cased.yaml", data=submission_yaml("org/cased"))(c),
            _files(_ours())(c),
        ),
        "submissions/Org/Cased.yaml already submits this model (Hub ids ignore case)",
    ),
    "file names another model": (
        lambda c: (
            _set(data=submission_yaml("BioMistral/BioMistral-7B"))(c),
            _files(_ours())(c),
        ),
        "names model BioMistral/BioMistral-7B, which is submitted as " + VICTIM,
    ),
    "a second workflow named validate": (
        _option("--workflow-path", ".github/workflows/evil.yml"),
        "only runs of .github/workflows/validate.yml are taken in",
    ),
    "pull number as a string": (
        lambda c: c.pull.__setitem__("number", "12"),
        "number: Input should be a valid integer",
    ),
    "files not an array": (
        _set(files={"filename": PATH}),
        "not an array of files",
    ),
    "files nested beyond reason": (
        _set(files=None),  # replaced below: raw text that no JSON parser should recurse into
        "not JSON (RecursionError)",
    ),
}


def _pushed_since(case: Intake) -> None:
    case.pull = pull_answer(12, "9" * 40, HEAD_REPO)


HOSTILE["pushed since"] = (_pushed_since, f"not the validated commit {HEAD}")


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_intake_is_refused_with_one_line_and_writes_nothing(case, capsys, name):
    edit, reason = HOSTILE[name]
    edit(case)
    argv = case.argv()
    if name == "files nested beyond reason":
        (case.root / "files.json").write_text("[" * 100_000 + "]" * 100_000)
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("medlb: error: "), err
    assert reason in err
    assert not any(line.startswith("::") for line in (out + err).splitlines())
    assert not (case.root / "request").exists()
    assert not (case.root / "github_output").exists()
    assert not (case.root / "summary.md").exists()


@pytest.mark.parametrize(
    "flag", ["--bundle", "--pull", "--pull-files", "--head-repo", "--head-sha"]
)
def test_a_workflow_run_intake_needs_every_piece_of_evidence(case, capsys, flag):
    argv = case.argv()
    i = argv.index(flag)
    assert main(argv[:i] + argv[i + 2 :]) == 2
    assert f"--event workflow_run needs {flag}" in capsys.readouterr().err
    assert not (case.root / "request").exists()


def test_the_command_line_exit_statuses(case):
    """As the workflow (and anyone) runs it: a process, exit 0 / 1 / 2, one line of error."""
    argv = [sys.executable, "-m", "runner", *case.argv()]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    run = lambda a: subprocess.run(a, capture_output=True, text=True, env=env)  # noqa: E731
    assert run(argv).returncode == 0
    shutil.rmtree(case.root / "request")
    (case.root / "files.json").write_text(json.dumps([file_entry(VICTIM, "6" * 40)]))
    refused = run(argv)
    assert (refused.returncode, refused.stderr.count("\n")) == (1, 1), refused.stderr
    assert not (case.root / "request").exists()
    i = argv.index("--head-sha")
    assert run(argv[:i] + argv[i + 2 :]).returncode == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("submission", "x/submissions/acme/med-7b.yaml"),  # finding 6: patterns matched anywhere
        ("submission", "submissions/acme/med-7b.yaml.sh"),
        ("submission", "submissions/acme/med-7b.yaml\n"),
        ("submission", "submissions/ac me/med-7b.yaml"),
        ("submission", "submissions/acme/a--b.yaml"),
        ("head_sha", "zz" + HEAD),
        ("head_sha", HEAD + "\n"),
    ],
)
def test_bundle_fields_are_matched_in_full(case, capsys, field, value):
    argv = case.argv()
    meta = json.loads((case.root / "incoming" / "bundle.json").read_text())
    meta[field] = value
    (case.root / "incoming" / "bundle.json").write_text(json.dumps(meta))
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"bundle bundle.json: {field}: Value error" in err and err.count("\n") == 1
    assert not (case.root / "request").exists()
