"""rllab's ``LinearFeatureBaseline`` as the value baseline of SB3's on-policy algorithms.

The VIME paper's HalfCheetah (and SwimmerGather) runs did not learn a critic: rllab fitted the discounted
returns by least squares on features of the observation and of the step's index in its episode,

    phi(s, t) = [clip(s, -10, 10), clip(s, -10, 10)^2, t/100, (t/100)^2, (t/100)^3, 1],
    w = (Phi^T Phi + 1e-5 I)^-1 Phi^T R,    b(s, t) = phi(s, t) . w    (0 before the first fit),

and, per batch (``batch_polopt_expl.py``, ``process_samples``):

1. b for every step of the batch from the previous batch's fit;
2. advantages by GAE from the batch's rewards (with VIME: the rewards plus the bonus) against b, a value of 0
   after the last step of a path;
3. w refitted on the discounted returns of the rewards the environment paid (``rewards_orig``).

:class:`LinearBaselineCallback` does this at the end of each SB3 rollout, after any curiosity callback
(list it after :class:`agents.CuriosityCallback`), by overwriting the rollout buffer's values, advantages and
returns; the algorithm's own critic is then unused, so give TRPO ``n_critic_updates=0`` to skip its fitting.
Step 3 holds with the curiosity glue's rollout mode (the original's, which adds the bonus at the rollout's
end); in step mode the rewards this callback sees already include the bonus, so w is fitted on them, as
SB3's own critic would be.
Deviation: SB3 rollouts are not whole paths, so an episode cut by the rollout's end is continued with b of
the state after it (in the VIME suite rollouts are exactly one 500-step episode per environment, so no
episode is cut).
"""

from __future__ import annotations

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback

from agents.callback import rollout_end_state

#: rllab's ridge coefficient
REG_COEFF = 1e-5


class LinearFeatureBaseline:
    """Least-squares value baseline on observation and time features (rllab's ``LinearFeatureBaseline``).

    Args:
        reg_coeff: ridge coefficient added to the diagonal of the normal equations.
    """

    def __init__(self, reg_coeff: float = REG_COEFF) -> None:
        if not np.isfinite(reg_coeff) or reg_coeff < 0:
            raise ValueError(f"reg_coeff must be a finite number >= 0, got {reg_coeff!r}")
        self.reg_coeff = float(reg_coeff)
        self.coeffs: np.ndarray | None = None

    @staticmethod
    def features(obs: np.ndarray, t: np.ndarray) -> np.ndarray:
        """phi(s, t) per row: ``obs`` ``(n, obs_dim)``, ``t`` the steps' indices in their episodes."""
        o = np.clip(np.asarray(obs, dtype=np.float64), -10, 10)
        al = np.asarray(t, dtype=np.float64).reshape(-1, 1) / 100.0
        return np.concatenate([o, o**2, al, al**2, al**3, np.ones_like(al)], axis=1)

    def predict(self, obs: np.ndarray, t: np.ndarray) -> np.ndarray:
        """b(s, t) per row (zeros before the first fit)."""
        if self.coeffs is None:
            return np.zeros(len(obs))
        return self.features(obs, t) @ self.coeffs

    def fit(self, obs: np.ndarray, t: np.ndarray, returns: np.ndarray) -> None:
        """Refit on observed discounted returns (the ridge solution of the normal equations).

        Raises:
            ValueError: ``obs``, ``t`` and ``returns`` of different lengths, or non-finite returns.
        """
        returns = np.asarray(returns, dtype=np.float64).reshape(-1)
        if not len(obs) == len(t) == len(returns):
            raise ValueError(f"obs, t and returns must have one row per step, got {len(obs)}, {len(t)} and "
                             f"{len(returns)}")
        if not np.all(np.isfinite(returns)):
            raise ValueError("returns must be finite; got NaN or inf (a reward of the environment?)")
        phi = self.features(obs, t)
        gram = phi.T @ phi + self.reg_coeff * np.identity(phi.shape[1])
        self.coeffs = np.linalg.lstsq(gram, phi.T @ returns, rcond=None)[0]

    def state_dict(self) -> dict[str, torch.Tensor | None]:
        return {"coeffs": None if self.coeffs is None else torch.as_tensor(self.coeffs)}

    def load_state_dict(self, state: dict) -> None:
        coeffs = state.get("coeffs")
        self.coeffs = None if coeffs is None else np.asarray(coeffs, dtype=np.float64)


