#!/usr/bin/env bash
# Regenerate the hash-locked requirements of the privileged CI jobs (ARCHITECTURE.md, "Trust
# boundary") from pyproject.toml, with uv (`pip install uv`), for CPython 3.11 on x86-64 Linux,
# from PyPI only, wheels only:
#   eval.lock     the prepare and GPU jobs: medlb[eval] (PyPI's torch for Linux is the CUDA build)
#   publish.lock  the publish job: medlb and numpy (merging parts)
#   site.lock     the pages job: medlb[site]
#   gpu.lock      `./lock.sh gpu` only: the GPU job's medlb[eval] plus requirements/gpu.in (vLLM,
#                 nvidia-ml-py). Not generated yet: vLLM's CUDA wheels pin their own torch, so it
#                 is resolved without pins.txt on a machine that can reach PyPI, then reviewed.
# Each also pins setuptools, which builds medlb itself (installed with --no-build-isolation).
# torch is pinned to the version the tests run (pins.txt, the Makefile's TORCH_SPEC);
# tests/test_locks.py checks every pin against pyproject.toml. Review the diff before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
compile() {
  local out="$1"
  shift
  uv pip compile --quiet --no-config --generate-hashes --python-version 3.11 \
    --python-platform x86_64-manylinux_2_28 --index-url https://pypi.org/simple \
    --only-binary :all: --custom-compile-command "requirements/lock.sh" \
    -c requirements/pins.txt "$@" -o "requirements/$out"
}
if [[ "${1:-}" == gpu ]]; then
  uv pip compile --quiet --no-config --generate-hashes --python-version 3.11 \
    --python-platform x86_64-manylinux_2_28 --index-url https://pypi.org/simple \
    --only-binary :all: --custom-compile-command "requirements/lock.sh gpu" \
    pyproject.toml requirements/build.in requirements/gpu.in --extra eval -o requirements/gpu.lock
  exit 0
fi
compile eval.lock pyproject.toml requirements/build.in --extra eval
compile publish.lock pyproject.toml requirements/build.in requirements/publish.in
compile site.lock pyproject.toml requirements/build.in --extra site
