"""The SB3 glue moves a scheduled eta with the algorithm's progress."""

import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.env_util import make_vec_env

import envs  # noqa: F401
from agents import CuriosityCallback, CuriosityVecEnv
from curiosity.schedules import linear


class EtaAtRolloutEnd(BaseCallback):
    def __init__(self):
        super().__init__()
        self.etas = []

    def _on_step(self):
        return True

    def _on_rollout_end(self):
        self.etas.append(self.model.env.bonus.eta)


@pytest.mark.parametrize("mode", ["step", "rollout"])
def test_the_callback_moves_eta_with_sb3s_progress(mode):
    bonus_env = CuriosityVecEnv(make_vec_env("SparseMountainCar-v0", n_envs=1, seed=0), "rnd", mode=mode,
                                bonus_kwargs={"eta": linear(2.0), "seed": 0})
    model = PPO("MlpPolicy", bonus_env, n_steps=64, batch_size=64, n_epochs=1, seed=0)
    spy = EtaAtRolloutEnd()
    model.learn(256, callback=CallbackList([CuriosityCallback(), spy]))
    # SB3 updates the progress remaining after each of the four rollouts: 1, 0.75, 0.5, 0.25 while they run
    np.testing.assert_allclose(spy.etas, [2.0, 1.5, 1.0, 0.5])


def test_a_run_takes_an_eta_schedule_by_name_and_refuses_bad_ones(tmp_path):
    from agents.errors import UsageError
    from agents.experiment import run_experiment

    run_experiment("SparseMountainCar-v0", "ppo", "rnd", 256, out_dir=tmp_path / "run", eta=0.5,
                   eta_schedule="linear", algo_kwargs={"n_steps": 64, "batch_size": 64, "n_epochs": 1},
                   save=True)
    import json

    assert json.loads((tmp_path / "run" / "config.json").read_text())["eta_schedule"] == "linear"
    with pytest.raises(UsageError, match="eta_schedule must be one of"):
        run_experiment("SparseMountainCar-v0", "ppo", "rnd", 256, out_dir=tmp_path / "x", eta=0.5,
                       eta_schedule="cosine")
    with pytest.raises(UsageError, match="set eta too"):
        run_experiment("SparseMountainCar-v0", "ppo", "rnd", 256, out_dir=tmp_path / "y",
                       eta_schedule="linear")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
