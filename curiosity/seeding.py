"""Seeds: one drawn when none is given, and a context that seeds torch without disturbing the caller's
random stream, so that every bonus seeds the same way."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from curiosity.validation import check_int


def resolve_seed(seed: int | None) -> int:
    """``seed`` itself, or a seed drawn from torch's global generator when ``None``."""
    if seed is None:
        return int(torch.randint(0, 2**31 - 1, ()).item())
    return check_int("seed", seed, minimum=0)


@contextlib.contextmanager
def seeded(seed: int, cuda: bool = False) -> Iterator[None]:
    """Context in which torch's global CPU generator is seeded with ``seed`` and restored afterwards.

    Used to initialise networks reproducibly (on the CPU) without disturbing the caller's random stream. The
    CUDA generators are left alone (``torch.manual_seed`` would reseed them for good); with ``cuda=True``
    they are seeded too and restored afterwards, for random draws made on a GPU inside the context.
    """
    devices = list(range(torch.cuda.device_count())) if cuda and torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.default_generator.manual_seed(seed)
        if devices:
            torch.cuda.manual_seed_all(seed)
        yield
