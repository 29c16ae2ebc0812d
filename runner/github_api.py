"""Every call to GitHub's REST API lives in this module, and nowhere else (as `runner.hub` does for
the Hugging Face Hub).

The publish job uses it to commit through the Git Data API (the per-item details on the details
branch, then the results on the default branch) and to comment on the submission PR
(ARCHITECTURE.md, "Trust boundary"). A `Transport` sends one request and returns the status and
the decoded JSON body; `urllib_transport` is the real one (standard library only, the token from
the environment), and tests pass an in-memory fake that answers in GitHub's documented shapes.
Errors become `GitHubApiError`, which says whether trying again can help.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from runner.digests import git_blob_sha1
from runner.errors import UsageError, UserError
from runner.untrusted_text import visible_characters

API_VERSION = "2022-11-28"
DEFAULT_API_URL = "https://api.github.com"
MAX_RESPONSE_BYTES = 8 << 20
# Server errors and throttling pass; 409 is git's "the ref changed under you".
RETRYABLE_STATUS = frozenset({409, 429, 500, 502, 503, 504})
REPOSITORY_NAME = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")  # owner/name

Transport = Callable[[str, str, Any], tuple[int, Any]]  # (method, path, JSON body) → status, JSON


class GitHubApiError(UserError):
    """A request GitHub refused or never answered; `retryable`: the same request may succeed."""

    def __init__(self, what: str, status: int | None, message: str, *, retryable: bool) -> None:
        shown = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"GitHub API, {what}: {shown}" + (f" ({message})" if message else ""))
        self.status = status
        self.retryable = retryable
        # A ruleset or branch protection refused the write: the same request fails again until
        # a maintainer changes the repository's settings (docs/maintainers/setup.md).
        self.rule_violation = False


def _refused_by_a_rule(message: str) -> bool:
    """GitHub's 422 words for a write refused by a ruleset or a classic branch protection."""
    lowered = message.lower()
    return "rule violation" in lowered or "protected branch" in lowered


def urllib_transport(
    token: str,
    api_url: str = DEFAULT_API_URL,
    *,
    timeout: float = 30.0,
    opener: Callable[..., Any] = urllib.request.urlopen,
) -> Transport:
    """Requests to `api_url` with `token`; a connection failure raises a retryable error."""

    def send(method: str, path: str, body: Any) -> tuple[int, Any]:
        request = urllib.request.Request(
            api_url.rstrip("/") + path,
            data=None if body is None else json.dumps(body).encode("utf-8"),
            method=method,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {token}",
                "X-GitHub-Api-Version": API_VERSION,
                "Content-Type": "application/json",
                "User-Agent": "medlb-publish",
            },
        )
        try:
            with opener(request, timeout=timeout) as response:
                return response.status, _decode(response.read(MAX_RESPONSE_BYTES))
        except urllib.error.HTTPError as err:
            return err.code, _decode(err.read(MAX_RESPONSE_BYTES))
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", None) or type(err).__name__
            raise GitHubApiError(f"{method} {path}", None, str(reason), retryable=True) from None

    return send


def _decode(payload: bytes) -> Any:
    try:
        return json.loads(payload.decode("utf-8")) if payload.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


