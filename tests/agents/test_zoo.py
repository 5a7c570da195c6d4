"""The rl_zoo3 hyperparameter files build a VIME-wrapped env and the curiosity callback."""

from pathlib import Path

import pytest
import yaml
from stable_baselines3.common.env_util import make_vec_env

import envs  # noqa: F401
from agents import CuriosityCallback, CuriosityVecEnv

rl_zoo3_utils = pytest.importorskip("rl_zoo3.utils", reason="rl_zoo3 is an optional extra ('zoo')")
HYPERPARAMS = Path(__file__).resolve().parents[2] / "agents" / "hyperparams" / "ppo.yml"


@pytest.mark.parametrize("env_id", ["SparseMountainCar-v0", "SparseMountainCar-v1", "SparseHalfCheetah-v0"])
def test_zoo_file_wraps_the_env_and_adds_the_callback(env_id):
    hyperparams = yaml.safe_load(HYPERPARAMS.read_text())[env_id]
    assert hyperparams["policy"] == "MlpPolicy" and hyperparams["n_timesteps"] > 0
    wrap = rl_zoo3_utils.get_wrapper_class(hyperparams, "vec_env_wrapper")
    env = wrap(make_vec_env(env_id, n_envs=1))
    assert isinstance(env, CuriosityVecEnv)
    assert env.mode == "rollout"
    assert env.bonus.eta == hyperparams["vec_env_wrapper"][0]["agents.CuriosityVecEnv"]["bonus_kwargs"]["eta"]
    callbacks = rl_zoo3_utils.get_callback_list(hyperparams)
    assert [type(c) for c in callbacks] == [CuriosityCallback]
