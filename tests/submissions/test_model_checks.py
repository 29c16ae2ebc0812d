"""Model checks on real tiny checkpoints, intact and broken the ways real submissions break."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from runner.hub import HubModelRepo
from runner.safetensors_header import safetensors_parameter_count
from runner.submissions.checks import CHECKS, CHECKS_BY_ID, MODEL_CHECK_IDS
from runner.submissions.hub_checks import SMALL_FILES, hub_access_results
from runner.submissions.model_checks import ModelSource, local_model_source, run_model_checks

SHA = "a09a35458c702b33eeacc393d103063234e8bc28"
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def model_dir(validation_tiny_model: Path, tmp_path: Path) -> Path:
    """A private copy of the session's tiny model, free to break."""
    return Path(shutil.copytree(validation_tiny_model, tmp_path / "model"))


def results_of(directory: Path) -> dict[str, tuple[str, str]]:
    results = run_model_checks(local_model_source(directory))
    assert [r.check for r in results] == MODEL_CHECK_IDS  # every check reported, in table order
    return {r.check: (r.status, r.message) for r in results}


def edit_config(directory: Path, **changes) -> None:
    path = directory / "config.json"
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))


def expected_parameters(directory: Path) -> int:
    from safetensors.torch import load_file

    return sum(tensor.numel() for tensor in load_file(directory / "model.safetensors").values())


def test_intact_model_passes_every_check_with_evidence(model_dir):
    results = results_of(model_dir)
    assert all(status == "pass" for status, _ in results.values()), results
    n = expected_parameters(model_dir)
    assert results["safetensors"][1] == "1 safetensors file"
    assert results["config"][1] == "LlamaConfig (model_type llama) loads"
    assert results["tokenizer"][1].endswith("loads, 300 tokens")
    assert results["architecture"][1] == (
        f"LlamaForCausalLM instantiates on the meta device: {n:,} parameters"
    )
    assert results["parameters"][1] == (
        f"{n:,} parameters ({n / 1e6:.2f}M; F32 {n:,}) from 1 safetensors header"
    )


def test_pickle_only_weights_are_refused(model_dir):
    import torch
    from safetensors.torch import load_file

    torch.save(load_file(model_dir / "model.safetensors"), model_dir / "pytorch_model.bin")
    (model_dir / "model.safetensors").unlink()
    results = results_of(model_dir)
    assert results["safetensors"] == (
        "fail",
        "pickle-only weights (pytorch_model.bin); convert them with save_pretrained(dir, "
        "safe_serialization=True) and upload the *.safetensors files",
    )
    assert results["parameters"] == ("skip", "no safetensors files to read")


def test_pickles_next_to_safetensors_are_noted_not_refused(model_dir):
    (model_dir / "training_args.bin").write_bytes(b"\x80\x04N.")
    assert results_of(model_dir)["safetensors"] == (
        "pass",
        "1 safetensors file; pickle files are never loaded (training_args.bin)",
    )


def test_no_weights_at_all(model_dir):
    (model_dir / "model.safetensors").unlink()
    assert results_of(model_dir)["safetensors"] == (
        "fail",
        "no weight files (*.safetensors) in the repository",
    )


def test_auto_map_in_config_is_refused(model_dir):
    edit_config(model_dir, auto_map={"AutoModelForCausalLM": "modeling_evil.EvilForCausalLM"})
    assert results_of(model_dir)["no-remote-code"] == (
        "fail",
        "config.json has auto_map (custom code); the model must load with trust_remote_code=False",
    )


def test_auto_map_in_tokenizer_config_is_refused(model_dir):
    path = model_dir / "tokenizer_config.json"
    config = json.loads(path.read_text())
    config["auto_map"] = {"AutoTokenizer": ["tokenization_evil.EvilTokenizer", None]}
    path.write_text(json.dumps(config))
    assert results_of(model_dir)["no-remote-code"][1].startswith(
        "tokenizer_config.json has auto_map"
    )


def test_python_files_are_refused(model_dir):
    (model_dir / "modeling_evil.py").write_text("import os\n")
    assert results_of(model_dir)["no-remote-code"] == (
        "fail",
        "the repository contains Python files (modeling_evil.py); custom code is never run",
    )


def test_missing_tokenizer_files(model_dir):
    (model_dir / "tokenizer.json").unlink()
    assert results_of(model_dir)["tokenizer"] == (
        "fail",
        "no tokenizer files (tokenizer.json, tokenizer.model, vocab.json + merges.txt, "
        "vocab.txt or *.tiktoken)",
    )


def test_corrupt_tokenizer_file(model_dir):
    (model_dir / "tokenizer.json").write_text("{not json")
    status, message = results_of(model_dir)["tokenizer"]
    assert status == "fail" and message.startswith("AutoTokenizer failed: ")


