"""Bonuses by name, for command lines and benchmark suites."""

from __future__ import annotations

from typing import Any

from gymnasium import spaces

from curiosity.base import IntrinsicBonus
from curiosity.disagreement import Disagreement
from curiosity.e3b import E3B
from curiosity.encoded import LatentVIME
from curiosity.icm import ICM
from curiosity.ngu import NGU
from curiosity.re3 import RE3
from curiosity.ride import RIDE
from curiosity.rnd import RND
from curiosity.simhash import SimHash
from curiosity.vime import VIME

BONUSES: dict[str, type[IntrinsicBonus]] = {
    "vime": VIME,
    "rnd": RND,
    "icm": ICM,
    "disagreement": Disagreement,
    "simhash": SimHash,
    "vime-latent": LatentVIME,  # needs encoder=<module>; agents.pixels builds one from a name
    "e3b": E3B,  # episodic: takes dones (curiosity.episodic)
    "re3": RE3,
    "ride": RIDE,  # episodic
    "ngu": NGU,  # episodic
}


def make_bonus(
    name: str, observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any
) -> IntrinsicBonus:
    """Build the bonus called ``name`` (``vime``, ``rnd``, ``icm``, ``disagreement``, ``simhash``,
    ``vime-latent`` (VIME over the features of an ``encoder=`` module), ``e3b``, ``re3``, ``ride``, ``ngu``).

    Keyword arguments go to its constructor (e.g. ``eta=1e-3, seed=0``).

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    if name not in BONUSES:
        raise ValueError(f"unknown bonus {name!r}; choose one of {', '.join(sorted(BONUSES))}")
    return BONUSES[name](observation_space, action_space, **kwargs)
