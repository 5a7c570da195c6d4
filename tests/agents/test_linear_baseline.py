"""rllab's linear-feature baseline: its least squares, and the advantages of SB3 rollouts against a
path-by-path transcription of rllab's ``process_samples``."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from sb3_contrib import TRPO
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.env_util import make_vec_env

from agents.callback import CuriosityCallback
from agents.errors import UsageError
from agents.experiment import run_experiment
from agents.horizon import HorizonAsTermination
from agents.linear_baseline import (
    LinearBaselineCallback,
    LinearFeatureBaseline,
    discounted_returns,
    step_indices,
)
from agents.vec_env import CuriosityVecEnv


def test_features_and_an_exact_fit():
    phi = LinearFeatureBaseline.features(np.array([[20.0, -0.5]]), np.array([50]))
    np.testing.assert_allclose(phi, [[10, -0.5, 100, 0.25, 0.5, 0.25, 0.125, 1]])  # obs clipped at 10
    rng = np.random.default_rng(0)
    obs, t = rng.normal(size=(200, 3)), rng.integers(0, 500, 200)
    w = rng.normal(size=10)
    baseline = LinearFeatureBaseline(reg_coeff=0.0)
    assert np.all(baseline.predict(obs, t) == 0)  # before the first fit
    baseline.fit(obs, t, LinearFeatureBaseline.features(obs, t) @ w)
    np.testing.assert_allclose(baseline.coeffs, w, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="reg_coeff must be a finite number >= 0"):
        LinearFeatureBaseline(-1.0)
    with pytest.raises(ValueError, match="one row per step, got 200, 199 and 200"):
        baseline.fit(obs, t[:-1], np.zeros(200))
    with pytest.raises(ValueError, match="returns must be finite"):
        baseline.fit(obs, t, np.full(200, np.nan))


def test_step_indices_and_returns_across_rollouts_by_hand():
    starts = np.array([[0, 1], [1, 0], [0, 0]])  # env 0 continues, restarts at step 1; env 1 starts at 0
    t, after = step_indices(starts, carry=np.array([7, 3]))
    np.testing.assert_array_equal(t, [[7, 0], [0, 1], [1, 2]])
    np.testing.assert_array_equal(after, [2, 3])
    rewards = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 1.0]])
    returns = discounted_returns(rewards, starts, last_values=np.array([10.0, 10.0]),
                                 last_dones=np.array([False, True]), gamma=0.5)
    # env 0: step 0 ends its episode (step 1 starts one): 1; steps 1-2: 2 + .5 (3 + .5 * 10), 3 + .5 * 10
    # env 1: one episode over the three steps, done after the last: 0 + .5 (0 + .5 * 1), 0 + .5 * 1, 1
    np.testing.assert_allclose(returns, [[1.0, 0.25], [6.0, 0.5], [8.0, 1.0]])


class RolloutSpy(BaseCallback):
    """Keeps a copy of the rollout buffer after every other callback has rewritten it."""

    def __init__(self) -> None:
        super().__init__()
        self.rollouts: list[dict[str, np.ndarray]] = []

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        b = self.model.rollout_buffer
        self.rollouts.append({k: getattr(b, k).copy() for k in ("observations", "rewards", "advantages",
                                                                "returns", "episode_starts")})


def discount_cumsum(x: np.ndarray, discount: float) -> np.ndarray:
    out, running = np.zeros(len(x)), 0.0
    for k in range(len(x) - 1, -1, -1):
        running = x[k] + discount * running
        out[k] = running
    return out


def rllab_process_samples(rollouts, extrinsic, gamma, lam, reg=1e-5):
    """rllab's per-path advantages and baseline fits (paths = one env's rollout, from t = 0)."""
    w, advantages = None, []
    for rollout, ext in zip(rollouts, extrinsic, strict=True):
        n_steps, n_envs = rollout["rewards"].shape
        adv = np.zeros((n_steps, n_envs))
        feats, rets = [], []
        for i in range(n_envs):
            obs = np.clip(rollout["observations"][:, i], -10, 10)
            al = np.arange(n_steps)[:, None] / 100.0
            phi = np.hstack([obs, obs**2, al, al**2, al**3, np.ones((n_steps, 1))])
            b = np.append(np.zeros(n_steps) if w is None else phi @ w, 0)
            deltas = rollout["rewards"][:, i] + gamma * b[1:] - b[:-1]
            adv[:, i] = discount_cumsum(deltas, gamma * lam)
            feats.append(phi)
            rets.append(discount_cumsum(ext[:, i], gamma))
        phi, ret = np.vstack(feats), np.concatenate(rets)
        w = np.linalg.solve(phi.T @ phi + reg * np.identity(phi.shape[1]), phi.T @ ret)
        advantages.append(adv)
    return advantages


def pendulum_trpo(venv, callbacks, gamma=0.95, lam=0.9):
    model = TRPO("MlpPolicy", venv, n_steps=8, batch_size=8, gamma=gamma, gae_lambda=lam, n_critic_updates=0,
                 seed=0)
    model.learn(3 * 8 * venv.num_envs, callback=CallbackList(callbacks))
    return model


def test_advantages_match_rllabs_process_samples_without_a_bonus():
    # episodes of exactly one rollout (8 steps), the horizon ending the task: rllab's whole paths
    venv = HorizonAsTermination(make_vec_env("Pendulum-v1", n_envs=2, seed=0,
                                             env_kwargs={"max_episode_steps": 8}))
    spy = RolloutSpy()
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):  # TRPO logs the mean of no critic loss
        pendulum_trpo(venv, [LinearBaselineCallback(), spy])
    expected = rllab_process_samples(spy.rollouts, [r["rewards"] for r in spy.rollouts], 0.95, 0.9)
    for rollout, adv in zip(spy.rollouts, expected, strict=True):
        np.testing.assert_allclose(rollout["advantages"], adv, rtol=1e-4, atol=1e-4)
        ext_returns = np.stack([discount_cumsum(rollout["rewards"][:, i], 0.95) for i in range(2)], axis=1)
        np.testing.assert_allclose(rollout["returns"], ext_returns, rtol=1e-5)
    assert np.abs(expected[-1]).sum() > 0 and not np.allclose(expected[0], expected[2])


def test_with_a_bonus_advantages_use_it_and_the_fit_does_not(next_obs_bonus):
    venv = HorizonAsTermination(make_vec_env("Pendulum-v1", n_envs=2, seed=0,
                                             env_kwargs={"max_episode_steps": 8}))
    wrapper = CuriosityVecEnv(venv, next_obs_bonus(venv.observation_space, venv.action_space, eta=0.5),
                              mode="rollout")
    rewards = []

    class ExtrinsicSpy(BaseCallback):  # the env's rewards, before the bonus is added at the rollout's end
        def _on_rollout_start(self) -> None:
            rewards.append([])

        def _on_step(self) -> bool:
            rewards[-1].append(np.array(self.locals["rewards"]))
            return True

    spy = RolloutSpy()
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        pendulum_trpo(wrapper, [ExtrinsicSpy(), CuriosityCallback(value_targets="extrinsic"),
                                LinearBaselineCallback(), spy])
    extrinsic = [np.stack(r) for r in rewards]
    for rollout, ext in zip(spy.rollouts, extrinsic, strict=True):  # the bonus 0.5 * s'[0] is in the rewards
        assert not np.allclose(rollout["rewards"], ext)
    expected = rllab_process_samples(spy.rollouts, extrinsic, 0.95, 0.9)
    for rollout, adv in zip(spy.rollouts, expected, strict=True):
        np.testing.assert_allclose(rollout["advantages"], adv, rtol=1e-4, atol=1e-4)


def test_runs_checkpoint_the_fit_and_refuse_what_it_cannot_serve(tmp_path):
    kwargs = dict(algo_kwargs={"n_steps": 64, "batch_size": 64, "n_critic_updates": 0}, save=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the run hides TRPO's warning about its unused critic
        run_experiment("Pendulum-v1", "trpo", "none", 192, 0, tmp_path / "run",
                       value_baseline="linear_feature", checkpoint_dir=tmp_path / "ckpt", checkpoint_every=1,
                       **kwargs)
    from curiosity.serialization import safe_load

    state = safe_load(tmp_path / "ckpt" / "checkpoint.pt")
    assert state["baseline"]["coeffs"].shape == (3 + 3 + 4,)  # Pendulum's 3 observations
    with pytest.raises(ValueError, match="written by a run with a linear-feature baseline"):
        run_experiment("Pendulum-v1", "trpo", "none", 256, 0, tmp_path / "run2",
                       checkpoint_dir=tmp_path / "ckpt", **kwargs)
    with pytest.raises(UsageError, match="value_baseline must be one of critic, linear_feature"):
        run_experiment("Pendulum-v1", "trpo", "none", 64, 0, tmp_path / "x", value_baseline="mlp")
    with pytest.raises(UsageError, match="sac is off-policy"):
        run_experiment("Pendulum-v1", "sac", "none", 64, 0, tmp_path / "x", value_baseline="linear_feature")
    assert not (tmp_path / "x").exists()
    with pytest.raises(TypeError, match="needs flat Box observations"):
        TRPO("MlpPolicy", make_vec_env(lambda: gym.make("FrozenLake-v1"), n_envs=1), n_steps=8,
             batch_size=8).learn(8, callback=LinearBaselineCallback())
