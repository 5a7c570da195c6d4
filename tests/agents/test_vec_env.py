"""CuriosityVecEnv and CuriosityCallback against hand-computed expectations."""

import numpy as np
import pytest
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv

from agents import CuriosityCallback, CuriosityVecEnv
from agents.vec_env import EPISODE_KEY, EXTRINSIC_KEY, INTRINSIC_KEY


def make_venv(env_cls, n_envs=1, **kwargs):
    return DummyVecEnv([lambda: env_cls(**kwargs) for _ in range(n_envs)])


def test_bonus_sees_the_true_next_observation_at_episode_ends(counter_env, next_obs_bonus):
    venv = make_venv(counter_env, n_envs=2, length=3)
    bonus = next_obs_bonus(venv.observation_space, venv.action_space, eta=0.5)
    env = CuriosityVecEnv(venv, bonus)
    env.callback_attached = True  # as CuriosityCallback does (alone the wrapper warns)
    env.reset()
    rewards, infos = [], []
    for _ in range(4):
        _, r, _, info = env.step(np.zeros((2, 1), dtype=np.float32))
        rewards.append(r)
        infos.append(info)
    # steps 1, 2, 3 (terminal: obs returned is the reset one, 0, but s' is 3), then 1 again
    expected_next = [1.0, 2.0, 3.0, 1.0]
    first_env = bonus.added[::2]  # (s[0], s'[0]) of env 0
    assert [s_next for _, s_next in first_env] == expected_next
    assert [s for s, _ in first_env] == [0.0, 1.0, 2.0, 0.0]  # never pairs two episodes
    extrinsic = [0.0, 0.0, 1.0, 0.0]
    for r, info, ext, nxt in zip(rewards, infos, extrinsic, expected_next, strict=True):
        assert r[0] == pytest.approx(ext + 0.5 * nxt)
        assert info[0][EXTRINSIC_KEY] == ext
        assert info[0][INTRINSIC_KEY] == pytest.approx(0.5 * nxt)
    assert infos[2][0][EPISODE_KEY] == {"r_ext": 1.0, "r_int": pytest.approx(0.5 * 6.0), "l": 3}


