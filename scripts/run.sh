#!/usr/bin/env bash
# Install (if needed) and start the service on the embedded default: SQLite in instance/, the bundled corpus,
# the bundled e5 encoder. It answers within a minute (BM25) and switches to hybrid retrieval once vectors are built.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/assistant serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
