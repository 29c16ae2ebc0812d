"""The Submit page: the repository's SUBMITTING.md, rendered on the site, with links to act on it.

SUBMITTING.md is the one description of the submission flow; the site renders its Markdown
rather than repeating it. Its title becomes the page's, links to other repository files point at
the repository (they are not pages of the site), and its first YAML example pre-fills GitHub's
new-file editor, so "open a pull request" is one click from the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runner.sitegen.repository import Repository

SUBMISSIONS_DIR = "submissions"
_TITLE = re.compile(r"\A\s*#\s+[^\n]*\n")
_YAML_BLOCK = re.compile(r"^```ya?ml\n(.*?)^```", re.M | re.S)
# [text](target) where target is not a URL, an anchor or a mail address: a repository file.
_RELATIVE_LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s]+)\)")


@dataclass(frozen=True)
class SubmitGuide:
    markdown: str  # SUBMITTING.md without its title, links resolved
    new_file_url: str  # GitHub's editor for a new submission file, pre-filled with the example


def submit_guide(submitting_md: str, repository: Repository) -> SubmitGuide:
    body = _TITLE.sub("", submitting_md, count=1)
    body = _RELATIVE_LINK.sub(lambda m: f"]({repository.file_url(m.group(1))})", body)
    example = _YAML_BLOCK.search(body)
    template = example.group(1) if example else ""
    return SubmitGuide(
        markdown=body.strip() + "\n",
        new_file_url=repository.new_file_url(SUBMISSIONS_DIR, "ORG/MODEL.yaml", template),
    )
