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
