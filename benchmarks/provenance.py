"""Where a committed result came from: the command line that made it, as one would retype it."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence


def command_line(module: str, omit: Sequence[str] = (), argv: Sequence[str] | None = None) -> str:
    """This process's command line as ``python -m module ...`` (with ``TORCH_THREADS`` when set).

    Args:
        module: the dotted module that was run, e.g. ``"benchmarks.generative.semisup_mnist"``.
        omit: options to leave out with their values (up to the next ``-``-led argument), for those that
            only choose which part of the work this process does, not what the result is: an ensemble's
            summary is the same whichever process's ``--members 3 4`` happened to score it.
        argv: the arguments after the module (default: this process's ``sys.argv[1:]``).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    kept, skipping = [], False
    for arg in args:
        if arg.startswith("-") and not _is_number(arg):  # an option: its values follow until the next one
            skipping = arg.split("=", 1)[0] in omit
        if not skipping:
            kept.append(arg)
    threads = os.environ.get("TORCH_THREADS")
    prefix = f"env TORCH_THREADS={threads} " if threads else ""
    return prefix + f"python -m {module} " + shlex.join(kept)


def _is_number(arg: str) -> bool:
    """A negative number is an option's value, not an option (``--label-seed -1``)."""
    try:
        float(arg)
    except ValueError:
        return False
    return True
