"""HorizonAsTermination: SB3 no longer bootstraps the value where the time limit cuts an episode."""

import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env

import envs  # noqa: F401
from agents.horizon import HorizonAsTermination


class RolloutRewards(BaseCallback):
    def _on_step(self):
        return True

    def _on_rollout_end(self):
        self.rewards = self.model.rollout_buffer.rewards.copy()
        self.starts = self.model.rollout_buffer.episode_starts.copy()


@pytest.mark.parametrize("rllab_horizon", [False, True])
def test_rewards_at_the_time_limit(rllab_horizon):
    # an 8-step horizon on sparse MountainCar: no extrinsic reward is possible, 16 steps hold two cut episodes
    venv = make_vec_env("SparseMountainCar-v0", n_envs=1, seed=0, env_kwargs={"max_episode_steps": 8})
    if rllab_horizon:
        venv = HorizonAsTermination(venv)
    spy = RolloutRewards()
    PPO("MlpPolicy", venv, n_steps=16, batch_size=16, n_epochs=1, seed=0).learn(16, callback=spy)
    rewards = spy.rewards[:, 0]
    last_steps = [7, 15]
    assert np.all(rewards[[t for t in range(16) if t not in last_steps]] == 0)
    if rllab_horizon:
        assert np.all(rewards == 0)  # the horizon ends the task: nothing is added
    else:
        assert np.all(rewards[last_steps] != 0)  # SB3 adds gamma * V(s_T) of its random critic
    assert spy.starts[8, 0] == 1  # the episode boundary itself is unchanged
