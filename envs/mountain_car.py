"""Sparse-reward continuous Mountain Car, the first task of the VIME paper.

References:
    Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
    Moore, "Efficient memory-based learning for robot control", PhD thesis, 1990 (the task).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs._render import Canvas, check_frame_size, check_render_mode

# Constants of gymnasium's MountainCarContinuous-v0, kept identical so that the physics match.
MIN_POSITION = -1.2
MAX_POSITION = 0.6
MAX_SPEED = 0.07
GOAL_POSITION = 0.45
GOAL_VELOCITY = 0.0
POWER = 0.0015
GRAVITY = 0.0025


def hill_height(position: np.ndarray | float) -> np.ndarray | float:
    """Height of the track at ``position`` (only used for drawing)."""
    return np.sin(3 * np.asarray(position)) * 0.45 + 0.55


class SparseMountainCarEnv(gym.Env[np.ndarray, np.ndarray]):
    """A car in a valley must rock back and forth to reach the flag on the right hill.

    Physics, start distribution and goal test are those of gymnasium's ``MountainCarContinuous-v0``:
    each step ``v += a * 0.0015 - 0.0025 cos(3 x)`` with ``a`` clipped to ``[-1, 1]``, ``v`` clipped to
    ``[-0.07, 0.07]``, ``x += v`` clipped to ``[-1.2, 0.6]`` (hitting the left wall stops the car), start
    ``x ~ U(-0.6, -0.4)``, ``v = 0``. The reward is sparse: 1 on the step the car reaches the goal
    (``x >= 0.45`` and ``v >= 0``), which ends the episode; 0 otherwise. The engine is too weak to drive
    straight up, so a random policy essentially never gets there within the 500-step horizon.

    Observation: ``float32 [position, velocity]`` within ``[-1.2, 0.6] x [-0.07, 0.07]``.
    Action: ``float32 [force]`` in ``[-1, 1]``.
    Info: ``position``, ``velocity`` (after the step, for visitation plots) and ``is_success``.

    Args:
        render_mode: ``None`` or ``"rgb_array"``.
        width: frame width in pixels for ``rgb_array``.
        height: frame height in pixels for ``rgb_array``.

    Raises:
        ValueError: an unsupported ``render_mode`` or a non-positive frame size.

    References:
        Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 30}
    #: (position, velocity) ranges of visitation histograms (agents.recorder)
    visitation_range: ClassVar[tuple[tuple[float, float], ...]] = ((MIN_POSITION, MAX_POSITION),
                                                                    (-MAX_SPEED, MAX_SPEED))

    def __init__(self, render_mode: str | None = None, width: int = 64, height: int = 64) -> None:
        check_render_mode(render_mode, self.metadata["render_modes"])
        check_frame_size(width, height)
        self.render_mode = render_mode
        self.width, self.height = width, height
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.observation_space = spaces.Box(
            np.array([MIN_POSITION, -MAX_SPEED], dtype=np.float32),
            np.array([MAX_POSITION, MAX_SPEED], dtype=np.float32),
            dtype=np.float32,
        )
        self.position, self.velocity = -0.5, 0.0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.position, self.velocity = float(self.np_random.uniform(-0.6, -0.4)), 0.0
        return self._obs(), self._info(success=False)

    def step(self, action: np.ndarray):
        force = min(max(float(np.asarray(action).reshape(-1)[0]), -1.0), 1.0)
        velocity = self.velocity + force * POWER - GRAVITY * math.cos(3 * self.position)
        velocity = min(max(velocity, -MAX_SPEED), MAX_SPEED)
        position = min(max(self.position + velocity, MIN_POSITION), MAX_POSITION)
        if position == MIN_POSITION and velocity < 0:  # inelastic left wall
            velocity = 0.0
        self.position, self.velocity = position, velocity
        success = position >= GOAL_POSITION and velocity >= GOAL_VELOCITY
        return self._obs(), float(success), success, False, self._info(success)

    def set_state(self, position: float, velocity: float = 0.0) -> np.ndarray:
        """Place the car; returns the new observation.

        Raises:
            ValueError: ``position`` outside ``[-1.2, 0.6]`` or ``velocity`` outside ``[-0.07, 0.07]``.
        """
        if not MIN_POSITION <= position <= MAX_POSITION:
            raise ValueError(f"position must lie in [{MIN_POSITION}, {MAX_POSITION}], got {position!r}")
        if not -MAX_SPEED <= velocity <= MAX_SPEED:
            raise ValueError(f"velocity must lie in [{-MAX_SPEED}, {MAX_SPEED}], got {velocity!r}")
        self.position, self.velocity = float(position), float(velocity)
        return self._obs()

    def _obs(self) -> np.ndarray:
        return np.array([self.position, self.velocity], dtype=np.float32)

    def _info(self, success: bool) -> dict[str, Any]:
        return {"position": self.position, "velocity": self.velocity, "is_success": bool(success)}

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        canvas = Canvas(self.width, self.height, (MIN_POSITION, MAX_POSITION), (-0.05, 1.15))
        canvas.paint(canvas.y <= hill_height(canvas.x), (140, 110, 80))
        flag_y = float(hill_height(GOAL_POSITION))
        canvas.segment((GOAL_POSITION, flag_y), (GOAL_POSITION, flag_y + 0.15), 0.02, (0, 0, 0))
        canvas.rectangle((GOAL_POSITION, flag_y + 0.1), (GOAL_POSITION + 0.08, flag_y + 0.15), (230, 200, 0))
        car_y = float(hill_height(self.position)) + 0.05
        canvas.circle((self.position, car_y), 0.05, (200, 30, 30))
        return canvas.image
