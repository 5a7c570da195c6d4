"""value_targets='extrinsic': the value function fits extrinsic returns, the advantages use the bonus too."""

import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.env_util import make_vec_env

import envs  # noqa: F401
from agents import CuriosityCallback, CuriosityVecEnv

GAMMA, LAM, N_STEPS, N_ENVS = 0.95, 0.9, 64, 2


class Snapshot(BaseCallback):
    def _on_step(self):
        return True

    def _on_rollout_end(self):
        buffer = self.model.rollout_buffer
        self.taken = {k: getattr(buffer, k).copy() for k in
                      ("rewards", "returns", "advantages", "values", "episode_starts")}


def run_one_rollout(value_targets):
    venv = CuriosityVecEnv(make_vec_env("SparseMountainCar-v0", n_envs=N_ENVS, seed=0), "vime",
                           mode="rollout", bonus_kwargs={"eta": 0.5, "seed": 0, "n_updates": 2})
    model = PPO("MlpPolicy", venv, n_steps=N_STEPS, batch_size=64, n_epochs=1, gamma=GAMMA, gae_lambda=LAM,
                seed=0)
    before, after = Snapshot(), Snapshot()
    model.learn(N_STEPS * N_ENVS, callback=CallbackList(
        [before, CuriosityCallback(value_targets=value_targets), after]))
    return before.taken, after.taken


def discounted_within_episodes(rewards, episode_starts):
    """Hand recursion: A_t = r_t + gamma * lambda * A_{t+1}, cut where the next step starts an episode."""
    out = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[1])
    for t in reversed(range(len(rewards))):
        if t + 1 < len(rewards):
            running = running * (1.0 - episode_starts[t + 1])
        else:
            running = np.zeros_like(running)
        running = rewards[t] + GAMMA * LAM * running
        out[t] = running
    return out


@pytest.mark.parametrize("value_targets", ["augmented", "extrinsic"])
def test_returns_and_advantages(value_targets):
    before, after = run_one_rollout(value_targets)
    intrinsic = after["rewards"] - before["rewards"]
    assert np.abs(intrinsic).max() > 0
    # GAE is linear in the rewards and the values cancel: the bonus adds its own lambda-discounted sum
    expected_shift = discounted_within_episodes(intrinsic, before["episode_starts"])
    np.testing.assert_allclose(after["advantages"] - before["advantages"], expected_shift, rtol=1e-4,
                               atol=1e-6)
    if value_targets == "extrinsic":
        np.testing.assert_array_equal(after["returns"], before["returns"])
    else:
        np.testing.assert_allclose(after["returns"], after["advantages"] + after["values"], rtol=1e-6)
        assert not np.allclose(after["returns"], before["returns"])


def test_extrinsic_value_targets_need_rollout_mode():
    venv = CuriosityVecEnv(make_vec_env("SparseMountainCar-v0", n_envs=1, seed=0), "vime", mode="step")
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=32, n_epochs=1)
    with pytest.raises(ValueError, match="needs the wrapper's 'rollout' mode"):
        model.learn(32, callback=CuriosityCallback(value_targets="extrinsic"))


def test_unknown_value_targets_are_refused():
    with pytest.raises(ValueError, match="value_targets must be"):
        CuriosityCallback(value_targets="intrinsic")