class GitHubRepo:
    """The calls the publish job makes on one repository."""

    def __init__(self, full_name: str, transport: Transport) -> None:
        if not REPOSITORY_NAME.fullmatch(full_name):
            raise UsageError(f"GITHUB_REPOSITORY: {full_name!r} is not owner/name")
        self.full_name = full_name
        self._transport = transport

    def _call(self, what: str, method: str, path: str, body: Any = None, ok: int = 200) -> Any:
        return self._call_api(what, method, f"/repos/{self.full_name}{path}", body, ok)

    def _call_api(self, what: str, method: str, path: str, body: Any = None, ok: int = 200) -> Any:
        status, payload = self._transport(method, path, body)
        if status == ok:
            return payload
        message = payload.get("message", "") if isinstance(payload, dict) else ""
        throttled = status == 403 and "rate limit" in str(message).lower()
        retryable = status in RETRYABLE_STATUS or throttled
        error = GitHubApiError(
            what, status, visible_characters(str(message))[:200], retryable=retryable
        )
        error.rule_violation = status == 422 and _refused_by_a_rule(str(message))
        raise error

    def _get_if_any(self, what: str, path: str) -> Any:
        """GET `path` (a full API path); None when GitHub answers 404."""
        try:
            return self._call_api(what, "GET", path)
        except GitHubApiError as err:
            if err.status == 404:
                return None
            raise

    @property
    def owner(self) -> str:
        return self.full_name.split("/")[0]

    def branch_head(self, branch: str) -> str:
        """The commit a branch points at now (getRef)."""
        ref = self._call("get ref", "GET", f"/git/ref/heads/{quote(branch, safe='/')}")
        return _field(ref, "object", "sha")

    def branch_head_if_any(self, branch: str) -> str | None:
        """`branch_head`, or None when the repository has no such branch (404)."""
        try:
            return self.branch_head(branch)
        except GitHubApiError as err:
            if err.status == 404:
                return None
            raise

    def create_branch(self, branch: str, commit: str) -> None:
        """A new branch at `commit` (createRef); 422 means it exists already (someone else just
        made it), which another attempt can build on."""
        body = {"ref": f"refs/heads/{branch}", "sha": commit}
        try:
            self._call("create ref", "POST", "/git/refs", body, ok=201)
        except GitHubApiError as err:
            if err.status == 422 and not err.rule_violation:
                err.retryable = True
            raise

    def create_blob(self, data: bytes) -> str:
        """Store UTF-8 text as a blob (createBlob); its id, checked against git's own."""
        body = {"content": data.decode("utf-8"), "encoding": "utf-8"}
        sha = _field(self._call("create blob", "POST", "/git/blobs", body, ok=201), "sha")
        if sha != git_blob_sha1(data):
            raise GitHubApiError("create blob", 201, f"blob id {sha} is not git's", retryable=False)
        return sha

    def commit_tree(self, commit: str) -> str:
        """The tree of a commit (getCommit)."""
        return _field(self._call("get commit", "GET", f"/git/commits/{commit}"), "tree", "sha")

    def create_tree(self, base_tree: str | None, entries: list[dict[str, Any]]) -> str:
        """A tree: `base_tree` with `entries` (content or a blob's `sha` to write, `sha: None` to
        delete); without a base tree, a tree of `entries` alone (an orphan branch's first)."""
        body: dict[str, Any] = {"tree": entries}
        if base_tree is not None:
            body["base_tree"] = base_tree
        return _field(self._call("create tree", "POST", "/git/trees", body, ok=201), "sha")

    def create_commit(self, message: str, tree: str, parents: list[str]) -> str:
        body = {"message": message, "tree": tree, "parents": parents}
        return _field(self._call("create commit", "POST", "/git/commits", body, ok=201), "sha")

    def update_branch(self, branch: str, commit: str) -> None:
        """Move `branch` to `commit`, fast-forward only; 422 means the branch moved meanwhile."""
        path = f"/git/refs/heads/{quote(branch, safe='/')}"
        try:
            self._call("update ref", "PATCH", path, {"sha": commit, "force": False})
        except GitHubApiError as err:
            if err.status == 422 and not err.rule_violation:
                err.retryable = True
            raise

    def file_at(self, path: str, ref: str) -> bytes | None:
        """A file's bytes at `ref` (contents API); None when there is no such file."""
        found = self._contents(path, ref)
        if found is None:
            return None
        if found.get("encoding") != "base64":
            raise GitHubApiError(f"contents of {path}", 200, "too large to read", retryable=False)
        try:
            return base64.b64decode(str(found.get("content", "")))
        except binascii.Error:
            raise GitHubApiError(f"contents of {path}", 200, "bad base64", retryable=True) from None

    def blob_id_at(self, path: str, ref: str) -> str | None:
        """A file's git blob id at `ref` (the contents API's `sha`, given also for files too
        large to read that way); None when there is no such file."""
        found = self._contents(path, ref)
        return None if found is None else _field(found, "sha")

    def _contents(self, path: str, ref: str) -> dict[str, Any] | None:
        try:
            found = self._call("get contents", "GET", f"/contents/{quote(path)}?ref={ref}")
        except GitHubApiError as err:
            if err.status == 404:
                return None
            raise
        if not isinstance(found, dict) or found.get("type") != "file":
            raise GitHubApiError(f"contents of {path}", 200, "not a file", retryable=False)
        return found

    def pull(self, number: int) -> Any:
        """The pull request object (GET /pulls/{n}), as GitHub documents it."""
        return self._call("get pull request", "GET", f"/pulls/{int(number)}")

    def comment(self, issue: int, body: str) -> str:
        """Post a comment on an issue or pull request; its URL."""
        path = f"/issues/{issue}/comments"
        return _field(self._call("create comment", "POST", path, {"body": body}, 201), "html_url")


