"""Bonuses by name that read observations themselves (every one but ``"vime-latent"``), and the check of
their keyword arguments.

:mod:`curiosity.encoded` builds its inner bonus from this table; :mod:`curiosity.registry` adds the
encoded bonus to it, so neither of the two imports the other.
"""

from __future__ import annotations

import inspect
from typing import Any

from gymnasium import spaces

from curiosity.base import IntrinsicBonus
from curiosity.disagreement import Disagreement
from curiosity.e3b import E3B
from curiosity.icm import ICM
from curiosity.ngu import NGU
from curiosity.re3 import RE3
from curiosity.ride import RIDE
from curiosity.rnd import RND
from curiosity.simhash import SimHash
from curiosity.vime import VIME

DIRECT_BONUSES: dict[str, type[IntrinsicBonus]] = {
    "vime": VIME,
    "rnd": RND,
    "icm": ICM,
    "disagreement": Disagreement,
    "simhash": SimHash,
    "e3b": E3B,  # episodic: takes dones (curiosity.episodic)
    "re3": RE3,
    "ride": RIDE,  # episodic
    "ngu": NGU,  # episodic
}


def make_from(
    table: dict[str, type[IntrinsicBonus]],
    name: str,
    observation_space: spaces.Space,
    action_space: spaces.Space,
    **kwargs: Any,
) -> IntrinsicBonus:
    """Build the bonus called ``name`` in ``table`` with keyword arguments ``kwargs``.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
        TypeError: a keyword argument the bonus does not take (the message lists those it takes).
    """
    if name not in table:
        raise ValueError(f"unknown bonus {name!r}; choose one of {', '.join(sorted(table))}")
    check_kwargs(name, table[name], kwargs)
    return table[name](observation_space, action_space, **kwargs)


def check_kwargs(name: str, cls: type[IntrinsicBonus], kwargs: dict[str, Any]) -> None:
    """Refuse keyword arguments that ``cls`` would not use, naming the ones it takes."""
    params = inspect.signature(cls).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return  # the rest goes to an inner bonus, which checks it
    taken = [n for n, p in params.items() if p.kind is not p.VAR_POSITIONAL and n not in _SPACES]
    unknown = sorted(set(kwargs) - set(taken))
    if unknown:
        raise TypeError(f"bonus {name!r} takes no keyword argument {', '.join(map(repr, unknown))}; "
                        f"it takes: {', '.join(taken)}")


_SPACES = ("observation_space", "action_space")