def test_rollout_mode_rewrites_rewards_and_recomputes_gae(counter_env, next_obs_bonus):
    """After the rewrite, returns and advantages equal a hand-computed GAE on the new rewards."""
    venv = make_venv(counter_env, n_envs=2, length=4)
    bonus = next_obs_bonus(venv.observation_space, venv.action_space, eta=0.1)
    bonus.normalize = lambda raw, update=True: raw  # keep the bonus transparent
    env = CuriosityVecEnv(venv, bonus, mode="rollout")
    model = PPO("MlpPolicy", env, n_steps=10, batch_size=10, n_epochs=1, gamma=0.9, gae_lambda=0.8, seed=0)
    captured = {}

    class Capture(BaseCallback):
        def _on_step(self):
            return True

        def _on_rollout_end(self):
            buf = self.model.rollout_buffer
            captured.update(
                rewards=buf.rewards.copy(), values=buf.values.copy(), starts=buf.episode_starts.copy(),
                returns=buf.returns.copy(), adv=buf.advantages.copy(),
                last_values=self.locals["values"].numpy().ravel(), dones=self.locals["dones"].copy(),
            )  # fmt: skip
            self.model.stop = True

    model.learn(10, callback=[CuriosityCallback(), Capture()])
    r, v, starts = captured["rewards"], captured["values"], captured["starts"]
    # counter env: next obs coordinate 0 is 1, 2, 3, 4 within each episode of length 4
    expected_bonus = 0.1 * (np.arange(10) % 4 + 1)[:, None] * np.ones((1, 2))
    ext = (np.arange(10) % 4 == 3).astype(float)[:, None] * np.ones((1, 2))
    np.testing.assert_allclose(r, ext + expected_bonus, rtol=1e-6)
    # hand-computed GAE(gamma=0.9, lambda=0.8)
    adv = np.zeros_like(r)
    last = np.zeros(2)
    for t in reversed(range(10)):
        if t == 9:
            nonterminal, next_v = 1.0 - captured["dones"], captured["last_values"]
        else:
            nonterminal, next_v = 1.0 - starts[t + 1], v[t + 1]
        delta = r[t] + 0.9 * next_v * nonterminal - v[t]
        last = delta + 0.9 * 0.8 * nonterminal * last
        adv[t] = last
    np.testing.assert_allclose(captured["adv"], adv, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(captured["returns"], adv + v, rtol=1e-5, atol=1e-6)
    assert bonus.trainings == 1
    assert len(bonus.added) == 20  # the rollout's transitions reach the pool


def test_callback_trains_after_every_rollout(counter_env, next_obs_bonus):
    venv = make_venv(counter_env, length=5)
    bonus = next_obs_bonus(venv.observation_space, venv.action_space)
    model = PPO("MlpPolicy", CuriosityVecEnv(venv, bonus), n_steps=16, batch_size=16, n_epochs=1, seed=0)
    model.learn(48, callback=CuriosityCallback())
    assert bonus.trainings == 3


def test_unsupported_spaces_fail_at_construction(next_obs_bonus):
    import gymnasium as gym

    class DictEnv(gym.Env):
        observation_space = spaces.Dict({"x": spaces.Box(-1, 1, (2,))})
        action_space = spaces.Box(-1, 1, (1,))

    class MultiBinaryEnv(gym.Env):
        observation_space = spaces.Box(-1, 1, (2,))
        action_space = spaces.MultiBinary(2)

    with pytest.raises(TypeError, match="Box observations"):
        CuriosityVecEnv(DummyVecEnv([DictEnv]), "vime")
    with pytest.raises(TypeError, match="Box and Discrete actions"):
        CuriosityVecEnv(DummyVecEnv([MultiBinaryEnv]), "vime")


def test_bonus_built_for_other_spaces_is_rejected(counter_env, next_obs_bonus):
    bonus = next_obs_bonus(spaces.Box(-1, 1, (3,)), spaces.Box(-1, 1, (1,)))
    with pytest.raises(ValueError, match="observations of shape"):
        CuriosityVecEnv(make_venv(counter_env), bonus)


def test_unknown_names_and_modes_raise(counter_env):
    with pytest.raises(ValueError, match="unknown bonus 'curious'"):
        CuriosityVecEnv(make_venv(counter_env), "curious")
    with pytest.raises(ValueError, match="mode must be"):
        CuriosityVecEnv(make_venv(counter_env), "vime", mode="sometimes")


def test_non_finite_rewards_and_observations_are_named(counter_env, next_obs_bonus):
    class NanRewardEnv(counter_env):
        def step(self, action):
            obs, _, terminated, truncated, info = super().step(action)
            return obs, float("nan"), terminated, truncated, info

    class NanObsEnv(counter_env):
        def step(self, action):
            obs, reward, terminated, truncated, info = super().step(action)
            return obs * np.nan, reward, terminated, truncated, info

    for env_cls, match in ((NanRewardEnv, "non-finite reward"), (NanObsEnv, "NaN or infinite")):
        venv = make_venv(env_cls)
        env = CuriosityVecEnv(venv, next_obs_bonus(venv.observation_space, venv.action_space))
        env.reset()
        with pytest.raises(ValueError, match=match):
            env.step(np.zeros((1, 1), dtype=np.float32))


def test_rollout_mode_reports_the_intrinsic_return_as_unknown(counter_env, next_obs_bonus):
    """Bonuses come after the episode in rollout mode, so its intrinsic return is NaN, not a false 0."""
    venv = make_venv(counter_env, n_envs=1, length=2)
    env = CuriosityVecEnv(venv, next_obs_bonus(venv.observation_space, venv.action_space), mode="rollout")
    env.callback_attached = True
    env.reset()
    env.step(np.zeros((1, 1), dtype=np.float32))
    _, reward, done, info = env.step(np.zeros((1, 1), dtype=np.float32))
    assert done[0] and reward[0] == info[0][EXTRINSIC_KEY]  # rewards pass through unchanged
    assert np.isnan(info[0][EPISODE_KEY]["r_int"])


@pytest.mark.parametrize("name", ["vime", "rnd", "e3b"])
def test_a_users_device_reaches_the_bonus_through_bonus_kwargs(counter_env, monkeypatch, name):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    env = CuriosityVecEnv(make_venv(counter_env), name, bonus_kwargs={"device": "cpu"})
    assert env.bonus.device == torch.device("cpu")
    with pytest.raises(ValueError, match="device 'cuda' asks for CUDA, which is not available here"):
        CuriosityVecEnv(make_venv(counter_env), name, bonus_kwargs={"device": "cuda"})
