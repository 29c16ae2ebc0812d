"""How text that someone else chose (file names, log lines, PR fields) is shown, so it stays text.

Two places need it (ARCHITECTURE.md, "Trust boundary"):

- Markdown that GitHub renders (the PR comment, job summaries): `escape_markdown` is the one
  escaping function for every untrusted string there. It keeps the text on one line, backslash-
  escapes every ASCII punctuation character (CommonMark renders each literally: no code span,
  emphasis, link, image, HTML tag, entity or table cell break can start) and puts an invisible
  U+200B after the characters GitHub turns into links *after* rendering (`@user` mentions, `#12`
  references, `scheme://` and `www.` autolinks), which backslashes cannot stop. Escaped text is
  plain text: never put it inside a code span, where backslashes show.
  `table_code` is the other inert form, for text a reader copies (paths, `medlb validate`'s
  messages in a job summary's table): a code span, in which nothing is Markdown, HTML, a mention
  or a link, so the characters need no backslashes and no U+200B and copy exactly.
- Messages on one line (errors, logs): `quoted` shows a value as a JSON string, so a newline or a
  control character can never start a line of its own (workflow commands such as `::error::`
  are read at the start of a line); `shorten` shows a short piece of user input as a cut Python
  repr, the form every `medlb validate` message quotes in. Workflow command arguments themselves
  are escaped by `runner.github_actions`.
"""

from __future__ import annotations

import json
import re
import string
import unicodedata

_ZERO_WIDTH_SPACE = "\u200b"
# What GitHub links after rendering, in the text escape_markdown has already backslash-escaped.
_LINK_TRIGGERS = re.compile(r"(\\@)(?=\w)|(\\#)(?=\d)|(\\:)(?=\\/\\/)|(www)(?=\\\.)", re.I)
_PUNCTUATION = frozenset(string.punctuation)
MAX_SHOWN = 40  # characters of user input quoted by `shorten`


# Characters that can hide or reorder text, or start a new line, wherever they appear: controls
# (but tab, newline, carriage return, which text files hold), format characters (bidi marks and
# overrides U+200E/F, U+202A-E, U+2066-9; zero-width U+200B-D, U+2060, U+FEFF; tag characters
# U+E0000-E007F) and the Unicode line and paragraph separators.
_HIDDEN_CATEGORIES = ("Cc", "Cf", "Zl", "Zp")
_TEXT_CONTROLS = frozenset("\t\n\r")


def hidden_character(text: str) -> str | None:
    """The first character of `text` that can hide or reorder text (see above), or None."""
    for ch in text:
        if ch not in _TEXT_CONTROLS and unicodedata.category(ch) in _HIDDEN_CATEGORIES:
            return ch
    return None


def one_line(text: str) -> str:
    """`text` for a log line or a workflow command's message: each newline, control, format or
    separator character written as its escape (`\\n`, `\\u202e`), so nothing it holds can start a
    line of its own (a `::` workflow command), hide or reorder the text around it. The one
    escaping every message that repeats untrusted text passes through on its way to a log."""
    return "".join(
        ascii(ch)[1:-1] if unicodedata.category(ch) in _HIDDEN_CATEGORIES else ch for ch in text
    )


def visible_characters(text: str) -> str:
    """`text` without control and format characters (newlines, NUL, bidi overrides: what can hide
    or reorder text), its runs of whitespace collapsed to one space."""
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")
    )
    return " ".join(kept.split())


def escape_markdown(text: str) -> str:
    """`text` as inert inline Markdown: renders as exactly these characters, on one line."""
    escaped = "".join("\\" + ch if ch in _PUNCTUATION else ch for ch in visible_characters(text))
    return _LINK_TRIGGERS.sub(lambda m: m.group(0) + _ZERO_WIDTH_SPACE, escaped)


def table_code(text: str, limit: int | None = None) -> str:
    """`text` as a code span in a GFM table cell: on one line, cut to about `limit` characters,
    fenced by more backticks than it holds in a row, `|` escaped (GFM's rule inside tables)."""
    shown = visible_characters(text)
    if limit is not None and len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    if not shown:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", shown)), default=0) + 1)
    padded = f" {shown} " if shown.startswith("`") or shown.endswith("`") else shown
    return fence + padded.replace("|", "\\|") + fence


def quoted(value: str, limit: int = 120) -> str:
    """`value` for a one-line message: a JSON string (escapes newlines and controls), cut short."""
    shown = value if len(value) <= limit else value[: limit - 1] + "…"
    return json.dumps(shown)


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """`text` as a repr cut to about `limit` characters, safe to put in a one-line message."""
    shown = repr(text[:limit])
    return shown + ("…" if len(text) > limit else "")
