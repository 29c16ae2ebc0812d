"""Let generated pages carry large HTML blocks past Python-Markdown untouched.

Markdown re-parses every raw HTML block tag by tag (about 10 ms for a model page's tables and
charts), which made 1,000 model pages take longer than the whole build budget. Templates wrap
such blocks in `<!--raw-->…<!--/raw-->`; `extract_raw_blocks` swaps each for a one-line marker
before mkdocs sees the page, and `RawHtmlPlugin` puts the HTML back after Markdown conversion.
The page's headings stay in Markdown, so the table of contents and search still see them.
"""

from __future__ import annotations

import re

from mkdocs.plugins import BasePlugin

_RAW_BLOCK = re.compile(r"<!--raw-->(.*?)<!--/raw-->", re.DOTALL)
_MARKER = re.compile(r"<!--medlb-raw:(\d+)-->")


def extract_raw_blocks(markdown: str) -> tuple[str, list[str]]:
    """The page with markers in place of raw blocks, and the blocks in marker order."""
    blocks: list[str] = []

    def stash(match: re.Match[str]) -> str:
        blocks.append(match.group(1).strip())
        return f"\n\n<!--medlb-raw:{len(blocks) - 1}-->\n\n"

    return _RAW_BLOCK.sub(stash, markdown), blocks


class RawHtmlPlugin(BasePlugin):
    """Registered in-process by `mkdocs_build`; keyed by each page's path under docs_dir."""

    def __init__(self, blocks: dict[str, list[str]]) -> None:
        super().__init__()
        self.blocks = blocks

    def on_page_content(self, html: str, page, config, files) -> str:
        blocks = self.blocks.get(page.file.src_uri)
        if not blocks:
            return html
        return _MARKER.sub(lambda m: blocks[int(m.group(1))], html)
