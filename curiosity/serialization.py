"""Safe, atomic checkpoint files.

Everything the toolkit saves is a dict of tensors, numbers, strings and lists, written with
``torch.save`` to a temporary file that is then renamed over the target (atomic on POSIX), and read
back with ``torch.load(weights_only=True)``, which refuses to unpickle arbitrary objects: a crafted
file cannot run code.
"""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path
from typing import Any

import torch


def atomic_save(obj: Any, path: str | os.PathLike) -> Path:
    """Write ``obj`` with ``torch.save`` so that a crash mid-write leaves any previous file intact.

    Args:
        obj: a picklable-by-``weights_only`` structure (tensors, numbers, strings, lists, dicts).
        path: destination file; its parent directory is created if missing.

    Returns:
        The destination path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def to_cpu(obj: Any) -> Any:
    """``obj`` with every tensor inside dicts, lists and tuples on the CPU, so that a state saved on a GPU
    loads on any machine. Containers holding CPU tensors only are returned as they are (nothing copied)."""
    if isinstance(obj, torch.Tensor):
        return obj.cpu()
    if isinstance(obj, dict):
        items = {key: to_cpu(value) for key, value in obj.items()}
        if all(items[key] is value for key, value in obj.items()):
            return obj
        out = copy.copy(obj)  # keeps the type and attributes, e.g. a module state's ``_metadata``
        out.update(items)
        return out
    if isinstance(obj, (list, tuple)):
        values = [to_cpu(value) for value in obj]
        return obj if all(a is b for a, b in zip(values, obj, strict=True)) else type(obj)(values)
    return obj


def safe_load(path: str | os.PathLike) -> Any:
    """Load a file written by :func:`atomic_save` without executing any code from it.

    Raises:
        FileNotFoundError: the file does not exist.
        pickle.UnpicklingError: the file holds objects other than plain data (e.g. a crafted payload).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    return torch.load(path, map_location="cpu", weights_only=True)
