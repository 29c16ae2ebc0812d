"""Untrusted text stays text: in Markdown GitHub renders (PR comment, job summaries) and in
one-line messages (runner.untrusted_text). Finding 6 of the trust-boundary review."""

from __future__ import annotations

import html
import re

import pytest
from markdown_it import MarkdownIt

from runner.untrusted_text import escape_markdown, quoted, visible_characters

HOSTILE = (
    "`x` @octocat [click](https://evil.example/a) <img src=x onerror=alert(1)> | forged cell | "
    "**bold** _em_ ![i](u) # heading www.evil.example #12 &amp; \\` ~~s~~ <!-- c --> "
    "mail@evil.example\n::error::forged\r\n::add-mask::x\u202eevil\x00"
)


def _render_cell(text: str) -> str:
    """A GFM table with `text` in the first cell, rendered by a CommonMark parser."""
    table = f"| name | result |\n|---|---|\n| {text} | ok |\n"
    return MarkdownIt("commonmark").enable("table").render(table)


def test_escaped_text_renders_as_exactly_its_characters_in_a_table_cell():
    rendered = _render_cell(escape_markdown(HOSTILE))
    tags = set(re.findall(r"<(/?\w+)", rendered))
    assert tags <= {"table", "/table", "thead", "/thead", "tbody", "/tbody", "tr", "/tr", "th",
                    "/th", "td", "/td"}, tags  # fmt: skip
    cells = re.findall(r"<td>(.*?)</td>", rendered, re.S)
    assert len(cells) == 2 and cells[1] == "ok"
    assert html.unescape(cells[0]).replace("\u200b", "") == visible_characters(HOSTILE)


def test_what_github_links_after_rendering_is_broken_by_an_invisible_space():
    text = html.unescape(re.findall(r"<td>(.*?)</td>", _render_cell(escape_markdown(HOSTILE)))[0])
    assert "@\u200boctocat" in text and "@octocat" not in text
    assert "://" not in text and "www.evil" not in text and "#12" not in text
    assert "mail@evil" not in text


def test_escaped_text_is_one_line_without_controls():
    escaped = escape_markdown(HOSTILE)
    assert "\n" not in escaped and "\r" not in escaped and "\x00" not in escaped
    assert "\u202e" not in escaped  # no right-to-left override reordering what a reader sees
    assert escape_markdown("BioMistral/BioMistral-7B") == "BioMistral\\/BioMistral\\-7B"


@pytest.mark.parametrize("value", ["a\nb", "submissions/x.yaml\n::error::forged", "\x1b[31m"])
def test_quoted_values_stay_on_one_line(value):
    shown = quoted(value)
    assert "\n" not in shown and "\x1b" not in shown and shown.startswith('"')
    assert len(quoted("x" * 500)) < 130


def test_table_code_shows_text_exactly_and_keeps_the_table_cell():
    from runner.untrusted_text import table_code

    assert table_code("https://huggingface.co/a/b") == "`https://huggingface.co/a/b`"  # copyable
    assert table_code("a | b") == "`a \\| b`"  # GFM: an escaped pipe inside a table's code span
    assert table_code("say `x`") == "`` say `x` ``"  # a longer fence than any run inside
    assert table_code("line\nbreak") == "`line break`"
    assert table_code("x" * 50, 10) == "`" + "x" * 9 + "…`"