def test_unknown_architecture_name(model_dir):
    edit_config(model_dir, architectures=["TinyMedForCausalLM"])
    assert results_of(model_dir)["architecture"] == (
        "fail",
        "architecture 'TinyMedForCausalLM' is not a transformers class",
    )


def test_unknown_model_type(model_dir):
    import transformers

    edit_config(model_dir, model_type="tinymed")
    results = results_of(model_dir)
    assert results["config"] == (
        "fail",
        f"model_type 'tinymed' is not built into transformers {transformers.__version__}",
    )
    assert results["architecture"] == ("skip", "config.json did not load")


def test_model_type_without_a_causal_lm_class(model_dir):
    (model_dir / "config.json").write_text(
        json.dumps({"model_type": "vit", "architectures": ["ViTModel"]})
    )
    assert results_of(model_dir)["architecture"] == (
        "fail",
        "model_type vit has no AutoModelForCausalLM class",
    )


def test_missing_config(model_dir):
    (model_dir / "config.json").unlink()
    results = results_of(model_dir)
    assert results["config"] == ("fail", "no config.json")
    assert results["architecture"] == ("skip", "config.json did not load")


def test_corrupt_safetensors_header(model_dir):
    (model_dir / "model.safetensors").write_bytes(b"\xff" * 8 + b"{}")
    status, message = results_of(model_dir)["parameters"]
    assert status == "fail"
    assert message.startswith("model.safetensors: safetensors header of ")


def test_parameter_count_reads_headers_of_every_shard(model_dir, tmp_path):
    from safetensors.torch import load_file, save_file

    tensors = load_file(model_dir / "model.safetensors")
    names = sorted(tensors)
    half = len(names) // 2
    save_file({k: tensors[k] for k in names[:half]}, tmp_path / "a.safetensors")
    save_file({k: tensors[k].half() for k in names[half:]}, tmp_path / "b.safetensors")
    counts = [safetensors_parameter_count(tmp_path / f"{s}.safetensors") for s in "ab"]
    total = expected_parameters(model_dir)
    assert counts[0]["F32"] + counts[1]["F16"] == total
    assert set(counts[0]) == {"F32"} and set(counts[1]) == {"F16"}


def test_hub_mode_needs_only_the_small_files_and_the_hubs_header_counts(model_dir):
    # What check_hub_model builds: the small files on disk, every file name from the Hub's
    # listing, parameter counts from the Hub's safetensors metadata, and no weights on disk.
    (model_dir / "model.safetensors").unlink()
    assert {p.name for p in model_dir.iterdir()} <= set(SMALL_FILES) | {"generation_config.json"}
    listing = ("config.json", "tokenizer.json", "tokenizer_config.json",
               "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")  # fmt: skip
    source = ModelSource(model_dir, listing, hub_parameter_count={"BF16": 7_241_732_096})
    results = {r.check: (r.status, r.message) for r in run_model_checks(source)}
    assert all(status == "pass" for status, _ in results.values()), results
    assert results["safetensors"][1] == "2 safetensors files"
    assert results["parameters"][1] == (
        "7,241,732,096 parameters (7.24B; BF16 7,241,732,096) from the Hub's safetensors metadata"
    )


def hub_repo(**changes) -> HubModelRepo:
    fields = dict(
        repo_id="org/model",
        commit=SHA,
        private=False,
        gated=None,
        disabled=False,
        files=("config.json",),
    )
    fields.update(changes)
    return HubModelRepo(**fields)


@pytest.mark.parametrize(
    ("repo", "access"),
    [
        (hub_repo(), ("pass", "org/model is public and not gated")),
        (hub_repo(private=True), ("fail", "org/model is private")),
        (
            hub_repo(gated="manual"),
            ("fail", "org/model is gated (manual approval); turn gated access off"),
        ),
        (hub_repo(disabled=True), ("fail", "org/model is disabled on the Hub")),
    ],
)
def test_hub_access_verdicts(repo, access):
    results = hub_access_results(repo, SHA)
    assert (results[0].check, results[0].status, results[0].message) == ("hub-access", *access)
    assert (results[1].status, results[1].message) == ("pass", f"commit {SHA} exists")


def test_a_revision_that_resolves_to_another_commit_is_a_branch_or_tag():
    other = "f" * 40
    result = hub_access_results(hub_repo(commit=other), SHA)[1]
    assert (result.status, result.message) == (
        "fail",
        f"{SHA} names a branch or tag (now at {other}), not a commit",
    )


def test_checks_table_is_complete_and_documented_for_submitters():
    ids = [check.id for check in CHECKS]
    assert len(ids) == len(set(ids)) == len(CHECKS_BY_ID)
    guide = (REPO_ROOT / "SUBMITTING.md").read_text(encoding="utf-8")
    for check in CHECKS:
        assert check.title and check.fix.endswith(".")
        row = f"| `{check.id}` | {check.title} |"
        assert row in guide and check.fix in guide, f"SUBMITTING.md is out of date for {check.id}"
