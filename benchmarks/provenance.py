"""Where a committed result came from: the command line that made it, as one would retype it."""

from __future__ import annotations

import os
import shlex
import sys


def command_line(module: str) -> str:
    """This process's command line as ``python -m module ...`` (with ``TORCH_THREADS`` when set).

    Args:
        module: the dotted module that was run, e.g. ``"benchmarks.generative.semisup_mnist"``.
    """
    threads = os.environ.get("TORCH_THREADS")
    prefix = f"env TORCH_THREADS={threads} " if threads else ""
    return prefix + f"python -m {module} " + shlex.join(sys.argv[1:])
