#!/usr/bin/env bash
# The README's main job: set-up, then PPO with and without VIME on sparse MountainCar.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
curiosity demo "$@"
