#!/usr/bin/env bash
# Install (if needed) and run the whole test suite: lint, types, and pytest on SQLite and PostgreSQL,
# including the tests marked `model` that use the real bundled encoder.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# Browser tests drive Debian's Chromium through Playwright (never `playwright install`).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  else
    echo "chromium is not installed: the e2e tests will be skipped (apt-get install chromium)" >&2
  fi
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# one OpenMP thread per test process: timing assertions (publish → searchable < 2 s) must not depend on load
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
.venv/bin/ruff check assistant tests scripts
.venv/bin/mypy assistant
.venv/bin/lint-imports --config pyproject.toml
.venv/bin/python -m pytest -q "$@"
