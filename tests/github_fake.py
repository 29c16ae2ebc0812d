"""GitHub's REST API, faked offline in GitHub's documented response shapes.

- `pull_answer` / `files_answer`: what `GET /repos/{o}/{r}/pulls/{n}` and `GET …/pulls/{n}/files`
  return, for `medlb results intake --pull/--pull-files`;
- `FakeGitHub`: a `runner.github_api.Transport` serving the Git Data API (getRef, getCommit,
  createBlob, createTree, createCommit, updateRef, createRef), the contents API and issue
  comments on top of a real bare git repository, every branch of it (the default branch and the
  details branch), so the SHAs are git's own and a clone sees what was committed. Faults (`fail`)
  and "someone else pushed meanwhile" (`before`, `push`) are injected per route.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

OWNER_REPO = "medlb-org/leaderboard"
API = "https://api.github.com"
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "github-actions[bot]",
    "GIT_AUTHOR_EMAIL": "bot@example.com",
    "GIT_COMMITTER_NAME": "GitHub",
    "GIT_COMMITTER_EMAIL": "noreply@example.com",
}


def _repo_object(full_name: str, default_branch: str = "main") -> dict[str, Any]:
    owner, name = full_name.split("/")
    return {
        "id": abs(hash(full_name)) % 10**8,
        "node_id": "R_kgDO",
        "name": name,
        "full_name": full_name,
        "private": False,
        "owner": {"login": owner, "id": 1, "type": "User"},
        "html_url": f"https://github.com/{full_name}",
        "fork": full_name != OWNER_REPO,
        "url": f"{API}/repos/{full_name}",
        "default_branch": default_branch,
    }


def pull_answer(
    number: int,
    head_sha: str,
    head_repo: str | None,
    *,
    state: str = "open",
    draft: bool = False,
    base_ref: str = "main",
    default_branch: str = "main",
    changed_files: int = 1,
) -> dict[str, Any]:
    """`GET /repos/{o}/{r}/pulls/{n}` (the fields GitHub documents, abridged)."""
    url = f"{API}/repos/{OWNER_REPO}/pulls/{number}"
    return {
        "url": url,
        "id": 1000 + number,
        "node_id": "PR_kwDO",
        "html_url": f"https://github.com/{OWNER_REPO}/pull/{number}",
        "number": number,
        "state": state,
        "locked": False,
        "title": "Submit a model",
        "user": {"login": "contributor", "id": 7, "type": "User"},
        "body": "Please evaluate @maintainer",
        "draft": draft,
        "merged": False,
        "head": {
            "label": "contributor:submit",
            "ref": "submit",
            "sha": head_sha,
            "user": {"login": "contributor"},
            "repo": None if head_repo is None else _repo_object(head_repo),
        },
        "base": {
            "label": f"medlb-org:{base_ref}",
            "ref": base_ref,
            "sha": "0" * 40,
            "user": {"login": "medlb-org"},
            "repo": _repo_object(OWNER_REPO, default_branch),
        },
        "commits": 1,
        "additions": 6,
        "deletions": 0,
        "changed_files": changed_files,
    }


def commits_answer(login: str | None, name: str = "A Committer") -> list[dict[str, Any]]:
    """`GET /repos/{o}/{r}/commits?path=…&per_page=1`: the newest commit touching a file (empty
    when none does); `author` is null when the commit's email matches no account."""
    return [
        {
            "sha": "5" * 40,
            "commit": {
                "author": {"name": name, "email": "a@example.com", "date": "2026-01-02T03:04:05Z"},
                "committer": {
                    "name": name,
                    "email": "a@example.com",
                    "date": "2026-01-02T03:04:05Z",
                },
                "message": "Submit a model",
            },
            "author": None if login is None else {"login": login, "id": 9, "type": "User"},
            "html_url": f"https://github.com/{OWNER_REPO}/commit/{'5' * 40}",
        }
    ]


