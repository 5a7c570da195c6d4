"""A replay buffer that relabels rewards with fresh bonuses at sample time (off-policy algorithms)."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.type_aliases import ReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

from curiosity import IntrinsicBonus


class CuriosityReplayBuffer(ReplayBuffer):
    """SB3 ``ReplayBuffer`` whose sampled rewards are ``extrinsic + eta * bonus`` with the bonus of now.

    The reward stored at collection time is the extrinsic one (use the wrapper's ``"relabel"`` mode);
    the bonus of a transition is computed when it is sampled, so it reflects what the model knows at
    training time rather than when the transition was collected. :class:`CuriosityCallback` attaches the
    wrapper's bonus. Use ``SAC(..., replay_buffer_class=CuriosityReplayBuffer)``.
    """

    bonus: IntrinsicBonus | None = None

    def attach(self, bonus: IntrinsicBonus) -> None:
        """Use ``bonus`` for relabelling."""
        self.bonus = bonus

    def _get_samples(self, batch_inds: np.ndarray, env: VecNormalize | None = None) -> ReplayBufferSamples:
        if self.bonus is None:
            return super()._get_samples(batch_inds, env)
        # SB3 draws the env index of each sample inside _get_samples; replay the same draw to find the
        # raw (unnormalised) rows it used, without copying its sampling code.
        state = np.random.get_state()  # noqa: NPY002 (SB3 samples with the legacy global RNG)
        samples = super()._get_samples(batch_inds, env)
        after = np.random.get_state()  # noqa: NPY002
        np.random.set_state(state)  # noqa: NPY002
        env_indices = np.random.randint(0, high=self.n_envs, size=(len(batch_inds),))  # noqa: NPY002
        np.random.set_state(after)  # noqa: NPY002

        obs = self.observations[batch_inds, env_indices]
        if self.optimize_memory_usage:
            next_obs = self.observations[(batch_inds + 1) % self.buffer_size, env_indices]
        else:
            next_obs = self.next_observations[batch_inds, env_indices]
        actions = self._env_actions(self.actions[batch_inds, env_indices])
        bonus = self.bonus(obs, actions, next_obs, update_stats=True)  # one median per sampled batch
        rewards = self.rewards[batch_inds, env_indices] + bonus
        return samples._replace(rewards=self.to_torch(self._normalize_reward(rewards.reshape(-1, 1), env)))

    def _env_actions(self, actions: np.ndarray) -> np.ndarray:
        """Stored actions as the env (and the bonus) saw them: SB3 stores Box actions scaled to [-1, 1]."""
        if isinstance(self.action_space, spaces.Box):
            low, high = self.action_space.low, self.action_space.high
            return (low + 0.5 * (actions + 1.0) * (high - low)).astype(np.float32)
        return actions.reshape(len(actions))
