"""Load an untrusted YAML file (a submission from a pull request) into a plain mapping.

A submission is a handful of `key: value` lines, so everything YAML can do beyond that is refused
rather than tamed: anchors and aliases (the "billion laughs" expansion needs them), explicit tags
(`!!python/object` and friends), merge keys, several documents, anything but a mapping at the top,
nesting deeper than `MAX_DEPTH`, files over `MAX_BYTES`, bytes that are not UTF-8 text, and
duplicate keys (PyYAML silently keeps the last one, which hides mistakes). Each refusal is one
`FileError`: the file, the line where known, and a short reason that never echoes much input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, ScalarNode

from runner.errors import UserError

MAX_BYTES = 64 * 1024  # a real submission is well under 2 KiB
MAX_DEPTH = 16  # nodes from the top mapping down; a submission needs 2
MAX_SHOWN = 40  # characters of user input quoted in a message

_MERGE_TAG = "tag:yaml.org,2002:merge"
# C0/C1 controls and DEL, except tab, newline and carriage return (YAML's reader refuses them too,
# with a message that points at a character position instead of a line), and the bidirectional
# overrides that make text in a PR diff read differently from what is parsed ("Trojan Source").
_CONTROL_CHARS = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class FileError(UserError):
    """A problem located in an input file: `path:line: reason` (line when known)."""

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class YamlMapping:
    """A parsed top-level mapping and the 1-based line of each of its keys."""

    data: dict[str, Any]
    key_lines: dict[str, int]


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """`text` as a repr cut to about `limit` characters, safe to put in a one-line message."""
    shown = repr(text[:limit])
    return shown + ("…" if len(text) > limit else "")


class _Rejected(Exception):
    """Raised inside the loader; turned into a `FileError` with the file's name."""

    def __init__(self, reason: str, mark: yaml.Mark | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = mark.line + 1 if mark is not None else None


class _HardenedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with the refusals listed in the module docstring.

    The pure-Python loader is used on purpose: its composer can be overridden node by node, and at
    64 KiB at most its speed does not matter.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            raise _Rejected(
                "aliases (*name) are not allowed; write the value out", event.start_mark
            )
        if event.anchor is not None:
            raise _Rejected(
                "anchors (&name) are not allowed; write the value out", event.start_mark
            )
        tag = getattr(event, "tag", None)
        if tag is not None:
            raise _Rejected(
                f"explicit tags are not allowed (found {shorten(tag)})", event.start_mark
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Rejected(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[str, int] = {}
        for key_node, _ in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                raise _Rejected("merge keys (<<) are not allowed", key_node.start_mark)
            if not isinstance(key_node, ScalarNode):
                raise _Rejected("mapping keys must be plain strings", key_node.start_mark)
            if key_node.value in first_line:
                raise _Rejected(
                    f"duplicate key {shorten(key_node.value)} (first at line "
                    f"{first_line[key_node.value]})",
                    key_node.start_mark,
                )
            first_line[key_node.value] = line
        return super().construct_mapping(node, deep=deep)


def read_limited(path: Path, display: str) -> bytes:
    """The bytes of `path`, refusing anything but a regular file of at most `MAX_BYTES`."""
    try:
        if path.is_symlink():  # a link could point validation at any file on the CI runner
            raise FileError(display, "is a symbolic link; a submission must be a regular file")
        if not path.is_file():
            reason = "no such file" if not path.exists() else "not a regular file"
            raise FileError(display, reason)
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise FileError(display, f"file is {size:,} bytes; the limit is {MAX_BYTES:,}")
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)  # the file may have grown since stat()
    except OSError as err:
        raise FileError(display, f"cannot read file ({err.strerror})") from None
    if len(data) > MAX_BYTES:
        raise FileError(display, f"file is over the {MAX_BYTES:,}-byte limit")
    return data


def decode_text(data: bytes, display: str) -> str:
    """Strict UTF-8 (a leading BOM is allowed and dropped); binary data is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileError(display, "UTF-16/32 text; save the file as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise FileError(
            display, f"binary data (NUL byte at offset {nul}); expected a YAML text file"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        bad = data[err.start : err.start + 1].hex()
        raise FileError(
            display, f"not UTF-8 text (byte 0x{bad} at offset {err.start})", line
        ) from None
    control = _CONTROL_CHARS.search(text)
    if control is not None:
        line = text.count("\n", 0, control.start()) + 1
        code = f"U+{ord(control.group()):04X}"
        raise FileError(display, f"control character {code} is not allowed in a text file", line)
    for number, text_line in enumerate(text.split("\n"), start=1):
        indent = text_line[: len(text_line) - len(text_line.lstrip(" \t"))]
        if "\t" in indent:
            raise FileError(
                display, "tab character in indentation; YAML indents with spaces", number
            )
    return text


def parse_mapping(text: str, display: str) -> YamlMapping:
    """Parse `text` (one YAML document whose top is a mapping) with `_HardenedLoader`."""
    loader = _HardenedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise FileError(display, "file is empty; expected `key: value` lines")
        if not isinstance(node, MappingNode):
            kind = "a list" if node.id == "sequence" else "a single value"
            raise FileError(
                display, f"the top level must be a mapping of `key: value` lines, not {kind}", 1
            )
        key_lines = {
            str(key.value): key.start_mark.line + 1
            for key, _ in node.value
            if isinstance(key, ScalarNode)
        }
        data = loader.construct_document(node)
    except _Rejected as err:
        raise FileError(display, err.reason, err.line) from None
    except yaml.MarkedYAMLError as err:
        raise FileError(display, _describe_yaml_error(err), _line_of(err)) from None
    except yaml.YAMLError as err:  # errors without a position (e.g. from the reader)
        raise FileError(display, f"YAML error: {shorten(str(err), 80)}") from None
    except RecursionError:  # defence in depth: MAX_DEPTH stops nesting long before this
        raise FileError(display, "nested too deeply") from None
    finally:
        loader.dispose()
    return YamlMapping(data=data, key_lines=key_lines)


def _line_of(err: yaml.MarkedYAMLError) -> int | None:
    mark = err.problem_mark or err.context_mark
    return mark.line + 1 if mark is not None else None


def _describe_yaml_error(err: yaml.MarkedYAMLError) -> str:
    problem = err.problem or err.context or "malformed YAML"
    if "expected a single document" in (err.context or ""):
        return "more than one YAML document (`---`); a submission is exactly one"
    if "'\\t'" in problem:
        return "tab character where YAML expects spaces"
    return f"YAML syntax error: {problem[:100]}"


def load_yaml_mapping(path: Path, display: str | None = None) -> YamlMapping:
    """Read, decode and parse one untrusted YAML file; `display` is the name used in messages."""
    shown = display if display is not None else str(path)
    return parse_mapping(decode_text(read_limited(Path(path), shown), shown), shown)


def load_yaml_bytes(data: bytes, display: str) -> YamlMapping:
    """The same as `load_yaml_mapping` for bytes already in memory (e.g. from `git show`)."""
    if len(data) > MAX_BYTES:
        raise FileError(display, f"file is {len(data):,} bytes; the limit is {MAX_BYTES:,}")
    return parse_mapping(decode_text(data, display), display)
