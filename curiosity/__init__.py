"""Exploration bonuses: VIME's information gain and the bonuses it is compared with.

``curiosity`` depends on torch, numpy and gymnasium's spaces only; it never imports
Stable-Baselines3 or :mod:`generative` (an image encoder is any torch module handed in).
"""

from curiosity.base import IntrinsicBonus
from curiosity.bnn import BNN
from curiosity.disagreement import Disagreement
from curiosity.e3b import E3B
from curiosity.encoded import EncodedBonus, LatentVIME
from curiosity.icm import ICM
from curiosity.ngu import NGU
from curiosity.re3 import RE3
from curiosity.registry import BONUSES, make_bonus
from curiosity.ride import RIDE
from curiosity.rnd import RND
from curiosity.simhash import SimHash
from curiosity.vime import VIME
from curiosity.wrappers import CuriosityVectorWrapper, CuriosityWrapper

__all__ = [
    "BNN", "BONUSES", "E3B", "ICM", "NGU", "RE3", "RIDE", "RND", "VIME", "CuriosityVectorWrapper",
    "CuriosityWrapper", "Disagreement", "EncodedBonus", "IntrinsicBonus", "LatentVIME", "SimHash",
    "make_bonus",
]  # fmt: skip
