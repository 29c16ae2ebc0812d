"""The GitHub repository a reader opens a pull request against, and the links the site makes to it.

Its URL is `repo_url` in mkdocs.yml, which `medlb site build --repo-url URL` overrides (the Pages
workflow passes its own repository). The links are GitHub's own URL forms: the new-file editor
(which forks the repository for a reader without write access and proposes a pull request), the
pull-request search, a file on the default branch and a folder on another branch (the per-item
details).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from runner.errors import UsageError, UserError

_REPO_URL = re.compile(r"^https://[A-Za-z0-9.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
DEFAULT_BRANCH = "main"


@dataclass(frozen=True)
class Repository:
    url: str  # https://github.com/<owner>/<name>, no trailing slash
    branch: str = DEFAULT_BRANCH

    @property
    def name(self) -> str:
        """`owner/name`, as the header shows it."""
        return "/".join(self.url.split("/")[-2:])

    @property
    def pulls_url(self) -> str:
        return f"{self.url}/pulls"

    def new_file_url(self, folder: str, filename: str, text: str) -> str:
        """GitHub's editor with `folder/filename` pre-filled with `text`."""
        query = urlencode({"filename": filename, "value": text}, quote_via=quote)
        return f"{self.url}/new/{self.branch}/{quote(folder)}?{query}"

    def pull_search_url(self, text: str) -> str:
        """Pull requests (open or closed) whose title, body or comments mention `text`."""
        query = urlencode({"q": f'is:pr "{text}"'}, quote_via=quote)
        return f"{self.pulls_url}?{query}"

    def file_url(self, path: str) -> str:
        """A file of the repository on its default branch."""
        return self.file_on(self.branch, path)

    def folder_url(self, branch: str, path: str) -> str:
        """A folder of the repository on `branch` (GitHub lists its files, each downloadable)."""
        return f"{self.url}/tree/{quote(branch)}/{quote(path)}"

    def file_on(self, branch: str, path: str) -> str:
        """A file of the repository on `branch`."""
        return f"{self.url}/blob/{quote(branch)}/{quote(path)}"


def repository_from(url: str, *, flag: str) -> Repository:
    """Check a repository URL given as `flag` (the option or the config key that holds it)."""
    cleaned = url.strip().removesuffix("/").removesuffix(".git")
    if not _REPO_URL.match(cleaned):
        message = f"{flag}: {url[:100]!r} is not a repository URL (https://HOST/OWNER/NAME)"
        raise UsageError(message) if flag.startswith("--") else UserError(message)
    return Repository(cleaned)
