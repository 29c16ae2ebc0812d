"""`medlb validate` as a maintainer reads it in CI: a compact job summary, one log group per file,
exit 3 (never a verdict) when the Hub does not answer, and `--changed-from` that never passes
over uncommitted submissions."""

from __future__ import annotations

import importlib
import subprocess
from pathlib import Path

import huggingface_hub
import pytest
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from submission_fixtures import VALID_PATH, VALID_SUBMISSION, git, place

from runner.cli import main
from runner.untrusted_text import table_code

# The HTTP library this huggingface_hub is built on (httpx2, httpx or requests).
http = importlib.import_module(HfHubHTTPError.__bases__[0].__module__)
HUB_URL = "https://huggingface.co/api/models/Qwen/Qwen2.5-7B-Instruct"


@pytest.fixture
def actions(tmp_path, monkeypatch):
    """A workdir under GitHub Actions; returns the job summary file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/leaderboard")
    return tmp_path / "summary.md"


def three_files(root) -> None:
    place(root, VALID_PATH, VALID_SUBMISSION)
    place(root, "submissions/a/b.yaml", VALID_SUBMISSION.replace("bfloat16", "bf16"))
    place(root, "submissions/a/c.yaml", "model: a/c\n")


def test_the_job_summary_is_one_compact_table_with_details_folded(actions, capsys):
    three_files(actions.parent)
    assert main(["validate", "--offline", "submissions"]) == 1
    capsys.readouterr()
    text = actions.read_text()
    head = text.split("<details>")[0]
    rows = [line for line in head.splitlines() if line.startswith("| ")]
    md = table_code  # paths and messages render as exactly their characters, and copy as such
    assert rows == [
        "| file | verdict | first problem |",
        f"| {md(VALID_PATH)} | ✅ valid |  |",
        f"| {md('submissions/a/b.yaml')} | ❌ invalid (2 problems) | `schema` line 3: "
        + md(
            "precision: must be float16, bfloat16 or float32, not 'bf16'; did you mean "
            "`bfloat16`? Write `precision: bfloat16`",
            160,
        )
        + " |",
        f"| {md('submissions/a/c.yaml')} | ❌ invalid (5 problems) | `schema`: "
        + md(
            "revision: required field is missing; add `revision: <the 40-character commit "
            "SHA>` (Hub: Files and versions → History → copy the full commit id)",
            160,
        )
        + " |",
    ]
    assert text.count("<details>") == 3 and text.count("</details>") == 3
    # Check ids as in the log; runs of skipped checks share one row.
    assert "| `schema` | FAIL | 3 | `` precision: must be float16" in text
    assert "\\" not in text and "\u200b" not in text  # no backslash escapes, no hidden spaces
    assert "| `hub-access`, `hub-revision`, `safetensors`, " in text
    guide = "https://github.com/acme/leaderboard/blob/HEAD/SUBMITTING.md"
    assert f"Fix: Follow the template in [SUBMITTING.md]({guide});" in text
    assert f"[SUBMITTING.md]({guide}#what-is-checked)" in text
    assert len(head.strip().splitlines()) == 4 + 3  # verdict, blank, header, rule; a row a file


def test_one_log_group_per_file_and_annotations_outside_them(actions, capsys):
    three_files(actions.parent)
    main(["validate", "--offline", "submissions"])
    out = capsys.readouterr().out.splitlines()
    groups = [line for line in out if line.startswith("::group::")]
    assert groups == [
        f"::group::{VALID_PATH}: valid",
        "::group::submissions/a/b.yaml: invalid",
        "::group::submissions/a/c.yaml: invalid",
    ]
    assert out.count("::endgroup::") == 3
    inside = False
    for line in out:
        inside = line.startswith("::group::") or (inside and line != "::endgroup::")
        assert not (inside and line.startswith("::error")), "annotations stay visible"
    assert out[-1] == "3 files checked: 1 valid, 2 invalid"


def fail_model_info(monkeypatch, error: BaseException) -> None:
    def model_info(*args, **kwargs):
        raise error

    monkeypatch.setattr(huggingface_hub, "model_info", model_info)


def hub_response(status: int):
    return http.Response(status, request=http.Request("GET", HUB_URL))


@pytest.mark.parametrize(
    ("error", "detail"),
    [
        (http.ConnectError("[Errno -3] name resolution failed"), "ConnectError"),
        (HfHubHTTPError("Too Many Requests", response=hub_response(429)), "rate-limited: HTTP 429"),
        (HfHubHTTPError("Bad Gateway", response=hub_response(502)), "HTTP 502"),
    ],
    ids=["unreachable", "rate-limited", "server-error"],
)
def test_a_hub_that_does_not_answer_is_could_not_check_exit_3(
    actions, capsys, monkeypatch, error, detail
):
    place(actions.parent, VALID_PATH, VALID_SUBMISSION)
    fail_model_info(monkeypatch, error)
    assert main(["validate", VALID_PATH]) == 3
    out, err = capsys.readouterr()
    assert f"{VALID_PATH}: COULD NOT CHECK" in out
    assert (
        f"  ERROR hub-access      the Hub did not answer while looking up "
        f"Qwen/Qwen2.5-7B-Instruct ({detail}); this says nothing about the model: re-run later"
    ) in out.splitlines()
    assert "  skip  safetensors     the Hub did not answer" in out.splitlines()
    assert not [line for line in out.splitlines() if line.startswith("::error")]
    assert [line for line in out.splitlines() if line.startswith("::warning")]
    assert (
        out.splitlines()[-1]
        == "1 file checked: 0 valid, 0 invalid, 1 could not be checked (re-run)"
    )
    assert "medlb: error: could not check 1 file: the Hub did not answer" in err
    assert "re-run the check" in err
    assert "could not be checked (re-run; not a verdict)" in actions.read_text()


def test_an_invalid_file_wins_over_one_that_could_not_be_checked(actions, capsys, monkeypatch):
    place(actions.parent, VALID_PATH, VALID_SUBMISSION)
    place(actions.parent, "submissions/a/b.yaml", "model: a/b\n")
    fail_model_info(monkeypatch, http.ReadTimeout("timed out"))
    assert main(["validate", VALID_PATH, "submissions/a/b.yaml"]) == 1
    assert "1 file checked" not in capsys.readouterr().out


def test_a_hub_that_answers_no_is_a_verdict(actions, capsys, monkeypatch):
    place(actions.parent, VALID_PATH, VALID_SUBMISSION)
    fail_model_info(monkeypatch, RepositoryNotFoundError("404", response=hub_response(404)))
    assert main(["validate", VALID_PATH]) == 1
    out = capsys.readouterr().out
    assert (
        "  FAIL  hub-access      Qwen/Qwen2.5-7B-Instruct does not exist on the Hub or is private"
        in out.splitlines()
    )


@pytest.fixture
def pr_branch(tmp_path, monkeypatch):
    """A repository whose branch `pr` forked from `main` and committed nothing yet."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    git(tmp_path, "init", "-q", "-b", "main")
    place(tmp_path, "README.md", "readme\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "base")
    git(tmp_path, "checkout", "-q", "-b", "pr")
    return tmp_path


def test_changed_from_refuses_an_uncommitted_submission(pr_branch, capsys):
    place(pr_branch, VALID_PATH, VALID_SUBMISSION)  # untracked
    assert main(["validate", "--offline", "--changed-from", "main"]) == 2
    out, err = capsys.readouterr()
    assert "(no changes)" not in out and "valid" not in out
    assert err == (
        f"medlb: error: --changed-from checks committed changes only, and {VALID_PATH} is not "
        f"committed; commit it (git add, git commit) or validate by name: medlb validate "
        f"{VALID_PATH}\n"
    )
    git(pr_branch, "add", "-A")  # staged but not committed: still refused
    assert main(["validate", "--offline", "--changed-from", "main"]) == 2
    git(pr_branch, "commit", "-q", "-m", "submit")
    assert main(["validate", "--offline", "--changed-from", "main"]) == 0
    place(pr_branch, VALID_PATH, VALID_SUBMISSION + "paper: https://x.org/p\n")  # modified
    assert main(["validate", "--offline", "--changed-from", "main"]) == 2


def validate_step_script() -> str:
    import yaml

    workflow = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "validate.yml"
    steps = yaml.safe_load(workflow.read_text())["jobs"]["validate"]["steps"]
    (step,) = [s for s in steps if "medlb validate" in s.get("run", "")]
    return step["run"]


@pytest.mark.parametrize(
    ("codes", "status", "attempts"),
    [([0], 0, 1), ([1], 1, 1), ([3, 0], 0, 2), ([3, 1], 1, 2), ([3, 3, 3], 3, 3)],
    ids=["valid", "invalid", "hub-back", "hub-back-invalid", "hub-down"],
)
def test_the_workflow_retries_exit_3_and_then_blames_the_hub(tmp_path, codes, status, attempts):
    """validate.yml's step, run by bash with a stand-in `medlb` (and `sleep`) on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "codes").write_text("\n".join(map(str, codes)) + "\n")
    stub = bin_dir / "medlb"
    stub.write_text(
        '#!/bin/sh\necho "attempt: $*" >> "$STUB_DIR/calls"\necho "summary $*" >> '
        '"$GITHUB_STEP_SUMMARY"\ncode=$(head -n 1 "$STUB_DIR/codes")\n'
        'sed -i 1d "$STUB_DIR/codes"\nexit "$code"\n'
    )
    (bin_dir / "sleep").write_text('#!/bin/sh\necho "slept $1" >> "$STUB_DIR/calls"\n')
    for path in (stub, bin_dir / "sleep"):
        path.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "STUB_DIR": str(tmp_path),
        "BASE_REF": "main",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", validate_step_script()],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == status, done.stdout + done.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls.count("attempt: validate --changed-from origin/main") == attempts
    assert [c for c in calls if c.startswith("slept")] == ["slept 30", "slept 120"][: attempts - 1]
    assert (tmp_path / "summary.md").read_text().count("summary") == 1  # the last attempt's
    blamed = "::error title=The Hugging Face Hub did not answer (not a verdict on the submission)"
    assert (blamed in done.stdout) is (status == 3)
