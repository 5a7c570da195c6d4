"""Argument checks shared by every bonus: each raises a ``ValueError`` (or ``TypeError``) naming the
parameter, the value received and what is accepted."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from torch import nn


def check_int(name: str, value: Any, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` or raise a ``ValueError`` naming ``name`` and what is accepted."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_float(
    name: str,
    value: Any,
    low: float = 0.0,
    high: float = math.inf,
    *,
    low_inclusive: bool = False,
    high_inclusive: bool = True,
) -> float:
    """Return ``value`` as a finite-or-inf ``float`` in the given interval, else raise ``ValueError``."""
    left, right = ("[" if low_inclusive else "("), ("]" if high_inclusive and high != math.inf else ")")
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = not math.isnan(v) and (v >= low if low_inclusive else v > low)
        ok = ok and (v <= high if high_inclusive else v < high)
    if not ok:
        raise ValueError(f"{name} must be a number in {left}{low}, {high}{right}, got {value!r}")
    return float(value)


def check_sizes(name: str, value: Any) -> tuple[int, ...]:
    """Hidden layer widths: a (possibly empty) sequence of positive integers."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ValueError(f"{name} must be a sequence of positive integers, got {value!r}")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a sequence of positive integers, got {value!r}")
    return tuple(int(v) for v in value)


def check_encoder(encoder: Any) -> nn.Module | None:
    if encoder is not None and not isinstance(encoder, nn.Module):
        raise TypeError(f"encoder must be a torch.nn.Module or None, got {type(encoder).__name__}")
    return encoder


def check_state_keys(owner: str, state: dict[str, Any], keys: Sequence[str]) -> None:
    """Raise a ``ValueError`` listing the keys a state dict lacks."""
    if not isinstance(state, dict):
        raise TypeError(f"{owner} state must be a dict, got {type(state).__name__}")
    missing = [k for k in keys if k not in state]
    if missing:
        raise ValueError(f"{owner} state lacks {missing}; was it saved by a different bonus?")
