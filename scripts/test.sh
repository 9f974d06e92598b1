#!/usr/bin/env bash
# Install (if needed) and run the whole test suite: lint, types, and pytest on SQLite and PostgreSQL,
# including the tests marked `model` that use the real bundled encoder.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ruff check assistant tests scripts
.venv/bin/mypy assistant
.venv/bin/python -m pytest -q "$@"
