"""Publishing lands one commit through the Git Data API, decided against the live branch, and
answers the PR only after it landed (`medlb results deliver`, runner.pipeline.landing).

GitHub is `github_fake.FakeGitHub`: documented response shapes over a real bare git repository,
with injected faults (a 5xx on createTree, a 422 on updateRef because the branch moved) and other
commits landing between attempts.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from github_fake import OWNER_REPO, FakeGitHub, pull_answer, readme_repository, shown

from runner.errors import UserError
from runner.github_api import GitHubRepo
from runner.pipeline.landing import Backoff, deliver
from runner.pipeline.publish import Publication, write_plan
from runner.pipeline.request import write_request

REVISION = "cd" * 20
NEWER = "9a" * 20
SUBMISSION = "submissions/acme/med-7b.yaml"
RESULT = f"results/acme/med-7b/{REVISION}.json"
FAILURE = f"results/acme/med-7b/{REVISION}.failure.json"
HEAD = "ab" * 20  # the PR's head commit, which the request was taken in at


def submission_yaml(revision: str) -> bytes:
    return (
        f"model: acme/med-7b\nrevision: '{revision}'\nprecision: float32\n"
        "model_type: pretrained\nlicense: mit\ndescription: A model for the landing tests.\n"
    ).encode()


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def github(tmp_path) -> FakeGitHub:
    """The repository: main with a README (the PR that submits acme/med-7b is not merged)."""
    github = readme_repository(tmp_path)
    github.pulls[7] = pull_answer(7, HEAD, "contributor/leaderboard")
    return github


@pytest.fixture
def job(tmp_path, monkeypatch) -> Path:
    """The publish job's checkout after `medlb results publish` planned a result for PR #7."""
    checkout = tmp_path / "checkout"
    data = submission_yaml(REVISION)
    write_request(checkout / "request", SUBMISSION, data, split=1, pr=7, head_sha=HEAD)
    (checkout / RESULT).parent.mkdir(parents=True)
    (checkout / RESULT).write_text(json.dumps({"model": {"revision": REVISION}}) + "\n")
    plan = Publication(
        kind="result",
        message="results: acme/med-7b@cdcdcdc",
        model="acme/med-7b",
        revision=REVISION,
        submission=SUBMISSION,
        base_revision=None,
        write=[RESULT],
        delete_if_present=[FAILURE],
    )
    write_plan(plan, checkout / "publish" / "changes.json")
    (checkout / "publish" / "comment.md").write_text("### scores\n\n| task | acc |\n")
    monkeypatch.chdir(checkout)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    return checkout


def _deliver(github: FakeGitHub, sleeps: list[float] | None = None) -> str | None:
    backoff = Backoff(sleep=(sleeps if sleeps is not None else []).append, jitter=lambda: 1.0)
    repo = GitHubRepo(OWNER_REPO, github)
    return deliver(
        Path("publish"), Path("request"), repo=repo, branch="main", run_url=None, backoff=backoff
    )


def test_the_result_lands_in_one_commit_and_then_the_pr_is_answered(github, job):
    start = github.head()
    commit = _deliver(github)
    assert commit == github.head() and _git(github.git_dir, "rev-parse", f"{commit}^") == start
    assert json.loads(github.file(RESULT))["model"]["revision"] == REVISION
    # No failure record on the branch, so none is deleted (GitHub refuses deleting a missing path).
    [tree] = [
        b for (_, r), b in zip(github.requests, github.bodies, strict=True) if r == "/git/trees"
    ]
    assert [entry["path"] for entry in tree["tree"]] == [RESULT]
    routes = [f"{m} {r.split('?')[0]}" for m, r in github.requests]
    assert routes.index("PATCH /git/refs/heads/main") < routes.index("POST /issues/7/comments")
    [(pr, body)] = github.comments
    assert pr == 7 and body.startswith("### scores") and f"Committed as {commit}." in body


