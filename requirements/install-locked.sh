#!/usr/bin/env bash
# Install medlb into a fresh virtual environment from a hash-locked requirements file, as every
# privileged CI job does (ARCHITECTURE.md, "Trust boundary"): each package at its pinned version
# with its sha256 checked (--require-hashes), nothing resolved (--no-deps), one index (PyPI),
# wheels only (no package's build code runs), pip's configuration ignored (--isolated); then medlb
# itself from this checkout with no dependencies and no download (setuptools is in the lock).
# Usage: requirements/install-locked.sh LOCK_FILE VENV_DIR
set -euo pipefail
lock="$1"
venv="$2"
rm -rf "$venv"
python -m venv "$venv"
pip=("$venv/bin/python" -m pip install --isolated --disable-pip-version-check --no-input)
"${pip[@]}" --require-hashes --no-deps --only-binary :all: \
  --index-url https://pypi.org/simple -r "$lock"
"${pip[@]}" --no-deps --no-build-isolation --no-index .
