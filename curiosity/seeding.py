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
def seeded(seed: int) -> Iterator[None]:
    """Context in which torch's global CPU generator is seeded with ``seed`` and restored afterwards.

    Used to initialise networks reproducibly without disturbing the caller's random stream.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
