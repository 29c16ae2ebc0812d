"""One run of `medlb validate --offline --model-dir DIR` names every problem, the file's and the
model's, each with what to do instead, so that one push fixes everything: the model checks run
whenever their input exists, even when a field of the file failed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from submission_fixtures import SHA, VALID_PATH, place, variant

from runner.cli import main
from runner.submissions.model_checks import ADAPTER_FIX, GGUF_FIX, PICKLE_FIX


@pytest.fixture
def model_dir(validation_tiny_model: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(validation_tiny_model, tmp_path / "model"))


def validate(capsys, model: Path, *extra: str) -> tuple[int, dict[str, list[str]]]:
    code = main(["validate", "--offline", "--model-dir", str(model), *extra, VALID_PATH])
    out = capsys.readouterr().out
    found: dict[str, list[str]] = {}
    for line in out.splitlines():
        if line.startswith("  FAIL "):
            _, check, message = line.split(None, 2)
            found.setdefault(check, []).append(message)
    return code, found


def test_remote_code_requested_in_the_file_and_needed_by_the_model_are_both_named(
    workdir, capsys, model_dir
):
    place(workdir, VALID_PATH, variant("license:", "trust_remote_code: true\nlicense:"))
    config = json.loads((model_dir / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_med.MedForCausalLM"}
    (model_dir / "config.json").write_text(json.dumps(config))
    code, found = validate(capsys, model_dir)
    assert code == 1
    [field] = found["schema"]
    assert "trust_remote_code" in field and "trust_remote_code=False" in field
    assert "remove this line" in field
    [remote] = found["no-remote-code"]
    assert "auto_map" in remote and "trust_remote_code=False" in remote


def test_an_informal_model_type_and_the_missing_base_model_are_named_together(
    workdir, capsys, model_dir
):
    place(
        workdir,
        VALID_PATH,
        variant(
            "model_type: instruction-tuned\nbase_model: Qwen/Qwen2.5-7B\n", "model_type: chat\n"
        ),
    )
    code, found = validate(capsys, model_dir)
    assert code == 1
    assert len(found["schema"]) == 2
    kind, base = found["schema"]
    assert "did you mean `instruction-tuned`? Write `model_type: instruction-tuned`" in kind
    assert "base_model: required when model_type is instruction-tuned" in base
    assert "add `base_model: <org>/<name>`" in base
    assert "safetensors" not in found  # the model itself is fine, and was checked


def test_an_adapter_is_told_to_merge_into_its_base_not_to_save_a_config(
    workdir, capsys, model_dir, tmp_path
):
    place(workdir, VALID_PATH, variant(f"revision: {SHA}", "revision: main"))
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(
        json.dumps({"peft_type": "LORA", "base_model_name_or_path": "Qwen/Qwen2.5-7B", "r": 8})
    )
    (adapter / "adapter_model.safetensors").write_bytes(
        (model_dir / "model.safetensors").read_bytes()
    )
    for name in ("tokenizer.json", "tokenizer_config.json"):
        if (model_dir / name).exists():
            shutil.copy(model_dir / name, adapter / name)
    code, found = validate(capsys, adapter)
    assert code == 1
    assert "revision" in found["schema"][0]  # the file's problem, in the same run
    for check in ("safetensors", "config"):
        [message] = found[check]
        assert "PEFT/LoRA adapter of 'Qwen/Qwen2.5-7B'" in message
        assert "merge the adapter into its base and submit the merged model" in message
        assert "model_type" not in message


def test_a_gguf_only_repository_is_told_what_to_upload_instead(workdir, capsys, model_dir):
    place(workdir, VALID_PATH, variant("precision: bfloat16", "precision: int4"))
    gguf = model_dir.parent / "gguf"
    gguf.mkdir()
    (gguf / "med-7b.Q4_K_M.gguf").write_bytes(b"GGUF" + bytes(64))
    code, found = validate(capsys, gguf)
    assert code == 1
    assert "quantised weights are not evaluated" in found["schema"][0]
    [weights] = found["safetensors"]
    assert "only GGUF weights (med-7b.Q4_K_M.gguf)" in weights
    assert "upload the transformers checkpoint they were made from" in weights
    [config] = found["config"]
    assert "GGUF-only repository" in config


def test_a_pickle_only_repository_is_told_how_to_convert(workdir, capsys, model_dir):
    place(workdir, VALID_PATH, variant("license: apache-2.0", "license: Apache License 2.0"))
    (model_dir / "model.safetensors").rename(model_dir / "pytorch_model.bin")
    code, found = validate(capsys, model_dir)
    assert code == 1
    assert "did you mean `apache-2.0`?" in found["schema"][0]
    [weights] = found["safetensors"]
    assert "pickle-only weights (pytorch_model.bin)" in weights
    assert "save_pretrained(dir, safe_serialization=True)" in weights


def test_each_fix_is_in_the_json_report_too(workdir, capsys, model_dir):
    place(workdir, VALID_PATH, variant("precision: bfloat16", "precision: bf16"))
    gguf = model_dir.parent / "gguf"
    gguf.mkdir()
    (gguf / "m.gguf").write_bytes(b"GGUF")
    main(["validate", "--offline", "--model-dir", str(gguf), "--json", VALID_PATH])
    document = json.loads(capsys.readouterr().out)
    checks = document["files"][0]["checks"]
    fixes = {c["id"]: c["fix"] for c in checks if c["status"] == "fail"}
    assert fixes["safetensors"] == GGUF_FIX and fixes["config"] == GGUF_FIX
    assert "SUBMITTING.md" in fixes["schema"]
    assert all(c["fix"] is None for c in checks if c["status"] != "fail")
    assert ADAPTER_FIX != GGUF_FIX != PICKLE_FIX


def test_without_a_model_dir_the_hub_checks_wait_only_for_model_and_revision(workdir, capsys):
    """Offline, the Hub checks are skipped for --offline; with `revision` broken they are
    skipped for that reason, named, rather than for "the schema check failed"."""
    place(workdir, VALID_PATH, variant(f"revision: {SHA}", "revision: main"))
    main(["validate", VALID_PATH, "--json"])
    checks = json.loads(capsys.readouterr().out)["files"][0]["checks"]
    skipped = {c["id"]: c["message"] for c in checks if c["status"] == "skip"}
    assert skipped["hub-access"] == "`model` or `revision` is not valid"


def test_a_non_ascii_org_and_a_url_get_what_to_write(workdir, capsys):
    path = "submissions/Backerei/med-7b.yaml"
    text = variant("model: Qwen/Qwen2.5-7B-Instruct", "model: Bäckerei/med-7b")
    text = text.replace(
        "base_model: Qwen/Qwen2.5-7B", "base_model: https://huggingface.co/Qwen/Qwen2.5-7B"
    )
    place(workdir, path, text)
    assert main(["validate", "--offline", path]) == 1
    out = capsys.readouterr().out
    assert "copy the id from the model page's URL, huggingface.co/<org>/<name> (perhaps " in out
    assert "`Backerei/med-7b`)" in out
    # The URL is not quoted cut short (it would read as another model's id): the id is written out.
    assert "base_model: write the bare Hub id `Qwen/Qwen2.5-7B` instead of the model's URL" in out
