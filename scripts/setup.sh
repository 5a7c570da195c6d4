#!/usr/bin/env bash
# Creates .venv (once) and installs the toolkit with its test extras into it.
# torch is pinned first to the release that lies on these machines' disk (a fast CPU install);
# where that release is not available, pip installs the newest torch as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
. .venv/bin/activate
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  python -m pip install -q --upgrade pip
  python -c "import torch" 2>/dev/null || python -m pip install -q "torch==2.13.0" || python -m pip install -q torch
  python -m pip install -q -e ".[test]"
  touch "$stamp"
fi
