"""Exploration bonuses: VIME's information gain and the bonuses it is compared with.

``curiosity`` depends on torch, numpy and gymnasium's spaces only; it never imports
Stable-Baselines3 or :mod:`generative` (an image encoder is any torch module handed in).
"""

from curiosity.base import IntrinsicBonus
from curiosity.bnn import BNN
from curiosity.disagreement import Disagreement
from curiosity.encoded import EncodedBonus, LatentVIME
from curiosity.icm import ICM
from curiosity.registry import BONUSES, make_bonus
from curiosity.rnd import RND
from curiosity.simhash import SimHash
from curiosity.vime import VIME
from curiosity.wrappers import CuriosityVectorWrapper, CuriosityWrapper

__all__ = [
    "BNN", "BONUSES", "ICM", "RND", "VIME", "CuriosityVectorWrapper", "CuriosityWrapper", "Disagreement",
    "EncodedBonus", "IntrinsicBonus", "LatentVIME", "SimHash", "make_bonus",
]  # fmt: skip
