#!/usr/bin/env bash
# The README's test command: set-up, linter, then the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export MUJOCO_GL="${MUJOCO_GL:-egl}"
ruff check .
python -m pytest -n 2 -q tests "$@"