def file_entry(
    filename: str, sha: str, status: str = "added", previous: str | None = None
) -> dict[str, Any]:
    """One element of `GET …/pulls/{n}/files`."""
    entry = {
        "sha": sha,
        "filename": filename,
        "status": status,
        "additions": 6,
        "deletions": 0,
        "changes": 6,
        "blob_url": f"https://github.com/{OWNER_REPO}/blob/{sha}/{filename}",
        "raw_url": f"https://github.com/{OWNER_REPO}/raw/{sha}/{filename}",
        "contents_url": f"{API}/repos/{OWNER_REPO}/contents/{filename}?ref={sha}",
        "patch": "@@ -0,0 +1,6 @@\n+model: x",
    }
    if previous is not None:
        entry["previous_filename"] = previous
    return entry


def jobs_answer(*jobs: tuple[str, str | None]) -> dict[str, Any]:
    """`GET /repos/{o}/{r}/actions/runs/{id}/jobs`: (name, runner_name) per job."""
    return {
        "total_count": len(jobs),
        "jobs": [
            {
                "id": 100 + i,
                "run_id": 42,
                "name": name,
                "status": "completed",
                "conclusion": "failure",
                "runner_id": None if runner is None else 9,
                "runner_name": runner,
                "labels": ["self-hosted", "linux", "gpu"],
                "steps": [],
            }
            for i, (name, runner) in enumerate(jobs)
        ],
    }


