"""The hardened YAML loader: what it accepts, and the one-line reason for everything it refuses."""

from __future__ import annotations

import pytest

from runner.submissions.safe_yaml import MAX_BYTES, FileError, load_yaml_bytes, load_yaml_mapping


def test_plain_mapping_loads_with_key_lines():
    doc = load_yaml_bytes(b"# comment\nmodel: a/b\n\nrevision: 'x'\nn: 3\n", "f.yaml")
    assert doc.data == {"model": "a/b", "revision": "x", "n": 3}
    assert doc.key_lines == {"model": 2, "revision": 4, "n": 5}


def test_utf8_bom_is_accepted():
    assert load_yaml_bytes(b"\xef\xbb\xbfmodel: a/b\n", "f.yaml").data == {"model": "a/b"}


def test_folded_multiline_string_loads():
    doc = load_yaml_bytes(b"description: >-\n  one\n  two\n", "f.yaml")
    assert doc.data == {"description": "one two"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"a: 1\nb: 2\na: 3\n", "f.yaml:3: duplicate key 'a' (first at line 1)"),
        (b"a:\n  x: 1\n  x: 2\n", "f.yaml:3: duplicate key 'x' (first at line 2)"),
        (b"a: &x 1\nb: *x\n", "f.yaml:1: anchors (&name) are not allowed; write the value out"),
        (b"a: [1]\nb: *x\n", "f.yaml:2: aliases (*name) are not allowed; write the value out"),
        (
            b"a: !!str 1\n",
            "f.yaml:1: explicit tags are not allowed (found 'tag:yaml.org,2002:str')",
        ),
        (b"<<: {a: 1}\n", "f.yaml:1: merge keys (<<) are not allowed"),
        (b"? [a]\n: 1\n", "f.yaml:1: mapping keys must be plain strings"),
        (
            b"a: 1\n---\nb: 2\n",
            "f.yaml:2: more than one YAML document (`---`); a submission is exactly one",
        ),
        (
            b"- a\n- b\n",
            "f.yaml:1: the top level must be a mapping of `key: value` lines, not a list",
        ),
        (
            b"just text\n",
            "f.yaml:1: the top level must be a mapping of `key: value` lines, not a single value",
        ),
        (b"", "f.yaml: file is empty; expected `key: value` lines"),
        (b"# nothing\n", "f.yaml: file is empty; expected `key: value` lines"),
        (b"a:\n\tb: 1\n", "f.yaml:2: tab character in indentation; YAML indents with spaces"),
        (b"a: 1\x00\n", "f.yaml: binary data (NUL byte at offset 4); expected a YAML text file"),
        (b"a: caf\xe9\n", "f.yaml:1: not UTF-8 text (byte 0xe9 at offset 6)"),
        ("a: 1\n".encode("utf-16"), "f.yaml: UTF-16/32 text; save the file as UTF-8"),
        (b"a: 1\nb: \x07\n", "f.yaml:2: control character U+0007 is not allowed in a text file"),
        (b"a: [1, 2\nb: 3\n", "f.yaml:2: YAML syntax error: expected ',' or ']', but got ':'"),
    ],
)
def test_refusals_name_file_line_and_reason(text, message):
    with pytest.raises(FileError) as caught:
        load_yaml_bytes(text, "f.yaml")
    assert str(caught.value) == message


def test_python_tag_is_refused_before_anything_is_constructed(tmp_path):
    marker = tmp_path / "pwned"
    text = f"a: !!python/object/apply:os.system ['touch {marker}']\n".encode()
    with pytest.raises(FileError, match="explicit tags are not allowed"):
        load_yaml_bytes(text, "f.yaml")
    assert not marker.exists()


def test_billion_laughs_is_refused_at_the_first_anchor():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}] " for i in range(8)]
    with pytest.raises(FileError, match=r"^f.yaml:1: anchors \(&name\) are not allowed"):
        load_yaml_bytes("\n".join(lines).encode(), "f.yaml")


def test_deep_nesting_is_refused_without_recursion_error():
    text = b"a: " + b"[" * 20000 + b"]" * 20000 + b"\n"
    with pytest.raises(FileError) as caught:
        load_yaml_bytes(text, "f.yaml")
    assert str(caught.value) == "f.yaml:1: nested deeper than 16 levels"


def test_size_cap_is_checked_before_reading(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"x" * (5 * 1024 * 1024) + b"\n")
    with pytest.raises(FileError) as caught:
        load_yaml_mapping(path, "big.yaml")
    assert str(caught.value) == f"big.yaml: file is 5,242,884 bytes; the limit is {MAX_BYTES:,}"


def test_messages_stay_short_whatever_the_input():
    key = "k" * 900
    with pytest.raises(FileError) as caught:
        load_yaml_bytes(f"{key}: 1\n{key}: 2\n".encode(), "f.yaml")
    assert len(str(caught.value)) < 120
    assert str(caught.value).startswith("f.yaml:2: duplicate key 'kkkk")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileError, match=r"^nope.yaml: no such file$"):
        load_yaml_mapping(tmp_path / "nope.yaml", "nope.yaml")
    with pytest.raises(FileError, match=r"^dir: not a regular file$"):
        load_yaml_mapping(tmp_path, "dir")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # YAML escapes make, in the parsed value, what the raw-text check never sees.
        (b'a: 1\nb: "x\\u202ey"\n', "f.yaml:2: 'b': control character U+202E is not allowed"),
        (b'b: "\\x1b[2J"\n', "f.yaml:1: 'b': control character U+001B is not allowed"),
        (b'b: "nul\\0"\n', "f.yaml:1: 'b': control character U+0000 is not allowed"),
        (b'b: ["\\U000E0041"]\n', "f.yaml:1: 'b': control character U+E0041 is not allowed"),
        # Bidi marks and tag characters written out are refused like the overrides.
        ("b: x\u200fy\n".encode(), "f.yaml:1: control character U+200F is not allowed"),
        ("b: x\U000e0041\n".encode(), "f.yaml:1: control character U+E0041 is not allowed"),
        # Values YAML cannot build in Python: a problem on their line, not a traceback.
        (b"a: 1\nb: " + b"9" * 5000 + b"\n", "f.yaml:2: '99999999999999999999'… cannot be read"),
        (b"b: 2024-02-30\n", "f.yaml:1: '2024-02-30' cannot be read as a value (ValueError)"),
    ],
)
def test_hidden_characters_and_unbuildable_values_are_one_line_problems(text, message):
    """Issue 17: checked on parsed values too, and constructor errors become problems."""
    with pytest.raises(FileError) as caught:
        load_yaml_bytes(text, "f.yaml")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
