"""CPU runtime settings for training entry points."""

from __future__ import annotations

import os

import torch


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
