"""The SB3 callback that trains the bonus on schedule, logs it, and (rollout mode) rewrites rollouts."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from agents.replay_buffer import CuriosityReplayBuffer
from agents.vec_env import EPISODE_KEY, CuriosityVecEnv


class CuriosityCallback(BaseCallback):
    """Trains the bonus of the model's :class:`CuriosityVecEnv` and logs through SB3's logger.

    Schedule: after each rollout for on-policy algorithms (PPO, A2C, TRPO); every ``train_freq``
    environment steps for off-policy ones (SAC, TD3, DQN). Before each training, the raw bonuses seen
    since the last one are folded into the bonus's normalisation statistics (VIME: one batch median per
    training iteration, as in the paper).

    In the wrapper's ``"rollout"`` mode (on-policy only) the bonuses of the whole rollout are computed at
    its end, added to ``rollout_buffer.rewards``, and returns and advantages recomputed with GAE; the
    transitions are then added to the bonus's pool and the bonus trained.

    Logged: ``rollout/ep_ext_rew_mean``, ``rollout/ep_int_rew_mean`` (episode returns, extrinsic and
    intrinsic, over the last 100 episodes), ``curiosity/bonus_mean``, ``curiosity/bonus_max``,
    ``curiosity/raw_bonus_median`` and the bonus's training metrics as ``curiosity/<name>``.

    Args:
        train_freq: environment steps between trainings for off-policy algorithms (default 5,000, the
            VIME batch size); ignored for on-policy algorithms.
        value_targets: rollout mode: what the value function is fitted to. ``"augmented"`` (default):
            returns of the extrinsic plus intrinsic reward, as SB3 does for any reward. ``"extrinsic"``:
            returns of the extrinsic reward alone, while the advantages still use the augmented reward
            (openai/vime ``batch_polopt_expl.py``: the baseline is fitted on ``rewards_orig``), so the
            bonus enters the policy gradient only through the TD errors.
        verbose: SB3 verbosity.

    Raises:
        ValueError: no :class:`CuriosityVecEnv` under the model's env, a mode the algorithm cannot use,
            or a non-positive ``train_freq``.
    """

    def __init__(self, train_freq: int = 5000, value_targets: str = "augmented", verbose: int = 0) -> None:
        super().__init__(verbose)
        if int(train_freq) != train_freq or train_freq < 1:
            raise ValueError(f"train_freq must be a positive integer, got {train_freq!r}")
        if value_targets not in ("augmented", "extrinsic"):
            raise ValueError(f"value_targets must be 'augmented' or 'extrinsic', got {value_targets!r}")
        self.train_freq = int(train_freq)
        self.value_targets = value_targets
        self.ext_returns: deque[float] = deque(maxlen=100)
        self.int_returns: deque[float] = deque(maxlen=100)
        self._last_train_step = 0
        self.wrapper: CuriosityVecEnv

    def _init_callback(self) -> None:
        self.wrapper = find_curiosity_wrapper(self.training_env)
        on_policy = isinstance(self.model, OnPolicyAlgorithm)
        if self.wrapper.mode == "rollout" and not on_policy:
            raise ValueError("the 'rollout' mode needs an on-policy algorithm (PPO, A2C, TRPO)")
        if self.value_targets == "extrinsic" and self.wrapper.mode != "rollout":
            raise ValueError("value_targets='extrinsic' needs the wrapper's 'rollout' mode (in the other "
                             "modes the bonus is in the rewards before returns are computed); got "
                             f"{self.wrapper.mode!r}")
        if self.wrapper.mode == "relabel":
            buffer = getattr(self.model, "replay_buffer", None)
            if not isinstance(buffer, CuriosityReplayBuffer):
                raise ValueError(
                    "the 'relabel' mode needs an off-policy algorithm built with "
                    "replay_buffer_class=agents.CuriosityReplayBuffer"
                )
            buffer.attach(self.wrapper.bonus)

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", []):
            episode = info.get(EPISODE_KEY)
            if episode is not None:
                self.ext_returns.append(episode["r_ext"])
                if np.isfinite(episode["r_int"]):  # NaN: not known at step time (rollout/relabel modes)
                    self.int_returns.append(episode["r_int"])
        due = self.num_timesteps - self._last_train_step >= self.train_freq
        if due and isinstance(self.model, OffPolicyAlgorithm):
            self._train()
        return True

    def _on_rollout_end(self) -> None:
        if isinstance(self.model, OnPolicyAlgorithm):
            if self.wrapper.mode == "rollout":
                self._rewrite_rollout()
            self._train()
        if self.ext_returns:
            self.logger.record("rollout/ep_ext_rew_mean", float(np.mean(self.ext_returns)))
        if self.int_returns:
            self.logger.record("rollout/ep_int_rew_mean", float(np.mean(self.int_returns)))

    def _train(self) -> None:
        """Fold the recent raw bonuses into the normaliser, then train the bonus and log."""
        bonus = self.wrapper.bonus
        raw = self.wrapper.take_pending_raw()
        if len(raw):
            bonus.normalize(raw, update=True)
            self.logger.record("curiosity/raw_bonus_median", float(np.median(raw)))
        for name, value in bonus.train().items():
            self.logger.record(f"curiosity/{name}", value)
        self._last_train_step = self.num_timesteps

    def _rewrite_rollout(self) -> None:
        """Original VIME semantics: bonuses for the whole rollout at once, then GAE recomputed."""
        bonus, buffer = self.wrapper.bonus, self.model.rollout_buffer
        obs, actions, next_obs = self.wrapper.take_rollout()  # (n_steps, n_envs, ...)
        n_steps, n_envs = obs.shape[:2]
        if (n_steps, n_envs) != buffer.rewards.shape:
            raise RuntimeError(
                f"the wrapper stored {n_steps}x{n_envs} transitions but the rollout buffer holds "
                f"{buffer.rewards.shape}: are other wrappers skipping steps?"
            )
        flat = [x.reshape(n_steps * n_envs, *x.shape[2:]) for x in (obs, actions, next_obs)]
        intrinsic = bonus(*flat, update_stats=True).reshape(n_steps, n_envs)
        extrinsic_returns = buffer.returns.copy()  # SB3 computed them from the extrinsic rewards
        buffer.rewards += intrinsic.astype(buffer.rewards.dtype)
        recompute_returns(buffer, self.locals)
        if self.value_targets == "extrinsic":
            buffer.returns[:] = extrinsic_returns
        bonus.add(*flat)
        self.logger.record("curiosity/bonus_mean", float(intrinsic.mean()))
        self.logger.record("curiosity/bonus_max", float(intrinsic.max()))


def recompute_returns(buffer: RolloutBuffer, rollout_locals: dict[str, Any]) -> None:
    """Recompute GAE returns and advantages after the rewards of a finished rollout changed.

    SB3 calls ``on_rollout_end`` after ``compute_returns_and_advantage``; the last values and dones it
    used are local variables of ``OnPolicyAlgorithm.collect_rollouts``, handed to callbacks in
    ``locals``. This is the one place that reads them (a test fails if SB3 renames them).
    """
    try:
        last_values, dones = rollout_locals["values"], rollout_locals["dones"]
    except KeyError as missing:
        raise RuntimeError(
            f"SB3's collect_rollouts no longer exposes {missing} to callbacks; agents.callback needs updating"
        ) from None
    if not isinstance(last_values, torch.Tensor):
        raise RuntimeError("expected the rollout's last values as a tensor in callback locals['values']")
    buffer.compute_returns_and_advantage(last_values=last_values, dones=dones)


def find_curiosity_wrapper(env: VecEnv | None) -> CuriosityVecEnv:
    """The :class:`CuriosityVecEnv` in a stack of VecEnv wrappers."""
    while env is not None:
        if isinstance(env, CuriosityVecEnv):
            return env
        env = env.venv if isinstance(env, VecEnvWrapper) else None
    raise ValueError("no CuriosityVecEnv found: wrap the training env, e.g. CuriosityVecEnv(venv, bonus)")
