"""What every registered bonus inherits from the base class and the registry: empty batches, named kwargs."""

import inspect
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from gymnasium import spaces

from curiosity import BONUSES, make_bonus

OBS = spaces.Box(-1.0, 1.0, (3,), np.float32)
ACTIONS = {"box": spaces.Box(-1.0, 1.0, (2,), np.float32), "discrete": spaces.Discrete(4)}


def build(name, action_space):
    kwargs = {"encoder": torch.nn.Linear(3, 2)} if name == "vime-latent" else {}
    return make_bonus(name, OBS, action_space, seed=0, **kwargs)


@pytest.mark.parametrize("name", sorted(BONUSES))
@pytest.mark.parametrize("kind", sorted(ACTIONS))
def test_an_empty_batch_gives_an_empty_array_and_stores_nothing(name, kind):
    bonus = build(name, ACTIONS[kind])
    obs = np.zeros((0, 3), np.float32)
    actions = np.zeros((0, 2), np.float32) if kind == "box" else np.zeros(0, np.int64)
    for out in (bonus.compute(obs, actions, obs), bonus(obs, actions, obs)):
        assert isinstance(out, np.ndarray) and out.shape == (0,) and out.dtype == np.float32
    assert bonus.add(obs, actions, obs) is None
    with pytest.raises(ValueError, match=r"obs must have shape \(batch, 3\)"):  # still validated
        bonus.compute(np.zeros((0, 5), np.float32), actions, obs)


@pytest.mark.parametrize("name", sorted(set(BONUSES) - {"vime-latent"}))
def test_a_keyword_the_bonus_does_not_take_is_an_error_naming_those_it_takes(name):
    with pytest.raises(TypeError, match=rf"bonus '{name}' takes no keyword argument 'etta'; it takes: .*eta"):
        make_bonus(name, OBS, ACTIONS["box"], etta=0.1)


def test_simhash_beta_is_its_eta():
    with pytest.raises(TypeError, match="bonus 'simhash' takes no keyword argument 'beta'"):
        make_bonus("simhash", OBS, ACTIONS["box"], beta=0.01)
    x = np.zeros((2, 3), np.float32)
    bonus = make_bonus("simhash", OBS, ACTIONS["box"], eta=0.01)
    np.testing.assert_allclose(bonus(x, np.zeros((2, 2), np.float32), x), [0.01, 0.01])  # 0.01 / sqrt(1)


def test_the_readme_eta_table_gives_every_bonus_its_default():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme.split("| bonus | default `eta` |", 1)[1].split("\n\n", 1)[0]
    rows = dict(re.findall(r"^\| `([\w-]+)` \| ([\d.]+)", table, flags=re.MULTILINE))
    assert set(rows) == set(BONUSES)
    for name, cls in BONUSES.items():
        default = inspect.signature(cls).parameters["eta"].default
        if default is None:  # takes its inner bonus's: vime-latent is VIME's
            default = build(name, ACTIONS["box"]).eta
        assert float(rows[name]) == default, name
