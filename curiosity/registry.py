"""Bonuses by name, for command lines and benchmark suites."""

from __future__ import annotations

from typing import Any

from gymnasium import spaces

from curiosity.base import IntrinsicBonus
from curiosity.direct import DIRECT_BONUSES, check_kwargs, make_from
from curiosity.encoded import LatentVIME

__all__ = ["BONUSES", "check_kwargs", "make_bonus"]

_ENCODED: dict[str, type[IntrinsicBonus]] = {
    "vime-latent": LatentVIME,  # needs encoder=<module>; agents.pixels builds one from a name
}
_BEFORE_ENCODED = ("vime", "rnd", "icm", "disagreement", "simhash")  # the order of the command line's list

BONUSES: dict[str, type[IntrinsicBonus]] = {
    **{k: DIRECT_BONUSES[k] for k in _BEFORE_ENCODED},
    **_ENCODED,
    **{k: v for k, v in DIRECT_BONUSES.items() if k not in _BEFORE_ENCODED},
}


def make_bonus(
    name: str, observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any
) -> IntrinsicBonus:
    """Build the bonus called ``name`` (``vime``, ``rnd``, ``icm``, ``disagreement``, ``simhash``,
    ``vime-latent`` (VIME over the features of an ``encoder=`` module), ``e3b``, ``re3``, ``ride``, ``ngu``).

    Keyword arguments go to its constructor (e.g. ``eta=1e-3, seed=0``); ``eta`` means ``r + eta * bonus``
    for every bonus.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
        TypeError: a keyword argument the bonus does not take (the message lists those it takes).
    """
    return make_from(BONUSES, name, observation_space, action_space, **kwargs)
