"""Saving a bonus beside its SB3 model, atomically, in files that cannot run code when loaded."""

from __future__ import annotations

import os
from pathlib import Path

from curiosity import IntrinsicBonus
from curiosity.serialization import atomic_save, safe_load


def save_bonus(bonus: IntrinsicBonus, path: str | os.PathLike) -> Path:
    """Write the bonus's full state (weights, optimiser, statistics, RNG) to ``path`` atomically."""
    return atomic_save({"bonus_class": type(bonus).__name__, "state": bonus.state_dict()}, path)


def load_bonus(bonus: IntrinsicBonus, path: str | os.PathLike) -> IntrinsicBonus:
    """Restore a state written by :func:`save_bonus` into ``bonus`` (built with the same settings).

    Loading uses ``torch.load(weights_only=True)``: a crafted file cannot execute code.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file holds another kind of bonus.
    """
    payload = safe_load(path)
    if not isinstance(payload, dict) or "state" not in payload:
        raise ValueError(f"{path} is not a bonus state written by agents.save_bonus")
    if payload.get("bonus_class") != type(bonus).__name__:
        raise ValueError(f"{path} holds a {payload.get('bonus_class')} state, not a {type(bonus).__name__}")
    bonus.load_state_dict(payload["state"])
    return bonus