def step_indices(episode_starts: np.ndarray, carry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each step's index in its episode, ``(n_steps, n_envs)``, and the indices of the steps after them.

    ``episode_starts[k, i]`` marks a step that begins an episode; ``carry`` is the index the first step of
    each env would have if it does not (the previous rollout's continuation).
    """
    t = np.empty(episode_starts.shape, dtype=np.int64)
    current = np.asarray(carry, dtype=np.int64)
    for k, starts in enumerate(episode_starts):
        current = np.where(starts > 0, 0, current)
        t[k] = current
        current = current + 1
    return t, current


def discounted_returns(
    rewards: np.ndarray, episode_starts: np.ndarray, last_values: np.ndarray, last_dones: np.ndarray,
    gamma: float,
) -> np.ndarray:
    """Discounted returns per step of a rollout ``(n_steps, n_envs)``: sums of the rewards to the end of
    each episode, continued with ``last_values`` where the rollout cut an episode (``last_dones`` false)."""
    returns = np.empty(rewards.shape, dtype=np.float64)
    following = np.where(last_dones, 0.0, last_values)
    for k in range(len(rewards) - 1, -1, -1):
        returns[k] = rewards[k] + gamma * following
        following = np.where(episode_starts[k] > 0, 0.0, returns[k])
    return returns


class LinearBaselineCallback(BaseCallback):
    """Replaces an on-policy algorithm's critic by rllab's linear-feature baseline (see the module).

    Logs ``baseline/explained_variance`` (of the returns by the baseline's predictions, before the refit).

    Args:
        reg_coeff: the baseline's ridge coefficient.

    Raises:
        TypeError: at training start, an algorithm without a ``RolloutBuffer`` or observations that are not
            a flat ``Box``.
    """

    def __init__(self, reg_coeff: float = REG_COEFF, verbose: int = 0) -> None:
        super().__init__(verbose)
        self.baseline = LinearFeatureBaseline(reg_coeff)
        self._carry: np.ndarray | None = None
        self._rewards: list[np.ndarray] = []

    def _init_callback(self) -> None:
        buffer = getattr(self.model, "rollout_buffer", None)
        if not isinstance(buffer, RolloutBuffer):
            raise TypeError(f"LinearBaselineCallback needs an on-policy algorithm with a RolloutBuffer; "
                            f"{type(self.model).__name__} has {type(buffer).__name__}")
        space = self.model.observation_space
        if not isinstance(space, spaces.Box) or len(space.shape) != 1:
            raise TypeError(f"the linear-feature baseline needs flat Box observations, got {space}")

    def _on_training_start(self) -> None:
        self._carry = np.zeros(self.training_env.num_envs, dtype=np.int64)  # learn() starts fresh episodes

    def _on_rollout_start(self) -> None:
        self._rewards = []

    def _on_step(self) -> bool:
        # the reward the env paid, before SB3 adds a bootstrapped value at truncations (rllab's rewards_orig;
        # with the curiosity glue's rollout mode the bonus is added later, at the rollout's end; in step mode
        # it is already in, see the module docstring)
        self._rewards.append(np.array(self.locals["rewards"], dtype=np.float64))
        return True

    def _on_rollout_end(self) -> None:
        buffer: RolloutBuffer = self.model.rollout_buffer
        n_steps, n_envs = buffer.rewards.shape
        t, t_next = step_indices(buffer.episode_starts, self._carry)
        self._carry = t_next
        obs = buffer.observations.reshape(n_steps * n_envs, -1)
        values = self.baseline.predict(obs, t.reshape(-1)).reshape(n_steps, n_envs)
        last_obs, last_dones = rollout_end_state(self.model)
        last_values = self.baseline.predict(last_obs.reshape(n_envs, -1), t_next)
        buffer.values[:] = values
        buffer.compute_returns_and_advantage(torch.as_tensor(last_values), last_dones)
        returns = discounted_returns(np.stack(self._rewards), buffer.episode_starts, last_values, last_dones,
                                     self.model.gamma)
        buffer.returns[:] = returns
        variance = np.var(returns)
        if variance > 0:
            self.logger.record("baseline/explained_variance", float(1 - np.var(returns - values) / variance))
        self.baseline.fit(obs, t.reshape(-1), returns.reshape(-1))
