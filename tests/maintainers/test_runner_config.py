"""The shipped runner configurations (deploy/) register GPU runners where and as evaluate.yml and
`medlb doctor` expect them: the organisation's runner group `gpu`, labels self-hosted, linux, gpu,
one fresh pod or container per job."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import workflow_rules as rules
import yaml

from runner.pipeline.doctor import RUNNER_GROUP, RUNNER_LABELS

ROOT = Path(__file__).resolve().parents[2]
VALUES = ROOT / "deploy" / "arc" / "gpu-runner-scale-set.values.yaml"
JIT = ROOT / "deploy" / "jit-runner.sh"


def test_the_labels_are_the_ones_evaluate_yml_asks_for():
    workflow = rules.load(rules.WORKFLOWS / "evaluate.yml")
    assert tuple(workflow["jobs"]["evaluate"]["runs-on"]) == RUNNER_LABELS


def test_the_scale_set_registers_in_the_organisations_gpu_group():
    values = yaml.safe_load(VALUES.read_text())
    # Runner groups exist only for organisations: an organisation URL, not a repository's.
    assert re.fullmatch(r"https://github\.com/[A-Za-z0-9-]+", values["githubConfigUrl"])
    assert values["runnerGroup"] == RUNNER_GROUP
    assert tuple(values["scaleSetLabels"]) == RUNNER_LABELS
    assert isinstance(values["githubConfigSecret"], str)  # a Kubernetes secret, not a value
    [container] = values["template"]["spec"]["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert values["template"]["spec"]["restartPolicy"] == "Never"


def test_the_jit_script_uses_the_organisation_endpoint_with_group_and_labels():
    script = JIT.read_text()
    assert subprocess.run(["bash", "-n", str(JIT)], check=False).returncode == 0
    assert "orgs/$ORG/actions/runners/generate-jitconfig" in script
    assert "repos/" not in script.split("set -euo pipefail", 1)[1]  # never the repository's
    assert '-F runner_group_id="$RUNNER_GROUP_ID"' in script
    for label in RUNNER_LABELS:
        assert f"-f 'labels[]={label}'" in script
    assert "docker run --rm" in script and "--jitconfig" in script
