"""evaluate.yml's re-validation retries a Hub outage (exit 3) with backoff, as validate.yml does,
keeps the last attempt's log for the failure comment, and then blames the Hub, not the file."""

from __future__ import annotations

import subprocess

import pytest
import workflow_rules as rules


def revalidation_script() -> str:
    workflow = rules.load(rules.WORKFLOWS / "evaluate.yml")
    [step] = [
        s
        for job, s in rules.steps(workflow)
        if job == "prepare" and s.get("name", "").startswith("Re-validate")
    ]
    return step["run"]


@pytest.mark.parametrize(
    ("codes", "status", "attempts"),
    [([0], 0, 1), ([1], 1, 1), ([3, 0], 0, 2), ([3, 1], 1, 2), ([3, 3, 3], 3, 3)],
    ids=["valid", "invalid", "hub-back", "hub-back-invalid", "hub-down"],
)
def test_the_revalidation_retries_exit_3_and_then_blames_the_hub(tmp_path, codes, status, attempts):
    venv_bin = tmp_path / "runner-temp" / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (tmp_path / "request").mkdir()
    (tmp_path / "codes").write_text("\n".join(map(str, codes)) + "\n")
    stub = venv_bin / "medlb"
    stub.write_text(
        '#!/bin/sh\necho "attempt: $*" >> "$STUB_DIR/calls"\n'
        'code=$(head -n 1 "$STUB_DIR/codes")\nsed -i 1d "$STUB_DIR/codes"\n'
        'echo "log of an attempt that exited $code"\nexit "$code"\n'
    )
    fake_sleep = tmp_path / "bin" / "sleep"
    fake_sleep.parent.mkdir()
    fake_sleep.write_text('#!/bin/sh\necho "slept $1" >> "$STUB_DIR/calls"\n')
    for path in (stub, fake_sleep):
        path.chmod(0o755)
    env = {
        "PATH": f"{fake_sleep.parent}:/usr/bin:/bin",
        "STUB_DIR": str(tmp_path),
        "RUNNER_TEMP": str(tmp_path / "runner-temp"),
        "SUBMISSION": "submissions/acme/med-7b.yaml",
    }
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", revalidation_script()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == status, done.stdout + done.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls.count("attempt: validate submissions/acme/med-7b.yaml") == attempts
    assert [c for c in calls if c.startswith("slept")] == ["slept 30", "slept 120"][: attempts - 1]
    log = (tmp_path / "request" / "validation.log").read_text()
    assert log == f"log of an attempt that exited {codes[-1]}\n"  # the last attempt's
    blamed = "::error title=The Hugging Face Hub did not answer (not a verdict on the submission)"
    assert (blamed in done.stdout) is (status == 3)
