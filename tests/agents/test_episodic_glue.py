"""Episodic bonuses through the SB3 glue: episode ends reach the bonus in step and rollout modes."""

from __future__ import annotations

import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv

from agents import CuriosityCallback, CuriosityReplayBuffer, CuriosityVecEnv
from agents.experiment import build
from agents.vec_env import INTRINSIC_KEY
from curiosity import E3B, RIDE

SMALL = {"feature_dim": 6, "hidden_sizes": (16,), "hidden_dim": 16, "normalize_bonus": False, "eta": 1.0}


def two_envs(counter_env) -> DummyVecEnv:
    """Counters of episode lengths 3 and 4: every episode of an env visits the same states."""
    return DummyVecEnv([lambda: counter_env(length=3), lambda: counter_env(length=4)])


def step_through(env: CuriosityVecEnv, n: int) -> tuple[np.ndarray, ...]:
    """Step ``n`` times; the time-major transitions (true next observations), dones and intrinsic rewards."""
    obs = env.reset()
    rows = []
    for t in range(n):
        actions = np.full((2, 1), 0.1 * t, dtype=np.float32)
        new_obs, _, dones, infos = env.step(actions)
        next_obs = np.stack(
            [info.get("terminal_observation", o) for info, o in zip(infos, new_obs, strict=True)]
        )
        rows.append((obs, actions, next_obs, dones, [info[INTRINSIC_KEY] for info in infos]))
        obs = new_obs
    return tuple(np.stack(parts) for parts in zip(*rows, strict=True))


def test_step_mode_passes_each_steps_dones_and_episodes_restart_from_an_empty_memory(counter_env) -> None:
    venv = two_envs(counter_env)
    env = CuriosityVecEnv(venv, E3B(venv.observation_space, venv.action_space, seed=0, **SMALL))
    env.callback_attached = True  # as CuriosityCallback does
    obs, actions, next_obs, dones, intrinsic = step_through(env, 12)
    # the same bonuses in rollout layout from a fresh copy (E3B's own tests check that layout by brute force)
    fresh = E3B(venv.observation_space, venv.action_space, seed=0, **SMALL)
    flat = [x.reshape(24, *x.shape[2:]) for x in (obs, actions, next_obs)]
    np.testing.assert_allclose(intrinsic, fresh.compute(*flat, dones=dones).reshape(12, 2), rtol=1e-5)
    # each episode of env 0 (length 3) revisits the same states from an empty memory: same bonuses
    np.testing.assert_allclose(intrinsic[0:3, 0], intrinsic[3:6, 0], rtol=1e-5)
    np.testing.assert_allclose(intrinsic[0:4, 1], intrinsic[4:8, 1], rtol=1e-5)
    assert env.bonus.memories is not None
    env.reset()
    assert env.bonus.memories is None  # a reset starts every env's episode anew


def test_rollout_mode_gives_the_bonus_the_rollouts_dones(counter_env) -> None:
    venv = two_envs(counter_env)
    bonus = RIDE(
        venv.observation_space, venv.action_space, feature_dim=6, encoder_hidden_sizes=(16,), hidden_dim=16,
        eta=1.0, seed=0,
    )  # fmt: skip
    env = CuriosityVecEnv(venv, bonus, mode="rollout")
    taken, captured = {}, {}
    take_rollout = env.take_rollout

    def spy():
        taken["rollout"] = take_rollout()
        return taken["rollout"]

    env.take_rollout = spy
    expected_bonus = RIDE(
        venv.observation_space, venv.action_space, feature_dim=6, encoder_hidden_sizes=(16,), hidden_dim=16,
        eta=1.0, seed=0,
    )  # fmt: skip

    class Capture(BaseCallback):
        def _on_step(self):
            return True

        def _on_rollout_end(self):
            captured["rewards"] = self.model.rollout_buffer.rewards.copy()

    model = PPO("MlpPolicy", env, n_steps=10, batch_size=10, n_epochs=1, seed=0)
    model.learn(10, callback=[CuriosityCallback(), Capture()])
    obs, actions, next_obs, dones = taken["rollout"]
    assert dones.shape == (10, 2) and dones[2, 0] and dones[3, 1]
    flat = [x.reshape(20, *x.shape[2:]) for x in (obs, actions, next_obs)]
    expected = expected_bonus.compute(*flat, dones=dones).reshape(10, 2)
    extrinsic = dones.astype(np.float32)  # the counter pays 1 at its episode ends
    np.testing.assert_allclose(captured["rewards"], extrinsic + expected, rtol=1e-5)
    # RIDE's counts restart each episode: state 1 is a first visit in every episode of env 0
    np.testing.assert_allclose(expected[0, 0], expected[3, 0], rtol=1e-5)


def test_relabel_mode_refuses_episodic_bonuses(counter_env) -> None:
    venv = two_envs(counter_env)
    with pytest.raises(ValueError, match=r"E3B is episodic.*cannot be relabelled; use mode='step'"):
        CuriosityVecEnv(venv, E3B(venv.observation_space, venv.action_space, seed=0), mode="relabel")


def test_without_learning_episodes_still_advance_in_step_mode_and_nothing_is_stored(counter_env) -> None:
    venv = two_envs(counter_env)
    env = CuriosityVecEnv(venv, E3B(venv.observation_space, venv.action_space, seed=0, **SMALL))
    env.callback_attached = True
    env.learning = False  # an evaluation env
    obs, actions, next_obs, dones, intrinsic = step_through(env, 12)
    fresh = E3B(venv.observation_space, venv.action_space, seed=0, **SMALL)
    flat = [x.reshape(24, *x.shape[2:]) for x in (obs, actions, next_obs)]
    np.testing.assert_allclose(intrinsic, fresh.compute(*flat, dones=dones).reshape(12, 2), rtol=1e-5)
    assert len(env.bonus.pool) == 0 and env.pending_raw == [] and env.bonus.n_updates == 0


@pytest.mark.parametrize(
    ("algo", "bonus", "mode"),
    [("sac", "e3b", "step"), ("sac", "ride", "step"), ("dqn", "ngu", "step"), ("sac", "re3", "relabel"),
     ("sac", "rnd", "relabel"), ("ppo", "e3b", "rollout")],
)  # fmt: skip
def test_auto_mode_steps_episodic_bonuses_off_policy(algo: str, bonus: str, mode: str) -> None:
    model, wrapper = build("SparseMountainCar-v0" if algo != "dqn" else "CartPole-v1", algo, bonus)
    assert wrapper.mode == mode
    relabelled = isinstance(getattr(model, "replay_buffer", None), CuriosityReplayBuffer)
    assert relabelled == (mode == "relabel")


def test_a_whole_float_env_count_builds_that_many_envs() -> None:
    model, _ = build("SparseMountainCar-v0", "ppo", "none", n_envs=2.0)  # e.g. read from a config file
    assert model.get_env().num_envs == 2
