"""One `medlb validate` pass names every problem of a file, each on its own line, with what to
write instead; the common mistakes of model authors each get a message that says the fix."""

from __future__ import annotations

import re

import pytest
from submission_fixtures import SHA, VALID_PATH, VALID_SUBMISSION, place, variant

from runner.cli import main

PATH = VALID_PATH
VALID = VALID_SUBMISSION

FIVE_PROBLEMS = """\
model: acme/med-7b
revision: main
precision: bf16
model_type: fine-tuned
license: apache-2.0
description: A medical fine-tune of a 7B model.
foo: bar
"""


def validate(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["validate", "--offline", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def failures(out: str) -> list[str]:
    """The FAIL lines of the text report, without the leading marks."""
    return [line.split(None, 2)[2] for line in out.splitlines() if line.startswith("  FAIL ")]


def test_five_problems_are_named_in_one_run_each_on_its_own_line(workdir, capsys):
    wrong_folder = "submissions/someone-else/med-7b.yaml"
    place(workdir, wrong_folder, FIVE_PROBLEMS)
    code, out, _ = validate(capsys, wrong_folder)
    assert code == 1
    found = failures(out)
    assert found == [
        f"{wrong_folder}:2: revision: must be a full 40-character lowercase hex commit SHA, not "
        "'main' (branch names, tags and short SHAs are not pinned): that is a branch, which "
        "moves; copy the full commit id from the Hub (Files and versions → History)",
        f"{wrong_folder}:3: precision: must be float16, bfloat16 or float32, not 'bf16'; did you "
        "mean `bfloat16`? Write `precision: bfloat16`",
        f"{wrong_folder}:4: base_model: required when model_type is fine-tuned; add "
        "`base_model: <org>/<name>`, the Hub id of the model it was made from",
        f"{wrong_folder}:7: unknown field 'foo' (allowed: model, revision, precision, model_type, "
        "base_model, license, description, paper, contact, tracks); remove it",
        f"{wrong_folder}:1: model acme/med-7b must be submitted as submissions/acme/med-7b.yaml "
        "(move the file there, or correct `model` if the path is right)",
    ]
    lines = [re.match(rf"{re.escape(wrong_folder)}:(\d+):", f)[1] for f in found]
    assert len(set(lines)) == 5


def test_each_problem_is_its_own_annotation_on_its_own_line(workdir, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(workdir / "summary.md"))
    place(workdir, PATH, VALID.replace("bfloat16", "fp16") + "foo: 1\n")
    code, out, _ = validate(capsys, PATH)
    annotations = [line for line in out.splitlines() if line.startswith("::error ")]
    assert code == 1
    assert [re.search(r",line=(\d+),", a)[1] for a in annotations] == ["3", "8"]
    assert "did you mean `float16`?" in annotations[0]
    assert "unknown field 'foo'" in annotations[1] and "fp16" not in annotations[1]


def test_the_path_is_checked_even_when_other_fields_fail(workdir, capsys):
    place(workdir, "submissions/evil/x.yaml", VALID.replace("bfloat16", "int8"))
    _, out, _ = validate(capsys, "submissions/evil/x.yaml")
    assert (
        "  FAIL  path            submissions/evil/x.yaml:1: model Qwen/Qwen2.5-7B-Instruct " in out
    )
    place(workdir, "submissions/evil/y.yaml", VALID.replace("Qwen/Qwen2.5-7B-Instruct", "a b"))
    _, out, _ = validate(capsys, "submissions/evil/y.yaml")
    assert "  skip  path            `model` is not valid" in out.splitlines()


def test_a_misspelled_field_is_checked_under_the_name_it_stands_for(workdir, capsys):
    place(workdir, PATH, VALID.replace("license: apache-2.0", "licence: Apache 2.0"))
    code, out, _ = validate(capsys, PATH)
    assert code == 1
    assert failures(out) == [
        f"{PATH}:6: unknown field 'licence'; did you mean `license`? Rename the key to `license`",
        f"{PATH}:6: license: must be a Hub license id such as apache-2.0, mit, llama2 or other, "
        "not 'Apache 2.0'; did you mean `apache-2.0`? Write `license: apache-2.0`",
    ]  # and no "license: required field is missing" on top


def test_yaml_slips_do_not_hide_the_field_problems(workdir, capsys):
    text = VALID.replace("license: apache-2.0", "license:apache-2.0").replace("bfloat16", "bf16")
    place(workdir, PATH, "---\n" + text)
    code, out, _ = validate(capsys, PATH)
    assert code == 1
    assert failures(out) == [
        f"{PATH}:1: remove the `---` line: a submission is one plain mapping of `key: value` "
        "lines, without document markers",
        f"{PATH}:7: no space after the colon in 'license:apache-2.0'; write `license: apache-2.0` "
        "(YAML separates a key from its value with `: `)",
        f"{PATH}:4: precision: must be float16, bfloat16 or float32, not 'bf16'; did you mean "
        "`bfloat16`? Write `precision: bfloat16`",
    ]


def test_a_leading_document_marker_is_refused_as_the_guide_says(workdir, capsys):
    place(workdir, PATH, "---\n" + VALID)
    code, out, _ = validate(capsys, PATH)
    assert code == 1
    assert failures(out) == [
        f"{PATH}:1: remove the `---` line: a submission is one plain mapping of `key: value` "
        "lines, without document markers"
    ]


DESCRIPTION = "A general instruction-tuned model used as a reference point."
# (case id, file path, file text, the message (a substring of one FAIL line) that names the field
# and says what to write)
COMMON_MISTAKES = [
    ("missing-model", PATH, variant("model: Qwen/Qwen2.5-7B-Instruct\n", ""),
     "model: required field is missing; add `model: <org>/<name>`"),
    ("missing-description", PATH, variant(f"description: {DESCRIPTION}\n", ""),
     "description: required field is missing; add `description:` with what the model is"),
    ("misspelled-precision", PATH, variant("precision:", "precison:"),
     ":3: unknown field 'precison'; did you mean `precision`? Rename the key"),
    ("capitalised-key", PATH, variant("model_type:", "Model_Type:"),
     ":4: unknown field 'Model_Type'; did you mean `model_type`?"),
    ("dtype-key", PATH, variant("precision:", "torch_dtype:"),
     ":3: unknown field 'torch_dtype'; did you mean `precision`?"),
    ("dashed-key", PATH, variant("base_model:", "base-model:"),
     ":5: unknown field 'base-model'; did you mean `base_model`?"),
    ("unknown-key", PATH, VALID + "foo: bar\n",
     ":8: unknown field 'foo' (allowed: model, revision,"),
    ("trust-remote-code", PATH, VALID + "trust_remote_code: true\n",
     ":8: unknown field 'trust_remote_code': custom code never runs here: every model is loaded "
     "with trust_remote_code=False, so it must load with transformers' own classes; remove"),
    ("params", PATH, VALID + "params: 7B\n",
     ":8: unknown field 'params': the leaderboard counts the parameters from the model's "
     "safetensors headers"),
    ("all-digit-sha", PATH, variant(SHA, "1" * 40),
     ':2: revision: must be a 40-character commit SHA in quotes (YAML read a number); write '
     f'`revision: "{"1" * 40}"`'),
    ("uppercase-sha", PATH, variant(SHA, SHA.upper()),
     f":2: revision: write the commit SHA in lowercase: `revision: {SHA}`"),
    ("short-sha", PATH, variant(SHA, SHA[:7]),
     "not 'a09a354' (branch names, tags and short SHAs are not pinned): that is a short SHA of "
     "7 characters; copy the full commit id from the Hub"),
    ("sha-39", PATH, variant(SHA, SHA[:39]), "it has 39 characters, not 40"),
    ("tag", PATH, variant(SHA, "v1.0"), "not 'v1.0' (branch names, tags and short SHAs are not "
     "pinned): that is a tag"),
    ("branch", PATH, variant(SHA, "main"), "not 'main' (branch names, tags and short SHAs are "
     "not pinned): that is a branch"),
    ("sha-with-spaces", PATH, variant(f"revision: {SHA}", f'revision: " {SHA} "'),
     f":2: revision: remove the spaces around the SHA; write `revision: {SHA}`"),
    ("empty-revision", PATH, variant(f"revision: {SHA}", "revision:"),
     ":2: revision: is empty; write a 40-character commit SHA after the colon"),
    ("hub-url-model", PATH,
     variant("model: Qwen/Qwen2.5-7B-Instruct", "model: https://huggingface.co/Qwen/Qwen2.5-7B-Instruct"),
     ":1: model: write the bare Hub id `Qwen/Qwen2.5-7B-Instruct` instead of the model's URL"),
    ("hub-url-base", PATH,
     variant("base_model: Qwen/Qwen2.5-7B", "base_model: https://hf.co/Qwen/Qwen2.5-7B/tree/main"),
     ":5: base_model: write the bare Hub id `Qwen/Qwen2.5-7B` instead of the model's URL"),
    ("id-without-org", PATH, variant("base_model: Qwen/Qwen2.5-7B", "base_model: Qwen2.5-7B"),
     ":5: base_model: must be `org/name` with exactly one '/': write the full Hub id "
     "`<org>/Qwen2.5-7B`"),
    ("revision-after-at", PATH,
     variant("model: Qwen/Qwen2.5-7B-Instruct", "model: Qwen/Qwen2.5-7B-Instruct@main"),
     ":1: model: the revision goes in `revision`, not after `@`; write "
     "`model: Qwen/Qwen2.5-7B-Instruct`"),
    ("base-is-model", PATH, variant("Qwen/Qwen2.5-7B\n", "Qwen/Qwen2.5-7B-Instruct\n"),
     ":5: base_model: must differ from model"),
    ("precision-bf16", PATH, variant("bfloat16", "bf16"),
     ":3: precision: must be float16, bfloat16 or float32, not 'bf16'; did you mean `bfloat16`? "
     "Write `precision: bfloat16`"),
    ("precision-fp16", PATH, variant("bfloat16", "FP16"), "did you mean `float16`?"),
    ("precision-torch", PATH, variant("bfloat16", "torch.float32"), "did you mean `float32`?"),
    ("precision-quantised", PATH, variant("bfloat16", "int4"),
     "not 'int4': quantised weights are not evaluated; write the dtype of the unquantised"),
    ("precision-auto", PATH, variant("bfloat16", "auto"),
     "not 'auto'; write the dtype the weights are stored in, `torch_dtype` in config.json"),
    ("model-type-chat", PATH, variant("instruction-tuned", "chat"),
     ":4: model_type: must be one of pretrained, fine-tuned, instruction-tuned, rl-tuned, merged,"
     " not 'chat'; did you mean `instruction-tuned`?"),
    ("model-type-finetuned", PATH, variant("instruction-tuned", "finetuned"),
     "did you mean `fine-tuned`? Write `model_type: fine-tuned`"),
    ("license-with-spaces", PATH, variant("apache-2.0", "Apache 2.0"),
     ":6: license: must be a Hub license id such as apache-2.0, mit, llama2 or other, not "
     "'Apache 2.0'; did you mean `apache-2.0`? Write `license: apache-2.0`"),
    ("license-name", PATH, variant("apache-2.0", "Llama 3.1 Community License"),
     "did you mean `llama3.1`?"),
    ("license-number", PATH, variant("apache-2.0", "2"),
     ":6: license: must be a Hub license id such as apache-2.0, but YAML read a number"),
    ("short-description", PATH, variant(DESCRIPTION, "A model"),
     ":7: description: 7 characters; write at least 10: what the model is and what it was "
     "trained on"),
    ("description-list", PATH, variant(f"description: {DESCRIPTION}", "description: [a, b]"),
     ":7: description: must be text (10 to 2000 characters), but YAML read a list"),
    ("description-colon", PATH, variant("description: A general", "description: Qwen: a general"),
     ":7: the value of `description` contains `: `; put the whole value in quotes"),
    ("unindented-block", PATH,
     variant(f"description: {DESCRIPTION}", f"description: >-\n{DESCRIPTION}"),
     ":8: indent the text of the `description` block by two spaces on every line"),
    ("http-paper", PATH, VALID + "paper: http://arxiv.org/abs/2412.15115\n",
     ":8: paper: must be an https:// URL; write 'https://arxiv.org/abs/2412.15115'"),
    ("arxiv-id-paper", PATH, VALID + "paper: 2412.15115\n",
     ":8: paper: must be an https:// URL; write `paper: https://arxiv.org/abs/2412.15115`"),
    ("email-contact", PATH, VALID + "contact: someone@example.org\n",
     ":8: contact: must be an https:// URL or a mailto: address; write "
     "`contact: mailto:someone@example.org`"),
    ("yml-suffix", "submissions/Qwen/Qwen2.5-7B-Instruct.yml", VALID,
     ":1: model Qwen/Qwen2.5-7B-Instruct must be submitted as "
     "submissions/Qwen/Qwen2.5-7B-Instruct.yaml; rename the file: the suffix is .yaml"),
    ("wrong-case-folder", "submissions/qwen/Qwen2.5-7B-Instruct.yaml", VALID,
     "folder and file name must match `model` letter for letter"),
    ("tab-after-colon", PATH, variant("model: Qwen", "model:\tQwen"),
     ":1: tab after `model:`; write one space instead"),
    ("tab-indent", PATH,
     variant(f"description: {DESCRIPTION}", f"description: >-\n\t{DESCRIPTION}"),
     ":8: tab character in indentation; YAML indents with spaces"),
    ("trailing-tab", PATH, variant("license: apache-2.0", "license: apache-2.0\t"),
     ":6: trailing tab at the end of the line; delete it"),
    ("no-space-after-colon", PATH, variant("license: apache-2.0", "license:apache-2.0"),
     ":6: no space after the colon in 'license:apache-2.0'; write `license: apache-2.0`"),
    ("equals-sign", PATH, variant("license: apache-2.0", "license = apache-2.0"),
     ":6: 'license = apache-2.0' uses `=`; write `license: apache-2.0`"),
    ("indented-line", PATH, variant("license: apache-2.0", "  license: apache-2.0"),
     ":6: this line is indented but is not part of a block; top-level fields start at the "
     "beginning of the line"),
    ("unclosed-quote", PATH, variant("description: A", 'description: "A'),
     ":7: a quoted value is never closed; end it with the same quote it starts with"),
    ("list-not-mapping", PATH, "- " + VALID.replace("\n", "\n  ").rstrip() + "\n",
     ":1: the top level must be a mapping of `key: value` lines, not a list; remove the `- ` in "
     "front of the first field"),
    ("empty-file", PATH, "",
     ": file is empty; expected `key: value` lines: write the fields model, revision, precision, "
     "model_type, license, description (the template is in SUBMITTING.md)"),
    ("duplicate-key", PATH, VALID + "license: mit\n",
     ":8: duplicate key 'license' (first at line 6)"),
    ("no-break-space", PATH, variant("license: apache", "license:\u00a0apache"),
     ":6: a no-break or other Unicode space (U+00A0) after `license:`, where YAML needs a plain "
     "space; retype it as a space"),
    ("full-width-colon", PATH, variant("license: apache", "license： apache"),
     ":6: full-width colon after `license`; write an ASCII colon: `license: …`"),
    ("curly-quotes", PATH, variant("description: A general", "description: “A: general"),
     ":7: curly quotes are not YAML quotes; write `description: \"…\"` with straight quotes"),
    ("markdown-fence", PATH, "```yaml\n" + VALID + "```\n",
     ":1: remove this Markdown fence line: the file holds the YAML itself"),
    ("empty-paper", PATH, VALID + 'paper: ""\n',
     ":8: paper: is empty; write an https:// link to the paper, or remove the line"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "text", "message"),
    [case[1:] for case in COMMON_MISTAKES],
    ids=[case[0] for case in COMMON_MISTAKES],
)
def test_common_mistakes_get_a_message_that_says_what_to_write(
    workdir, capsys, path, text, message
):
    place(workdir, path, text.encode())
    code, out, err = validate(capsys, path)
    assert code == 1
    assert any(message in line for line in failures(out)), out
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    "text",
    [
        "\ufeff" + VALID,  # a byte-order mark
        VALID.replace("\n", "\r\n"),  # Windows line endings
        VALID.replace("\n", "   \n"),  # trailing spaces
        variant(f"revision: {SHA}", f'revision: "{SHA}"'),
        variant(f"revision: {SHA}", f"revision: '{SHA}'"),
        variant("instruction-tuned", "pretrained").replace("base_model: Qwen/Qwen2.5-7B\n", ""),
    ],
    ids=["bom", "crlf", "trailing-spaces", "double-quoted-sha", "single-quoted-sha", "pretrained"],
)
def test_harmless_variations_are_accepted(workdir, capsys, text):
    place(workdir, PATH, text.encode())
    code, out, _ = validate(capsys, PATH)
    assert code == 0, out


def test_messages_never_echo_long_or_hostile_input(workdir, capsys):
    hostile = "https://huggingface.co/" + "A" * 5000 + "/<script>"
    place(workdir, PATH, variant("model: Qwen/Qwen2.5-7B-Instruct", f"model: '{hostile}'"))
    code, out, _ = validate(capsys, PATH)
    assert code == 1
    (line,) = [f for f in failures(out) if "model:" in f]
    assert len(line) < 200 and "<script>" not in line
