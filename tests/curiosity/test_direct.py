"""The table of bonuses that read observations: the registry's, less the encoded bonus; no import circle."""

from __future__ import annotations

import ast
import pathlib

import curiosity
from curiosity.direct import DIRECT_BONUSES
from curiosity.registry import BONUSES


def test_direct_bonuses_are_the_registry_less_the_encoded_one() -> None:
    assert {k: v for k, v in BONUSES.items() if k != "vime-latent"} == DIRECT_BONUSES


def test_encoded_bonus_does_not_import_the_registry() -> None:
    tree = ast.parse((pathlib.Path(curiosity.__file__).parent / "encoded.py").read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "curiosity.registry" not in modules and "curiosity.direct" in modules