class RepositorySettings(GitHubRepo):
    """The settings `medlb doctor` reads (GET only): the repository, an environment, Pages,
    rulesets, a branch's protection, and the organisation's runner groups and runners."""

    def repository(self) -> dict[str, Any]:
        return _object(self._call("get repository", "GET", ""), "repository")

    def environment(self, name: str) -> dict[str, Any] | None:
        path = f"/repos/{self.full_name}/environments/{quote(name, safe='')}"
        return self._get_if_any(f"get environment {name}", path)

    def workflow_permissions(self) -> dict[str, Any]:
        """`default_workflow_permissions` ("read" or "write") of the workflow token."""
        answer = self._call("get workflow permissions", "GET", "/actions/permissions/workflow")
        return _object(answer, "workflow permissions")

    def fork_approval_policy(self) -> str | None:
        """Whose fork pull requests wait for approval before their workflows run."""
        path = "/actions/permissions/fork-pr-contributor-approval"
        answer = _object(self._call("get fork approval", "GET", path), "fork approval")
        policy = answer.get("approval_policy")
        return policy if isinstance(policy, str) else None

    def pages(self) -> dict[str, Any] | None:
        return self._get_if_any("get Pages", f"/repos/{self.full_name}/pages")

    def rulesets(self) -> list[dict[str, Any]]:
        """Every ruleset that applies to the repository (its own and its organisation's), each
        in full (conditions, rules, bypass actors)."""
        path = f"/repos/{self.full_name}/rulesets?includes_parents=true&per_page=100"
        listed = self._call_api("list rulesets", "GET", path)
        found = []
        for summary in listed if isinstance(listed, list) else []:
            number = summary.get("id") if isinstance(summary, dict) else None
            if isinstance(number, int):
                full = self._call("get ruleset", "GET", f"/rulesets/{number}")
                found.append(_object(full, f"ruleset {number}"))
        return found

    def branch_rules(self, branch: str) -> list[dict[str, Any]]:
        """The rules every active ruleset applies to `branch` (each names its `ruleset_id`)."""
        path = f"/rules/branches/{quote(branch, safe='')}?per_page=100"
        rules = self._call("get rules for a branch", "GET", path)
        return [rule for rule in rules if isinstance(rule, dict)] if isinstance(rules, list) else []

    def branch_protection(self, branch: str) -> dict[str, Any] | None:
        """The classic branch protection of `branch`; None when it has none."""
        path = f"/repos/{self.full_name}/branches/{quote(branch, safe='')}/protection"
        return self._get_if_any(f"get branch protection of {branch}", path)

    def codeowners_errors(self) -> list[dict[str, Any]]:
        """GitHub's own reading of CODEOWNERS on the default branch: each line it cannot use."""
        answer = self._call("list CODEOWNERS errors", "GET", "/codeowners/errors")
        return _listed(answer, "errors")

    def runner_groups(self) -> list[dict[str, Any]]:
        """The organisation's runner groups (GitHub has them for organisations only)."""
        path = f"/orgs/{self.owner}/actions/runner-groups?per_page=100"
        found = self._call_api("list runner groups", "GET", path)
        return _listed(found, "runner_groups")

    def group_runners(self, group_id: int) -> list[dict[str, Any]]:
        path = f"/orgs/{self.owner}/actions/runner-groups/{group_id}/runners?per_page=100"
        return _listed(self._call_api("list a group's runners", "GET", path), "runners")

    def group_repositories(self, group_id: int) -> list[str]:
        """The full names of the repositories a runner group with visibility `selected` serves."""
        path = f"/orgs/{self.owner}/actions/runner-groups/{group_id}/repositories?per_page=100"
        found = _listed(self._call_api("list a group's repositories", "GET", path), "repositories")
        return [str(repo.get("full_name")) for repo in found]


def _object(payload: Any, what: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise GitHubApiError(what, 200, "the answer is not a JSON object", retryable=True)
    return payload


def _listed(payload: Any, key: str) -> list[dict[str, Any]]:
    """`payload[key]`, the list of a paginated answer such as `{"total_count": 1, key: [...]}`."""
    items = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise GitHubApiError(key, 200, f"no {key} list in the answer", retryable=True)
    return [item for item in items if isinstance(item, dict)]


def _field(payload: Any, *keys: str) -> str:
    value = payload
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if not isinstance(value, str) or not value:
        raise GitHubApiError("answer", 200, f"no {'.'.join(keys)} in the response", retryable=True)
    return value


def repo_from_environment() -> GitHubRepo:
    """The workflow's repository with the job's token (`GITHUB_TOKEN` or `GH_TOKEN`)."""
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    if not token or not repository:
        raise UsageError("GITHUB_TOKEN (or GH_TOKEN) and GITHUB_REPOSITORY must be set")
    api_url = os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL
    return GitHubRepo(repository, urllib_transport(token, api_url))


def settings_from_environment(full_name: str) -> RepositorySettings:
    """The settings of `full_name`, read with the token in `GH_TOKEN` or `GITHUB_TOKEN`."""
    token = os.environ.get("GH_TOKEN") or os.environ.get("GITHUB_TOKEN")
    if not token:
        raise UsageError(
            "set GH_TOKEN (or GITHUB_TOKEN) to a token that can read the repository's "
            "administration settings and the organisation's self-hosted runners"
        )
    api_url = os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL
    return RepositorySettings(full_name, urllib_transport(token, api_url))
