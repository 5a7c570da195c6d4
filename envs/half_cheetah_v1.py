"""Sparse HalfCheetah as the VIME paper ran it (openai/vime ``envs/half_cheetah_env_x.py`` on rllab).

References:
    Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
"""

from __future__ import annotations

from typing import Any, ClassVar

import mujoco
import numpy as np
from gymnasium import spaces, utils
from gymnasium.envs.mujoco.mujoco_env import MujocoEnv

from envs._mujoco import compile_model
from envs._render import check_frame_size, check_render_mode

#: gymnasium's copy of the cheetah model; the same bodies, joints, actuators and options as rllab's
#: ``vendor/mujoco_models/half_cheetah.xml`` (gymnasium adds only a tracking camera)
MODEL_FILE = "half_cheetah.xml"


class SparseHalfCheetahV1Env(MujocoEnv, utils.EzPickle):
    """HalfCheetahEnvX of the VIME paper: reward 1 on every step the cheetah's centre of mass is beyond x = 5.

    Faithful to openai/vime ``envs/half_cheetah_env_x.py`` and rllab's ``MujocoEnv``:

    - model: rllab's ``half_cheetah.xml`` (timestep 0.01 s, ``settotalmass`` 14), **frame_skip 1**: one step
      is 0.01 s and a 500-step episode 5 s (gymnasium's HalfCheetah-v5, and ``SparseHalfCheetah-v0``, step
      0.05 s: five times further in the same number of steps).
    - action: six motor controls in ``[-1, 1]``, the model's ``ctrlrange``, so rllab's ``NormalizedEnv``
      scaling is the identity; actions outside are clipped (as NormalizedEnv did).
    - observation (20 entries, ``float32``): ``qpos[1:]`` (8; the root's x is left out), ``qvel`` (9), and the
      torso's subtree centre of mass (3; the torso is the root body, so this is the whole cheetah's COM).
    - reset: ``qpos = init_qpos + N(0, 0.01^2)``, ``qvel = init_qvel + N(0, 0.1^2)`` per entry (rllab's
      ``reset_mujoco``; v5 draws ``qpos`` noise from U(-0.1, 0.1)).
    - reward: 1 when the COM's x is > 5, else 0 (the dense running reward the original computes is discarded;
      it is kept here as ``info["dense_reward"]`` = forward COM velocity - 0.05 * ||a||^2). Never done: the
      episode ends by the 500-step ``TimeLimit`` of the registration (rllab's ``max_path_length``).
    - the COM is read after stepping, from positions recomputed for the new state (rllab called
      ``model.forward()`` after ``model.step()``; MuJoCo's ``mj_step`` leaves ``subtree_com`` at the
      pre-step state, so this env runs ``mj_kinematics`` and ``mj_comPos`` once more).

    Deviations: MuJoCo 3 or later instead of 1.31 (the solver and contact model changed since, so
    trajectories are not bit-identical to the paper's); the original's ``info`` had none of ``com_x``,
    ``dense_reward`` or ``is_success`` (diagnostics only). The dense reward uses the COM velocity from
    successive COM positions, since MuJoCo 3 and later have no ``body_comvels``.

    Info: ``com_x`` (the reward's quantity), ``x_position`` (the root joint's x), ``dense_reward``,
    ``is_success`` (reward received).

    Args:
        goal_x: the COM x beyond which the reward is 1 (metres; 5 in the paper).
        render_mode: ``None`` or ``"rgb_array"``.
        width: frame width in pixels for ``rgb_array``.
        height: frame height in pixels for ``rgb_array``.

    Raises:
        ValueError: a non-finite ``goal_x``, an unsupported ``render_mode`` or a non-positive frame size.

    References:
        Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 100}

    def __init__(
        self,
        goal_x: float = 5.0,
        render_mode: str | None = None,
        width: int = 64,
        height: int = 64,
    ) -> None:
        if not np.isfinite(goal_x):
            raise ValueError(f"goal_x must be a finite number (metres), got {goal_x!r}")
        check_render_mode(render_mode, ["rgb_array"])
        check_frame_size(width, height)
        utils.EzPickle.__init__(self, goal_x, render_mode, width, height)
        observation_space = spaces.Box(-np.inf, np.inf, shape=(20,), dtype=np.float32)
        super().__init__(MODEL_FILE, 1, observation_space, render_mode=render_mode, width=width,
                         height=height, camera_name="track" if render_mode else None)
        self.goal_x = float(goal_x)
        self._torso = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, "torso")
        self._low, self._high = self.action_space.low.copy(), self.action_space.high.copy()

    def _initialize_simulation(self) -> tuple[mujoco.MjModel, mujoco.MjData]:
        return compile_model(self.fullpath, self.width, self.height)

    def _refresh_positions(self) -> None:
        mujoco.mj_kinematics(self.model, self.data)
        mujoco.mj_comPos(self.model, self.data)

    def _get_obs(self) -> np.ndarray:
        return np.concatenate([self.data.qpos[1:], self.data.qvel, self.data.subtree_com[self._torso]]
                              ).astype(np.float32)

    def reset_model(self) -> np.ndarray:
        qpos = self.init_qpos + self.np_random.normal(scale=0.01, size=self.model.nq)
        qvel = self.init_qvel + self.np_random.normal(scale=0.1, size=self.model.nv)
        self.set_state(qpos, qvel)  # runs mj_forward: subtree_com is the new state's
        return self._get_obs()

    def _get_reset_info(self) -> dict[str, Any]:
        return {"com_x": float(self.data.subtree_com[self._torso, 0]), "is_success": False}

    def step(self, action: np.ndarray):
        action = np.clip(np.asarray(action, dtype=np.float64), self._low, self._high)
        com_before = self.data.subtree_com[self._torso, 0]
        self.do_simulation(action, self.frame_skip)
        self._refresh_positions()
        com_x = float(self.data.subtree_com[self._torso, 0])
        success = com_x > self.goal_x
        info = {
            "com_x": com_x,
            "x_position": float(self.data.qpos[0]),
            "dense_reward": (com_x - com_before) / self.dt - 0.05 * float(action @ action),
            "is_success": success,
        }
        return self._get_obs(), float(success), False, False, info

    def render(self) -> np.ndarray | None:
        # MujocoEnv.render fails without a render mode; return nothing instead, like the classic tasks
        return super().render() if self.render_mode == "rgb_array" else None