def test_a_stale_failure_record_on_the_live_branch_is_deleted(github, job):
    """Finding 4: the checkout is older than the branch; the branch has a failure record."""
    github.push({FAILURE: b'{"stage": "evaluation"}\n'})
    assert not (job / FAILURE).exists()
    _deliver(github)
    assert github.file(FAILURE) is None and github.file(RESULT) is not None


def test_a_server_error_on_create_tree_is_retried_with_backoff(github, job):
    """Finding 3: createTree's errors are inside the retried sequence; waits grow."""
    github.fail("POST", "/git/trees", 502, "Bad Gateway")
    github.fail("POST", "/git/trees", 503, "Service Unavailable")
    sleeps: list[float] = []
    commit = _deliver(github, sleeps)
    assert commit == github.head() and sleeps == [2.0, 4.0]
    assert len(github.comments) == 1


def test_when_the_branch_moved_the_commit_is_made_again_on_the_new_head(github, job):
    other = {}
    github.before("PATCH", "/git/refs/", lambda: other.update(sha=github.push({"x.txt": b"x"})))
    commit = _deliver(github)
    assert _git(github.git_dir, "rev-parse", f"{commit}^") == other["sha"]  # 422, then again
    assert github.file("x.txt") == b"x" and github.file(RESULT) is not None


def test_a_revision_main_no_longer_submits_is_never_published(github, job):
    """Finding 4: between attempts the PR for a newer revision was merged. The result of the older
    revision is not committed; the PR hears that it was not published."""
    newer_result = json.dumps({"model": {"revision": NEWER}}).encode()
    merge = {SUBMISSION: submission_yaml(NEWER), RESULT: newer_result}
    github.before("PATCH", "/git/refs/", lambda: github.push(merge))
    with pytest.raises(UserError, match=f"{SUBMISSION} on main now names {NEWER}"):
        _deliver(github)
    assert github.file(RESULT) == newer_result
    [(pr, body)] = github.comments
    assert pr == 7 and "was not published" in body and "scores" not in body
    assert f"now names {NEWER}" in shown(body)


def test_the_same_revision_merged_meanwhile_is_still_published(github, job):
    github.push({SUBMISSION: submission_yaml(REVISION)})
    assert _deliver(github) == github.head()


def test_giving_up_after_bounded_attempts_answers_the_pr_with_the_failure(github, job):
    """Finding 3: the PR never reads "published" when the commit failed."""
    for _ in range(5):
        github.fail("POST", "/git/trees", 500)
    sleeps: list[float] = []
    with pytest.raises(UserError, match="gave up after 5 attempt"):
        _deliver(github, sleeps)
    assert github.file(RESULT) is None and sleeps == [2.0, 4.0, 8.0, 16.0]
    [(_, body)] = github.comments
    assert "was not published" in body and "HTTP 500" in body and "scores" not in body


def test_a_refusal_is_not_retried(github, job):
    github.fail("POST", "/git/trees", 403, "Resource not accessible by integration")
    sleeps: list[float] = []
    with pytest.raises(UserError, match="after 1 attempt"):
        _deliver(github, sleeps)
    assert sleeps == []


def test_a_rerun_of_a_publish_that_landed_changes_nothing(github, job):
    first = _deliver(github)
    assert _deliver(github) is None and github.head() == first
    assert "Already on main." in github.comments[-1][1]


def test_without_a_plan_only_the_comment_is_posted(github, job):
    (job / "publish" / "changes.json").unlink()
    start = github.head()
    assert _deliver(github) is None and github.head() == start
    assert [c[0] for c in github.comments] == [7]


