"""Named ``eta`` schedules, in SB3's convention: functions of the training progress remaining (1 -> 0).

A schedule is any callable; these are the ones a suite or the command line names (``eta_schedule``).
"""

from __future__ import annotations

from curiosity.base import Schedule


def constant(eta: float) -> Schedule:
    """``eta`` throughout."""
    return lambda progress_remaining: eta


def linear(eta: float) -> Schedule:
    """``eta`` at the start, decaying linearly to 0 at the end of training."""
    return lambda progress_remaining: eta * progress_remaining


#: name -> schedule factory
SCHEDULES = {"constant": constant, "linear": linear}


def make_schedule(name: str, eta: float) -> Schedule:
    """The schedule called ``name`` starting from ``eta``.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    if name not in SCHEDULES:
        raise ValueError(f"unknown eta schedule {name!r}; choose one of {', '.join(SCHEDULES)}")
    return SCHEDULES[name](eta)