def shown(markdown: str) -> str:
    """The characters a reader sees of escaped Markdown text (backslash escapes and U+200B gone)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u200b", "")


def _git(repo: Path, *args: str, data: bytes | None = None, env: dict | None = None) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        input=data,
        capture_output=True,
        check=True,
        env={**os.environ, **_GIT_ENV, **(env or {})},
    )
    return done.stdout.decode().strip()


def files_answer(repo: Path, base: str, head: str) -> list[dict[str, Any]]:
    """`…/pulls/{n}/files` of a PR from `base` to `head` in a real repository (three-dot diff)."""
    raw = _git(repo, "diff", "--raw", "-z", "-M", "--no-abbrev", f"{base}...{head}")
    fields = [f for f in raw.split("\0") if f]
    words = {"A": "added", "M": "modified", "D": "removed", "R": "renamed", "C": "copied"}
    entries, i = [], 0
    while i < len(fields):
        meta = fields[i][1:].split()
        status = words.get(meta[4][0], "changed")
        if meta[4][0] in "RC":
            entries.append(file_entry(fields[i + 2], meta[3], status, previous=fields[i + 1]))
            i += 3
        else:
            sha = meta[2] if status == "removed" else meta[3]
            entries.append(file_entry(fields[i + 1], sha, status))
            i += 2
    return entries


class FakeGitHub:
    """A `Transport` for one repository (`OWNER_REPO`) stored in the bare repository `git_dir`."""

    def __init__(self, git_dir: Path, branch: str = "main") -> None:
        self.git_dir, self.branch = Path(git_dir), branch
        self.requests: list[tuple[str, str]] = []
        self.bodies: list[Any] = []  # the JSON body of each request, in order
        self.comments: list[tuple[int, str]] = []
        self._faults: list[tuple[str, str, int, str]] = []
        self._before: list[tuple[str, str, Callable[[], None]]] = []
        self.pulls: dict[int, dict[str, Any]] = {}  # GET /pulls/{n}: `pull_answer`s by number

    # ---- test controls --------------------------------------------------------------------

    def fail(self, method: str, route: str, status: int, message: str = "Server Error") -> None:
        """The next `method` request whose path contains `route` gets `status` instead."""
        self._faults.append((method, route, status, message))

    def before(self, method: str, route: str, action: Callable[[], None]) -> None:
        """Run `action` once, just before the next matching request is served."""
        self._before.append((method, route, action))

    def push(
        self, files: dict[str, bytes | None], message: str = "meanwhile", branch: str | None = None
    ) -> str:
        """Someone else's commit on a branch, the default one unless named (None deletes a file);
        a branch that does not exist yet starts parentless."""
        branch = branch or self.branch
        head = self.head(branch)
        entries = [
            {"path": p, "mode": "100644", "type": "blob", "sha": None}
            if data is None
            else {"path": p, "mode": "100644", "type": "blob", "content": data.decode()}
            for p, data in files.items()
        ]
        tree = self._write_tree(self._tree_of(head) if head else None, entries)
        parents = ["-p", head] if head else []
        commit = _git(self.git_dir, "commit-tree", tree, *parents, "-m", message)
        _git(self.git_dir, "update-ref", f"refs/heads/{branch}", commit)
        return commit

    def head(self, branch: str | None = None) -> str | None:
        """The commit a branch points at (the default branch unless named); None: no branch."""
        done = subprocess.run(
            ["git", "rev-parse", "--verify", "-q", f"refs/heads/{branch or self.branch}"],
            cwd=self.git_dir,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip() if done.returncode == 0 else None

    def file(self, path: str, ref: str | None = None) -> bytes | None:
        done = subprocess.run(
            ["git", "cat-file", "blob", f"{ref or self.head()}:{path}"],
            cwd=self.git_dir,
            capture_output=True,
        )
        return done.stdout if done.returncode == 0 else None

    # ---- the transport --------------------------------------------------------------------

    def __call__(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        prefix = f"/repos/{OWNER_REPO}"
        assert path.startswith(prefix), path
        route = path[len(prefix) :]
        self.requests.append((method, route))
        self.bodies.append(body)
        for hook in list(self._before):
            if hook[0] == method and hook[1] in route:
                self._before.remove(hook)
                hook[2]()
        for fault in list(self._faults):
            if fault[0] == method and fault[1] in route:
                self._faults.remove(fault)
                return fault[2], {"message": fault[3]}
        return self._serve(method, route, body)

    def _serve(self, method: str, route: str, body: Any) -> tuple[int, Any]:
        if method == "GET" and route.startswith("/git/ref/heads/"):
            return self._get_ref(route.removeprefix("/git/ref/heads/"))
        if method == "GET" and route.startswith("/git/commits/"):
            return self._get_commit(route.removeprefix("/git/commits/"))
        if method == "POST" and route == "/git/blobs":
            return self._create_blob(body)
        if method == "POST" and route == "/git/trees":
            return self._create_tree(body)
        if method == "POST" and route == "/git/refs":
            return self._create_ref(body)
        if method == "POST" and route == "/git/commits":
            return self._create_commit(body)
        if method == "PATCH" and route.startswith("/git/refs/heads/"):
            return self._update_ref(route.removeprefix("/git/refs/heads/"), body)
        if method == "GET" and route.startswith("/pulls/") and route.count("/") == 2:
            pull = self.pulls.get(int(route.split("/")[2]))
            return (200, pull) if pull is not None else (404, {"message": "Not Found"})
        if method == "GET" and route.startswith("/contents/"):
            path, _, query = route.removeprefix("/contents/").partition("?ref=")
            return self._contents(path, query)
        if method == "POST" and route.endswith("/comments") and route.startswith("/issues/"):
            number = int(route.split("/")[2])
            self.comments.append((number, body["body"]))
            url = f"https://github.com/{OWNER_REPO}/pull/{number}#issuecomment-{len(self.comments)}"
            return 201, {"id": len(self.comments), "html_url": url, "body": body["body"]}
        return 404, {"message": "Not Found"}

    def _get_ref(self, branch: str) -> tuple[int, Any]:
        sha = self.head(branch)
        if sha is None:
            return 404, {"message": "Not Found"}
        return 200, _ref_object(branch, sha)

    def _create_ref(self, body: dict[str, Any]) -> tuple[int, Any]:
        """createRef: 422 when the ref exists already."""
        branch = body["ref"].removeprefix("refs/heads/")
        if self.head(branch) is not None:
            return 422, {"message": "Reference already exists"}
        _git(self.git_dir, "update-ref", body["ref"], body["sha"])
        return 201, _ref_object(branch, body["sha"])

    def _create_blob(self, body: dict[str, Any]) -> tuple[int, Any]:
        """createBlob: `content` in `encoding` utf-8 or base64."""
        encoding = body.get("encoding", "utf-8")
        content = body["content"]
        data = base64.b64decode(content) if encoding == "base64" else content.encode("utf-8")
        sha = _git(self.git_dir, "hash-object", "-w", "--stdin", data=data)
        return 201, {"url": f"{API}/repos/{OWNER_REPO}/git/blobs/{sha}", "sha": sha}

    def _tree_of(self, commit: str) -> str:
        return _git(self.git_dir, "rev-parse", f"{commit}^{{tree}}")

    def _get_commit(self, sha: str) -> tuple[int, Any]:
        try:
            tree = self._tree_of(sha)
        except subprocess.CalledProcessError:
            return 404, {"message": "Not Found"}
        parents = _git(self.git_dir, "rev-list", "--parents", "-n", "1", sha).split()[1:]
        return 200, {
            "sha": sha,
            "node_id": "C_kwDO",
            "url": f"{API}/repos/{OWNER_REPO}/git/commits/{sha}",
            "message": _git(self.git_dir, "log", "-1", "--format=%B", sha),
            "tree": {"sha": tree, "url": f"{API}/repos/{OWNER_REPO}/git/trees/{tree}"},
            "parents": [{"sha": p, "url": f"{API}/git/commits/{p}"} for p in parents],
        }

    def _write_tree(self, base_tree: str | None, entries: list[dict[str, Any]]) -> str:
        with tempfile.TemporaryDirectory() as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if base_tree is not None:
                _git(self.git_dir, "read-tree", base_tree, env=env)
            lines = []
            for entry in entries:
                if entry.get("sha", "") is None:  # mode 0 removes the path from the index
                    lines.append(f"0 {'0' * 40}\t{entry['path']}\n")
                    continue
                if "content" in entry:
                    data = entry["content"].encode()
                    blob = _git(self.git_dir, "hash-object", "-w", "--stdin", data=data)
                else:  # a blob made by createBlob
                    blob = entry["sha"]
                lines.append(f"{entry['mode']} {blob}\t{entry['path']}\n")
            info = "".join(lines).encode()
            _git(self.git_dir, "update-index", "--index-info", data=info, env=env)
            return _git(self.git_dir, "write-tree", env=env)

    def _create_tree(self, body: dict[str, Any]) -> tuple[int, Any]:
        base = body.get("base_tree")  # none: a tree of the entries alone
        for entry in body["tree"]:
            # Deleting a path the base tree does not have is refused by GitHub.
            deleted = entry.get("sha", "") is None
            if deleted and (base is None or not _in_tree(self.git_dir, base, entry["path"])):
                return 422, {"message": "GitRPC::BadObjectState"}
            if "content" not in entry and not deleted and not _exists(self.git_dir, entry["sha"]):
                return 422, {"message": "tree.sha is not a valid blob"}
        sha = self._write_tree(base, body["tree"])
        return 201, {"sha": sha, "url": f"{API}/git/trees/{sha}", "tree": [], "truncated": False}

    def _create_commit(self, body: dict[str, Any]) -> tuple[int, Any]:
        parents = [x for parent in body["parents"] for x in ("-p", parent)]
        sha = _git(self.git_dir, "commit-tree", body["tree"], *parents, "-m", body["message"])
        return 201, {
            "sha": sha,
            "tree": {"sha": body["tree"]},
            "parents": [{"sha": p} for p in body["parents"]],
            "message": body["message"],
        }

    def _update_ref(self, branch: str, body: dict[str, Any]) -> tuple[int, Any]:
        head = self.head(branch)
        if head is None:
            return 422, {"message": "Reference does not exist"}
        fast_forward = subprocess.run(
            ["git", "merge-base", "--is-ancestor", head, body["sha"]], cwd=self.git_dir
        )
        if not body.get("force") and fast_forward.returncode != 0:
            return 422, {"message": "Update is not a fast forward"}
        _git(self.git_dir, "update-ref", f"refs/heads/{branch}", body["sha"])
        return 200, _ref_object(branch, body["sha"])

    def _contents(self, path: str, ref: str) -> tuple[int, Any]:
        data = self.file(path, ref)
        if data is None:
            return 404, {"message": "Not Found"}
        encoded = base64.b64encode(data).decode()
        wrapped = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60)) + "\n"
        blob = _git(self.git_dir, "rev-parse", f"{ref}:{path}")
        return 200, {
            "type": "file",
            "encoding": "base64",
            "size": len(data),
            "name": Path(path).name,
            "path": path,
            "content": wrapped,
            "sha": blob,
        }


def _in_tree(git_dir: Path, tree: str, path: str) -> bool:
    return _exists(git_dir, f"{tree}:{path}")


def _exists(git_dir: Path, name: str) -> bool:
    done = subprocess.run(["git", "cat-file", "-e", name], cwd=git_dir, capture_output=True)
    return done.returncode == 0


def _ref_object(branch: str, sha: str) -> dict[str, Any]:
    """A git reference as getRef, createRef and updateRef answer it."""
    return {
        "ref": f"refs/heads/{branch}",
        "node_id": "REF_kwDO",
        "url": f"{API}/repos/{OWNER_REPO}/git/refs/heads/{branch}",
        "object": {"type": "commit", "sha": sha, "url": f"{API}/git/commits/{sha}"},
    }


# ---- repository and organisation settings (what `medlb doctor` reads) -------------------------

ACTIONS_APP_ID = 15368  # the GitHub Actions app: the workflow token's bypass actor
EVALUATE_AT_MAIN = f"{OWNER_REPO}/.github/workflows/evaluate.yml@refs/heads/main"


def _user(login: str, number: int) -> dict[str, Any]:
    return {"login": login, "id": number, "type": "User", "html_url": f"https://github.com/{login}"}


def environment_answer(
    name: str = "gpu-evaluation",
    *,
    reviewers: int = 2,
    prevent_self_review: bool = True,
    branch_policy: bool = True,
) -> dict[str, Any]:
    """`GET /repos/{o}/{r}/environments/{name}`."""
    rules: list[dict[str, Any]] = [
        {"id": 3736, "node_id": "MDQ6R2F0ZTM3MzY=", "type": "wait_timer", "wait_timer": 0}
    ]
    if reviewers:
        rules.append(
            {
                "id": 3755,
                "node_id": "MDQ6R2F0ZTM3NTU=",
                "prevent_self_review": prevent_self_review,
                "type": "required_reviewers",
                "reviewers": [
                    {"type": "User", "reviewer": _user(f"maintainer{i}", 10 + i)}
                    for i in range(reviewers)
                ],
            }
        )
    if branch_policy:
        rules.append({"id": 3756, "node_id": "MDQ6R2F0ZTM3NTY=", "type": "branch_policy"})
    return {
        "id": 161088068,
        "node_id": "MDExOkVudmlyb25tZW50MTYxMDg4MDY4",
        "name": name,
        "url": f"{API}/repos/{OWNER_REPO}/environments/{name}",
        "html_url": f"https://github.com/{OWNER_REPO}/deployments/activity_log?environments_filter={name}",
        "created_at": "2026-11-01T12:00:00Z",
        "updated_at": "2026-11-01T12:00:00Z",
        "can_admins_bypass": False,
        "protection_rules": rules,
        "deployment_branch_policy": (
            {"protected_branches": False, "custom_branch_policies": True} if branch_policy else None
        ),
    }


def pages_answer(build_type: str = "workflow") -> dict[str, Any]:
    """`GET /repos/{o}/{r}/pages`."""
    owner, name = OWNER_REPO.split("/")
    return {
        "url": f"{API}/repos/{OWNER_REPO}/pages",
        "status": "built",
        "cname": None,
        "custom_404": False,
        "html_url": f"https://{owner}.github.io/{name}/",
        "build_type": build_type,
        "source": {"branch": "main", "path": "/"},
        "public": True,
        "https_enforced": True,
    }


def ruleset_answer(
    number: int, name: str, include: list[str], rules: list[dict[str, Any]], bypass: bool
) -> dict[str, Any]:
    """`GET /repos/{o}/{r}/rulesets/{id}`."""
    return {
        "id": number,
        "name": name,
        "target": "branch",
        "source_type": "Repository",
        "source": OWNER_REPO,
        "enforcement": "active",
        "bypass_actors": (
            [{"actor_id": ACTIONS_APP_ID, "actor_type": "Integration", "bypass_mode": "always"}]
            if bypass
            else [{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}]
        ),
        "current_user_can_bypass": "never",
        "node_id": "RRS_lACkVXNlcgQB",
        "conditions": {"ref_name": {"include": include, "exclude": []}},
        "rules": rules,
        "created_at": "2026-11-01T12:00:00Z",
        "updated_at": "2026-11-01T12:00:00Z",
    }


def runner_group_answer(
    number: int,
    name: str,
    *,
    visibility: str = "selected",
    restricted: bool = True,
    workflows: list[str] | None = None,
    public: bool = True,
) -> dict[str, Any]:
    """One element of `GET /orgs/{org}/actions/runner-groups`'s `runner_groups`."""
    org = OWNER_REPO.split("/")[0]
    base = f"{API}/orgs/{org}/actions/runner-groups/{number}"
    return {
        "id": number,
        "name": name,
        "visibility": visibility,
        "default": number == 1,
        "selected_repositories_url": f"{base}/repositories",
        "runners_url": f"{base}/runners",
        "hosted_runners_url": f"{API}/orgs/{org}/actions/runner-groups/{number}/hosted-runners",
        "network_configuration_id": None,
        "inherited": False,
        "allows_public_repositories": public,
        "restricted_to_workflows": restricted,
        "selected_workflows": [EVALUATE_AT_MAIN] if workflows is None else workflows,
        "workflow_restrictions_read_only": False,
    }