def test_the_backoff_is_exponential_capped_and_jittered():
    backoff = Backoff(first=2.0, cap=10.0, jitter=lambda: 0.0)
    assert [backoff.delay(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert Backoff(jitter=lambda: 1.0).delay(3) == 8.0


# ---- the per-item details: committed first, on the details branch ------------------------------

DETAILS = [
    f"acme/med-7b/{REVISION}/predictions/{task}.jsonl" for task in ("medqa_4options", "pubmedqa")
]


@pytest.fixture
def details_job(job) -> Path:
    """`job`, published with `--details-dir details-out`: two predictions files to land first."""
    for path in DETAILS:
        target = job / "details-out" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        row = {"doc_id": 0, "choice_logprobs": [-1.0, -2.0], "pred": 0, "gold": 0, "at": path}
        target.write_text(json.dumps(row) + "\n")
    plan_file = job / "publish" / "changes.json"
    plan = json.loads(plan_file.read_text())
    plan_file.write_text(json.dumps({**plan, "details_dir": "details-out", "details": DETAILS}))
    return job


def _commits_of(github: FakeGitHub, branch: str) -> list[str]:
    return _git(github.git_dir, "rev-list", f"refs/heads/{branch}").split()


def test_the_details_land_first_on_a_new_orphan_branch_then_the_result_then_the_comment(
    github, details_job
):
    assert github.head("details") is None
    commit = _deliver(github)
    [details] = _commits_of(github, "details")  # one commit, parentless: an orphan branch
    assert _git(github.git_dir, "rev-list", "--parents", "-n", "1", details) == details
    for path in DETAILS:
        assert github.file(path, "details") == (details_job / "details-out" / path).read_bytes()
        assert github.file(path) is None  # nothing of it on the default branch
    assert json.loads(github.file(RESULT))["model"]["revision"] == REVISION
    routes = [f"{m} {r.split('?')[0]}" for m, r in github.requests]
    assert routes.index("POST /git/refs") < routes.index("PATCH /git/refs/heads/main")
    assert routes.index("PATCH /git/refs/heads/main") < routes.index("POST /issues/7/comments")
    # The results commit says where the details are; the comment says both landed.
    assert f"Per-item details: branch details at acme/med-7b/{REVISION}/" in _git(
        github.git_dir, "log", "-1", "--format=%B", commit
    )
    [(_, body)] = github.comments
    assert f"Committed as {commit}." in body
    assert f"committed to details at acme/med-7b/{REVISION}/ as {details}" in shown(body)


def test_a_details_branch_that_exists_gets_one_more_commit(github, details_job):
    earlier = github.push({"other/model/x/predictions/pubmedqa.jsonl": b"{}\n"}, branch="details")
    _deliver(github)
    assert _commits_of(github, "details")[1:] == [earlier]
    assert github.file("other/model/x/predictions/pubmedqa.jsonl", "details") == b"{}\n"
    assert github.file(DETAILS[0], "details") is not None


def test_a_failed_details_commit_publishes_nothing_and_the_pr_is_told(github, details_job):
    for _ in range(5):
        github.fail("POST", "/git/blobs", 502, "Bad Gateway")
    start = github.head()
    with pytest.raises(UserError, match="commit to details: gave up after 5 attempt"):
        _deliver(github)
    assert github.head() == start and github.file(RESULT) is None
    assert github.head("details") is None
    [(pr, body)] = github.comments
    assert pr == 7 and "was not published" in body and "scores" not in body
    assert "PATCH /git/refs/heads/main" not in {f"{m} {r}" for m, r in github.requests}


def test_the_details_commit_is_retried_with_backoff(github, details_job):
    github.fail("POST", "/git/trees", 503)
    github.fail("POST", "/git/commits", 500)
    sleeps: list[float] = []
    commit = _deliver(github, sleeps)
    assert sleeps == [2.0, 4.0] and commit == github.head()
    assert len(_commits_of(github, "details")) == 1 and len(github.comments) == 1


def test_a_retry_does_not_upload_the_details_again(github, details_job):
    """A blob's id is its bytes': the attempt after a failed createTree reuses the blobs."""
    github.fail("POST", "/git/trees", 503)
    _deliver(github, [])
    blobs = [r for m, r in github.requests if (m, r.split("?")[0]) == ("POST", "/git/blobs")]
    assert len(blobs) == len(DETAILS)


def test_when_someone_creates_the_details_branch_meanwhile_the_commit_goes_on_top(
    github, details_job
):
    """createRef answers 422 (the branch exists now): the next attempt commits on that head."""
    other = {}
    made = lambda: other.update(sha=github.push({"x.jsonl": b"{}\n"}, branch="details"))  # noqa: E731
    github.before("POST", "/git/refs", made)
    sleeps: list[float] = []
    _deliver(github, sleeps)
    assert sleeps == [2.0]
    assert _commits_of(github, "details")[1:] == [other["sha"]]
    assert github.file("x.jsonl", "details") == b"{}\n" and github.file(RESULT) is not None


def test_details_of_a_revision_main_no_longer_submits_are_not_committed(github, details_job):
    github.push({SUBMISSION: submission_yaml(NEWER)})
    with pytest.raises(UserError, match=f"now names {NEWER}"):
        _deliver(github)
    assert github.head("details") is None and github.file(RESULT) is None


def test_a_rerun_changes_neither_branch(github, details_job):
    _deliver(github)
    heads = (github.head(), github.head("details"))
    assert _deliver(github) is None and (github.head(), github.head("details")) == heads
    assert "Per-item details already on details" in shown(github.comments[-1][1])


@pytest.mark.parametrize(
    "path",
    [
        f"acme/other/{REVISION}/predictions/pubmedqa.jsonl",  # another model's place
        f"acme/med-7b/{NEWER}/predictions/pubmedqa.jsonl",  # another revision
        f"acme/med-7b/{REVISION}/predictions/not_a_task.jsonl",
        f"acme/med-7b/{REVISION}/predictions/../../../../README.md",
    ],
)
def test_a_plan_with_details_outside_the_models_own_place_is_refused(github, details_job, path):
    plan_file = details_job / "publish" / "changes.json"
    plan = json.loads(plan_file.read_text())
    plan_file.write_text(json.dumps({**plan, "details": [path]}))
    with pytest.raises(UserError, match="details may hold only"):
        _deliver(github)
    assert github.head("details") is None and github.file(RESULT) is None


# ---- issue 17 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (dict(state="closed"), "PR #7 is closed now, not open"),
        (dict(head_sha="ef" * 20), f"PR #7 has a new head {'ef' * 6}, not the evaluated commit"),
    ],
)
def test_a_pr_closed_or_pushed_to_since_its_run_publishes_nothing(github, job, answer, why):
    """Deliver asks GitHub again: a forgotten run of an earlier push, or of a closed PR, lands
    nothing, and the PR is told why in one line."""
    github.pulls[7] = pull_answer(
        7, answer.get("head_sha", HEAD), "c/l", state=answer.get("state", "open")
    )
    start = github.head()
    with pytest.raises(UserError, match=why):
        _deliver(github)
    assert github.head() == start and github.head("details") is None
    [(pr, body)] = github.comments
    assert pr == 7 and shown(body).startswith("Nothing was published: ") and why in shown(body)
    assert len(body.strip().splitlines()) == 1


