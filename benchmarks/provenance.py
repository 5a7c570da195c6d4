"""Where a committed result came from: the command line that made it, as one would retype it, and the code
and packages it ran on (so that a file that no longer reproduces can be told from a changed environment)."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: packages whose versions go into every result (a sweep's result.json, a generative benchmark's record)
VERSIONED_PACKAGES = ("vime-curiosity", "torch", "numpy", "gymnasium", "stable-baselines3", "sb3-contrib",
                      "ray")  # fmt: skip


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


def versions() -> dict[str, str | None]:
    """Python, platform and package versions of this process (``None`` for a package not installed)."""
    found: dict[str, str | None] = {"python": platform.python_version(), "platform": platform.platform()}
    for package in VERSIONED_PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    return found


def git_state(root: str | Path | None = None) -> dict[str, Any] | None:
    """``{"commit", "dirty"}`` of the git checkout at ``root`` (default: the toolkit's); ``None`` outside a
    checkout or without git. Dirty: tracked files other than results changed since the commit (the committed
    checkpoints of unfinished runs under ``benchmarks/results`` change while they train and say nothing
    about the code)."""
    root = Path(__file__).resolve().parents[1] if root is None else Path(root)
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        status = ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--", ".",
                  ":(exclude)benchmarks/results"]  # fmt: skip
        changed = subprocess.run(status, capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": changed.strip() != ""}


def environment() -> dict[str, Any]:
    """What a result ran on: ``{"git": git_state(), "versions": versions()}``."""
    return {"git": git_state(), "versions": versions()}
