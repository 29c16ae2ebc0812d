"""runner.github_api: the one module that talks to GitHub's REST API, tested offline with a fake
`urlopen` (requests as sent, answers in GitHub's documented shapes)."""

from __future__ import annotations

import base64
import io
import json
import urllib.error

import pytest

from runner.errors import UsageError
from runner.github_api import GitHubApiError, GitHubRepo, repo_from_environment, urllib_transport


class FakeResponse(io.BytesIO):
    def __init__(self, status: int, document: object) -> None:
        super().__init__(json.dumps(document).encode())
        self.status = status

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _opener(answers: list, sent: list):
    def urlopen(request, timeout):
        sent.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return urlopen


def _http_error(status: int, message: str) -> urllib.error.HTTPError:
    body = io.BytesIO(json.dumps({"message": message}).encode())
    return urllib.error.HTTPError("https://api.github.com/x", status, message, {}, body)


def test_requests_carry_the_token_the_api_version_and_a_json_body():
    sent: list = []
    answers = [FakeResponse(201, {"sha": "t" * 40})]
    repo = GitHubRepo("o/r", urllib_transport("tok", opener=_opener(answers, sent)))
    assert repo.create_tree("b" * 40, [{"path": "a", "mode": "100644"}]) == "t" * 40
    [request] = sent
    assert (request.get_method(), request.full_url) == (
        "POST",
        "https://api.github.com/repos/o/r/git/trees",
    )
    assert request.get_header("Authorization") == "Bearer tok"
    assert request.get_header("X-github-api-version") == "2022-11-28"
    assert json.loads(request.data)["base_tree"] == "b" * 40


def test_errors_say_whether_trying_again_can_help():
    sent: list = []
    answers = [
        _http_error(422, "Update is not a fast forward"),
        _http_error(403, "Resource not accessible by integration"),
        _http_error(403, "API rate limit exceeded for installation"),
        _http_error(502, "Bad Gateway"),
        urllib.error.URLError("connection reset"),
    ]
    repo = GitHubRepo("o/r", urllib_transport("tok", opener=_opener(answers, sent)))
    calls = [
        lambda: repo.update_branch("main", "c" * 40),
        lambda: repo.comment(7, "hi"),
        lambda: repo.comment(7, "hi"),
        lambda: repo.branch_head("main"),
        lambda: repo.branch_head("main"),
    ]
    verdicts = []
    for call in calls:
        with pytest.raises(GitHubApiError) as caught:
            call()
        verdicts.append((caught.value.status, caught.value.retryable))
    assert verdicts == [(422, True), (403, False), (403, True), (502, True), (None, True)]
    assert sent[0].get_method() == "PATCH" and json.loads(sent[0].data)["force"] is False


def test_file_contents_are_decoded_and_a_missing_file_is_none():
    data = b"model: acme/med-7b\n" * 10
    encoded = base64.b64encode(data).decode()
    wrapped = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60))
    answers = [
        FakeResponse(200, {"type": "file", "encoding": "base64", "content": wrapped}),
        _http_error(404, "Not Found"),
        FakeResponse(200, [{"type": "file"}]),
    ]
    sent: list = []
    repo = GitHubRepo("o/r", urllib_transport("tok", opener=_opener(answers, sent)))
    assert repo.file_at("submissions/a b/x.yaml", "c" * 40) == data
    assert sent[0].full_url.endswith("/contents/submissions/a%20b/x.yaml?ref=" + "c" * 40)
    assert repo.file_at("submissions/a/x.yaml", "c" * 40) is None
    with pytest.raises(GitHubApiError, match="not a file"):
        repo.file_at("submissions", "c" * 40)


def test_the_token_and_repository_come_from_the_environment(monkeypatch):
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(UsageError, match="GITHUB_TOKEN"):
        repo_from_environment()
    monkeypatch.setenv("GH_TOKEN", "tok")
    monkeypatch.setenv("GITHUB_REPOSITORY", "o/r; rm -rf /")
    with pytest.raises(UsageError, match="not owner/name"):
        repo_from_environment()
    monkeypatch.setenv("GITHUB_REPOSITORY", "medlb-org/leaderboard")
    assert repo_from_environment().full_name == "medlb-org/leaderboard"


def test_the_details_branch_calls_send_githubs_documented_bodies():
    """createBlob (utf-8 content; the answered id must be git's own), createTree without a base
    (an orphan branch's first tree), createRef, and getRef's 404 read as "no such branch"."""
    from runner.digests import git_blob_sha1

    data = b'{"doc_id": 0, "choice_logprobs": [-1.5, -0.25], "pred": 1, "gold": 1}\n'
    blob = git_blob_sha1(data)
    answers = [
        FakeResponse(201, {"url": "https://api.github.com/repos/o/r/git/blobs/x", "sha": blob}),
        FakeResponse(201, {"url": "https://api.github.com/repos/o/r/git/blobs/x", "sha": "e" * 40}),
        FakeResponse(201, {"sha": "t" * 40, "tree": [], "truncated": False}),
        FakeResponse(201, {"ref": "refs/heads/details", "object": {"sha": "c" * 40}}),
        _http_error(422, "Reference already exists"),
        _http_error(404, "Not Found"),
    ]
    sent: list = []
    repo = GitHubRepo("o/r", urllib_transport("tok", opener=_opener(answers, sent)))
    assert repo.create_blob(data) == blob
    assert json.loads(sent[0].data) == {"content": data.decode(), "encoding": "utf-8"}
    with pytest.raises(GitHubApiError, match="is not git's") as caught:
        repo.create_blob(data)
    assert not caught.value.retryable
    entry = {"path": "a/b.jsonl", "mode": "100644", "type": "blob", "sha": blob}
    assert repo.create_tree(None, [entry]) == "t" * 40
    assert json.loads(sent[2].data) == {"tree": [entry]}  # no base_tree: a new tree
    repo.create_branch("details", "c" * 40)
    assert (sent[3].get_method(), sent[3].full_url) == (
        "POST",
        "https://api.github.com/repos/o/r/git/refs",
    )
    assert json.loads(sent[3].data) == {"ref": "refs/heads/details", "sha": "c" * 40}
    with pytest.raises(GitHubApiError) as caught:
        repo.create_branch("details", "c" * 40)
    assert caught.value.retryable  # made meanwhile: another attempt builds on it
    assert repo.branch_head_if_any("details") is None