def test_this_revisions_result_is_replaced_only_by_a_maintainers_replace(github, job):
    """A result already on the branch for this revision stays, unless the plan comes from a
    maintainer's dispatch with replace (named in the commit message)."""
    earlier = json.dumps({"model": {"revision": REVISION}, "earlier": True}).encode() + b"\n"
    github.push({RESULT: earlier})
    with pytest.raises(UserError, match="already holds a result of acme/med-7b@cdcdcdcdcdcd"):
        _deliver(github)
    assert github.file(RESULT) == earlier
    plan_file = job / "publish" / "changes.json"
    plan = json.loads(plan_file.read_text())
    plan.update(replace=True, message=plan["message"] + "\n\nReplaces the published result")
    plan_file.write_text(json.dumps(plan))
    commit = _deliver(github)
    assert github.file(RESULT) != earlier
    assert "Replaces the published result" in _git(
        github.git_dir, "log", "-1", "--format=%B", commit
    )


def test_a_plan_may_touch_no_other_revisions_file(github, job):
    other = f"results/acme/med-7b/{NEWER}.json"
    (job / other).parent.mkdir(parents=True, exist_ok=True)
    (job / other).write_text("{}\n")
    plan_file = job / "publish" / "changes.json"
    plan = json.loads(plan_file.read_text())
    plan["write"] = [other]
    plan_file.write_text(json.dumps(plan))
    with pytest.raises(UserError, match="may change only"):
        _deliver(github)
    assert github.file(other) is None


