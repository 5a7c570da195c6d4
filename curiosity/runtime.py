"""Runtime settings: the device a model runs on, and CPU threads for training entry points."""

from __future__ import annotations

import os
import re

import torch

#: what ``device`` accepts, for error messages
DEVICE_CHOICES = "'auto' (CUDA when available, else CPU), 'cpu', 'cuda', 'cuda:N' or a torch.device"


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """The ``torch.device`` that ``device`` names, as Stable-Baselines3 resolves ``device="auto"``.

    Args:
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a
            ``torch.device`` of type ``cpu`` or ``cuda``.

    Returns:
        The device; ``"cuda"`` without an index resolves to the current CUDA device.

    Raises:
        TypeError: ``device`` is neither a string nor a ``torch.device``.
        ValueError: an unknown device name, or CUDA (or a CUDA index) that this machine does not have.
    """
    if isinstance(device, str):
        name = device.strip().lower()
        if name == "auto":
            name = "cuda" if torch.cuda.is_available() else "cpu"
        if not re.fullmatch(r"cpu|cuda(:\d+)?", name):
            raise ValueError(f"device must be {DEVICE_CHOICES}, got {device!r}")
        resolved = torch.device(name)
    elif isinstance(device, torch.device):
        resolved = device
        if resolved.type not in ("cpu", "cuda"):
            raise ValueError(f"device must be {DEVICE_CHOICES}, got {device!r}")
    else:
        raise TypeError(f"device must be {DEVICE_CHOICES}, got a {type(device).__name__}: {device!r}")
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device {device!r} asks for CUDA, which is not available here: use 'cpu' or 'auto'"
            )
        count = torch.cuda.device_count()
        index = torch.cuda.current_device() if resolved.index is None else resolved.index
        if index >= count:
            raise ValueError(f"device {device!r} asks for CUDA device {index}, but this machine has {count}")
        resolved = torch.device("cuda", index)
    return resolved


def configure_torch(threads: int | None = None) -> None:
    """Set up torch for fast CPU training.

    Flushes denormal floats to zero (small nets run 2-6x slower without it on many CPUs) and limits
    intra-op threads to ``threads`` (default: ``$TORCH_THREADS``, else the number of cores).
    """
    torch.set_flush_denormal(True)
    if threads is None:
        threads = int(os.environ.get("TORCH_THREADS", os.cpu_count() or 1))
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    torch.set_num_threads(threads)