def runner_answer(number: int, name: str, labels: tuple[str, ...], status: str) -> dict[str, Any]:
    """One element of `GET /orgs/{org}/actions/runner-groups/{id}/runners`'s `runners`."""
    return {
        "id": number,
        "name": name,
        "os": "linux",
        "status": status,
        "busy": False,
        "ephemeral": True,
        "labels": [
            {"id": i, "name": label, "type": "read-only" if label == "self-hosted" else "custom"}
            for i, label in enumerate(labels, 1)
        ],
    }


class FakeSettings:
    """A `Transport` answering the GET requests of `medlb doctor` for a repository set up as
    docs/maintainers/setup.md says; tests break one setting at a time through its fields."""

    def __init__(self) -> None:
        self.private = False
        self.environment: dict[str, Any] | None = environment_answer()
        self.workflow_permissions = "read"
        self.approval_policy = "all_external_contributors"
        self.pages: dict[str, Any] | None = pages_answer()
        pull_request = {
            "type": "pull_request",
            "parameters": {
                "required_approving_review_count": 1,
                "dismiss_stale_reviews_on_push": True,
                "require_code_owner_review": True,
                "require_last_push_approval": True,
                "required_review_thread_resolution": False,
            },
        }
        self.rulesets: dict[int, dict[str, Any]] = {
            1: ruleset_answer(
                1,
                "default branch",
                ["~DEFAULT_BRANCH"],
                [{"type": "deletion"}, {"type": "non_fast_forward"}, pull_request],
                bypass=True,
            ),
            2: ruleset_answer(
                2,
                "details branch",
                ["refs/heads/details"],
                [{"type": "deletion"}, {"type": "non_fast_forward"}, {"type": "update"}],
                bypass=True,
            ),
        }
        self.branches = {"main", "details"}
        self.classic_protection: dict[str, dict[str, Any]] = {}
        self.files = {
            "requirements/eval.lock",
            "requirements/publish.lock",
            "requirements/site.lock",
            ".github/CODEOWNERS",
        }
        self.groups = [
            runner_group_answer(1, "Default", visibility="all", restricted=False, workflows=[]),
            runner_group_answer(2, "gpu"),
        ]
        self.group_repos = {2: [OWNER_REPO]}
        self.runners = {
            2: [runner_answer(7, "gpu-a100-1", ("self-hosted", "linux", "gpu"), "online")]
        }
        self.codeowners_errors: list[dict[str, Any]] = []
        self.refused: dict[str, int] = {}  # path fragment → HTTP status (a token without access)
        self.requests: list[tuple[str, str]] = []

    def _rules_for(self, branch: str) -> list[dict[str, Any]]:
        """`GET /repos/{o}/{r}/rules/branches/{branch}`: each active ruleset's rules that apply."""
        names = {f"refs/heads/{branch}"} | ({"~DEFAULT_BRANCH"} if branch == "main" else set())
        found = []
        for ruleset in self.rulesets.values():
            if names & set(ruleset["conditions"]["ref_name"]["include"]):
                for rule in ruleset["rules"]:
                    found.append(
                        {
                            **rule,
                            "ruleset_source_type": "Repository",
                            "ruleset_source": OWNER_REPO,
                            "ruleset_id": ruleset["id"],
                        }
                    )
        return found

    def __call__(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        self.requests.append((method, path))
        assert method == "GET", "doctor only reads"
        for fragment, status in self.refused.items():
            if fragment in path:
                return status, {"message": "Resource not accessible by personal access token"}
        route = path.partition("?")[0]
        repo, org = (
            f"/repos/{OWNER_REPO}",
            f"/orgs/{OWNER_REPO.split('/')[0]}/actions/runner-groups",
        )
        not_found = (404, {"message": "Not Found"})
        if route == repo:
            return 200, {**_repo_object(OWNER_REPO), "fork": False, "private": self.private}
        if route == f"{repo}/environments/gpu-evaluation":
            return (200, self.environment) if self.environment else not_found
        if route == f"{repo}/actions/permissions/workflow":
            permissions = self.workflow_permissions
            return 200, {
                "default_workflow_permissions": permissions,
                "can_approve_pull_request_reviews": False,
            }
        if route == f"{repo}/actions/permissions/fork-pr-contributor-approval":
            return 200, {"approval_policy": self.approval_policy}
        if route == f"{repo}/codeowners/errors":
            return 200, {"errors": self.codeowners_errors}
        if route == f"{repo}/pages":
            return (200, self.pages) if self.pages else not_found
        if route == f"{repo}/rulesets":
            summary = ("id", "name", "target", "source_type", "source", "enforcement", "node_id")
            return 200, [{k: r.get(k) for k in summary} for r in self.rulesets.values()]
        if route.startswith(f"{repo}/rulesets/"):
            found = self.rulesets.get(int(route.rsplit("/", 1)[1]))
            return (200, found) if found else not_found
        if route.startswith(f"{repo}/rules/branches/"):
            return 200, self._rules_for(route.rsplit("/", 1)[1])
        if route.startswith(f"{repo}/git/ref/heads/"):
            branch = route.rsplit("/", 1)[1]
            return (200, _ref_object(branch, "a" * 40)) if branch in self.branches else not_found
        if route.startswith(f"{repo}/branches/") and route.endswith("/protection"):
            found = self.classic_protection.get(route.split("/")[-2])
            return (200, found) if found else (404, {"message": "Branch not protected"})
        if route.startswith(f"{repo}/contents/"):
            name = route.removeprefix(f"{repo}/contents/")
            if name not in self.files:
                return not_found
            return 200, {
                "type": "file",
                "encoding": "base64",
                "content": "bG9jaw==\n",
                "path": name,
            }
        if route == org:
            return 200, {"total_count": len(self.groups), "runner_groups": self.groups}
        if route.startswith(org + "/"):
            number, what = route.removeprefix(org + "/").split("/")
            if what == "runners":
                runners = self.runners.get(int(number), [])
                return 200, {"total_count": len(runners), "runners": runners}
            names = self.group_repos.get(int(number), [])
            repos = [_repo_object(n) for n in names]
            return 200, {"total_count": len(repos), "repositories": repos}
        return not_found


def readme_repository(folder: Path) -> FakeGitHub:
    """GitHub serving a fresh bare repository under `folder` whose `main` holds one README commit
    (what a leaderboard repository looks like before anything is published)."""
    seed = folder / "seed"
    seed.mkdir()
    _git(seed, "init", "-q", "-b", "main")
    (seed / "README.md").write_text("leaderboard\n")
    _git(seed, "add", ".")
    _git(seed, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q", "-m", "start")
    _git(folder, "clone", "-q", "--bare", str(seed), "origin.git")
    return FakeGitHub(folder / "origin.git")