# ---- the cot generations: a Hub dataset when one is configured (ARCHITECTURE.md, "Details at
# scale"), else the details branch ------------------------------------------------------------

COT = f"acme/med-7b/{REVISION}/predictions/cot/medqa_4options.jsonl"
DATASET = "acme/medlb-details"


@pytest.fixture
def cot_job(details_job) -> Path:
    """`details_job` with one cot predictions file besides the two loglik ones."""
    target = details_job / "details-out" / COT
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"doc_id": 0, "generation": "Final Answer: A"}) + "\n")
    plan_file = details_job / "publish" / "changes.json"
    plan = json.loads(plan_file.read_text())
    plan_file.write_text(json.dumps({**plan, "details": [*DETAILS, COT]}))
    return details_job


class FakeDatasetHub:
    """`hub.upload_dataset_files` as the Hub answers it: a commit id, or no answer `failures`
    times first."""

    def __init__(self, failures: int = 0):
        self.uploads: list[tuple[str, dict[str, bytes], str]] = []
        self.failures = failures

    def __call__(self, repo_id: str, files: dict[str, bytes], message: str) -> str:
        from runner import hub

        if self.failures:
            self.failures -= 1
            raise hub.HubUnavailable(f"a commit to the dataset {repo_id}", TimeoutError())
        self.uploads.append((repo_id, files, message))
        return "e" * 40


def _deliver_to(github: FakeGitHub, dataset: str | None, sleeps: list[float]) -> str | None:
    backoff = Backoff(sleep=sleeps.append, jitter=lambda: 1.0)
    repo = GitHubRepo(OWNER_REPO, github)
    return deliver(
        Path("publish"), Path("request"), repo=repo, branch="main", run_url=None,
        backoff=backoff, cot_dataset=dataset,
    )  # fmt: skip


def test_with_a_dataset_the_generations_go_there_and_the_rest_to_the_details_branch(
    github, cot_job, monkeypatch
):
    from runner import hub

    fake = FakeDatasetHub()
    monkeypatch.setattr(hub, "upload_dataset_files", fake)
    commit = _deliver_to(github, DATASET, [])
    [(repo_id, files, message)] = fake.uploads
    assert repo_id == DATASET and files == {COT: (cot_job / "details-out" / COT).read_bytes()}
    assert message == "details: acme/med-7b@cdcdcdc, cot generations of 1 tasks"
    assert github.file(COT, "details") is None  # not on the branch as well
    assert all(github.file(path, "details") is not None for path in DETAILS)
    done = f"uploaded to the Hugging Face dataset {DATASET} as {'e' * 40}"
    assert f"Generations (cot): {done}" in _git(github.git_dir, "log", "-1", "--format=%B", commit)
    [(_, body)] = github.comments
    assert done in shown(body)


def test_without_a_dataset_the_generations_land_on_the_details_branch(github, cot_job):
    _deliver_to(github, None, [])
    assert github.file(COT, "details") == (cot_job / "details-out" / COT).read_bytes()


def test_an_upload_the_hub_does_not_answer_is_retried_and_then_publishes_nothing(
    github, cot_job, monkeypatch
):
    from runner import hub

    monkeypatch.setattr(hub, "upload_dataset_files", FakeDatasetHub(failures=1))
    sleeps: list[float] = []
    _deliver_to(github, DATASET, sleeps)
    assert sleeps == [2.0] and github.file(RESULT) is not None
    monkeypatch.setattr(hub, "upload_dataset_files", FakeDatasetHub(failures=99))
    github_before = github.head()
    with pytest.raises(UserError, match=f"upload to {DATASET}: gave up after 5 attempts"):
        _deliver_to(github, DATASET, [])
    assert github.head() == github_before
