"""The hash-locked requirements the privileged CI jobs install (requirements/*.lock): every
package pinned to one version with its hashes, each pin inside what pyproject.toml allows, torch at
the version the tests run. Finding 7 of the trust-boundary review (version ranges, no hashes, a
second index in privileged jobs)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Which lock serves which job, and what pyproject.toml (or a .in file) asks of it.
LOCKS = {
    "eval.lock": ["eval"],  # prepare and GPU jobs
    "publish.lock": [],  # publish job, plus requirements/publish.in
    "site.lock": ["site"],  # pages job
}
_PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^ \\]+) \\$")


def pins(lock: str) -> dict[str, tuple[Version, list[str]]]:
    """name → (version, hashes) of every requirement in a lock file."""
    found: dict[str, tuple[Version, list[str]]] = {}
    name = None
    for line in (REQUIREMENTS / lock).read_text().splitlines():
        match = _PIN.match(line)
        if match:
            name = canonicalize_name(match[1])
            found[name] = (Version(match[2]), [])
        elif line.strip().startswith("--hash=sha256:"):
            assert name is not None, line
            found[name][1].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
        elif line.strip() and not line.lstrip().startswith("#"):
            raise AssertionError(f"{lock}: unexpected line {line!r}")
    return found


def required(lock: str) -> list[Requirement]:
    """What pyproject.toml asks of the environment a lock serves."""
    texts = list(PYPROJECT["project"]["dependencies"]) + PYPROJECT["build-system"]["requires"]
    for extra in LOCKS[lock]:
        texts += PYPROJECT["project"]["optional-dependencies"][extra]
    if lock == "publish.lock":
        texts += [
            t for t in (REQUIREMENTS / "publish.in").read_text().splitlines() if t[:1].isalpha()
        ]
    return [Requirement(text) for text in texts]


@pytest.mark.parametrize("lock", list(LOCKS))
def test_every_package_is_pinned_with_hashes(lock):
    locked = pins(lock)
    assert locked
    for name, (_, hashes) in locked.items():
        assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name
    text = (REQUIREMENTS / lock).read_text()
    assert "index-url" not in text and "--find-links" not in text  # the installer names PyPI
    assert "requirements/lock.sh" in text.splitlines()[1]  # how to regenerate it


@pytest.mark.parametrize("lock", list(LOCKS))
def test_the_lock_pins_exactly_what_pyproject_allows(lock):
    locked = pins(lock)
    for requirement in required(lock):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{lock}: {name} is not locked"
        version = locked[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock}: {name}=={version} is outside pyproject.toml's {requirement.specifier}"
        )


def test_torch_is_the_version_the_tests_run():
    makefile = (ROOT / "Makefile").read_text()
    tested = re.search(r"^TORCH_SPEC \?= torch==(\S+)$", makefile, re.M)[1]
    assert str(pins("eval.lock")["torch"][0]) == tested == "2.13.0"
    assert f"torch=={tested}" in (REQUIREMENTS / "pins.txt").read_text()
    for package in ("transformers", "tokenizers", "accelerate", "datasets", "safetensors"):
        assert package in pins("eval.lock")


def test_the_installer_checks_hashes_from_one_index_and_builds_nothing_but_medlb():
    script = (REQUIREMENTS / "install-locked.sh").read_text()
    for option in ("--require-hashes", "--no-deps", "--only-binary :all:", "--isolated"):
        assert option in script
    assert script.count("--index-url https://pypi.org/simple") == 1
    assert "--extra-index-url" not in script and "--no-build-isolation --no-index ." in script
