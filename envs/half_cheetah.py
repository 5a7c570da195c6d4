"""Sparse-reward HalfCheetah: gymnasium's MuJoCo HalfCheetah-v5, rewarded only beyond x = 5.

References:
    Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np
from gymnasium import spaces, utils
from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv

from envs._mujoco import compile_model
from envs._render import check_frame_size, check_render_mode


class SparseHalfCheetahEnv(HalfCheetahEnv):
    """HalfCheetah-v5 with a sparse reward: 1 on every step the torso's x position exceeds ``goal_x``.

    Everything else is gymnasium's ``HalfCheetah-v5`` (model, ``dt = 0.05`` s, start noise, actions in
    ``[-1, 1]^6``); the episode never terminates early. The torso's x position is kept as the first
    observation entry (``exclude_current_positions_from_observation=False``), so that an exploration bonus
    on the dynamics can see how far the cheetah went, as in rllab.

    Observation: ``float32``, 18 entries (``qpos`` then ``qvel``), unbounded like every MuJoCo task.
    Info: gymnasium's (``x_position``, ``x_velocity``, ``reward_forward``, ``reward_ctrl``) plus
    ``dense_reward`` (the reward HalfCheetah-v5 would have given) and ``is_success`` (reward received).
    Set the state for tests with the inherited ``env.unwrapped.set_state(qpos, qvel)`` (shapes ``(9,)``).

    Args:
        goal_x: the x position beyond which the reward is 1 (metres).
        render_mode: ``None`` or ``"rgb_array"``.
        width: frame width in pixels for ``rgb_array``.
        height: frame height in pixels for ``rgb_array``.
        **kwargs: other keyword arguments of ``HalfCheetahEnv`` (e.g. ``reset_noise_scale``).

    Raises:
        ValueError: a non-finite ``goal_x``, an unsupported ``render_mode``, a non-positive frame size, or
            ``exclude_current_positions_from_observation`` in ``kwargs``.

    References:
        Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
    """

    def __init__(
        self,
        goal_x: float = 5.0,
        render_mode: str | None = None,
        width: int = 64,
        height: int = 64,
        **kwargs: Any,
    ) -> None:
        if not np.isfinite(goal_x):
            raise ValueError(f"goal_x must be a finite number (metres), got {goal_x!r}")
        if "exclude_current_positions_from_observation" in kwargs:
            raise ValueError("exclude_current_positions_from_observation is fixed to False by this task")
        check_render_mode(render_mode, ["rgb_array"])
        check_frame_size(width, height)
        super().__init__(
            exclude_current_positions_from_observation=False,
            render_mode=render_mode,
            width=width,
            height=height,
            **kwargs,
        )
        utils.EzPickle.__init__(self, goal_x, render_mode, width, height, **kwargs)
        self.goal_x = float(goal_x)
        self.metadata = {**self.metadata, "render_modes": ["rgb_array"]}
        shape = self.observation_space.shape
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=shape, dtype=np.float32)

    def _initialize_simulation(self) -> tuple[mujoco.MjModel, mujoco.MjData]:
        return compile_model(self.fullpath, self.width, self.height)

    def _get_obs(self) -> np.ndarray:
        return super()._get_obs().astype(np.float32)

    def _get_reset_info(self) -> dict[str, Any]:
        return {**super()._get_reset_info(), "is_success": False}

    def render(self) -> np.ndarray | None:
        # MujocoEnv.render fails without a render mode; return nothing instead, like the classic tasks
        return super().render() if self.render_mode == "rgb_array" else None

    def step(self, action: np.ndarray):
        obs, dense_reward, _, truncated, info = super().step(action)
        success = bool(info["x_position"] > self.goal_x)
        info.update(dense_reward=float(dense_reward), is_success=success)
        return obs, float(success), False, truncated, info
