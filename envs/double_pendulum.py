"""Sparse-reward double-pendulum swing-up with a motor at the base joint only (a "pendubot").

References:
    Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
    Spong, "The swing up control problem for the Acrobot", IEEE Control Systems 1995 (the equations).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs._integrate import rk4_step
from envs._render import Canvas, check_frame_size, check_render_mode

GRAVITY = 9.8
LINK_LENGTH = 1.0  # both links, as in rllab: the upright tip is at height 2
LINK_MASS = 0.5  # both links: rllab's Box2D links (1 m x 0.1 m, density 5)
COM = LINK_LENGTH / 2  # uniform rods
INERTIA = LINK_MASS * LINK_LENGTH**2 / 12  # about each rod's centre of mass
TARGET = (0.0, 2 * LINK_LENGTH)
MAX_SPEED_OBS = (8 * math.pi, 16 * math.pi)  # observation bounds of the two joint speeds, rad/s


def pendubot_derivatives(
    state: tuple[float, float, float, float], torque: float, damping: float
) -> tuple[float, float, float, float]:
    """Time derivative of ``(theta1, theta2, theta1_dot, theta2_dot)``.

    ``theta1`` is the first link's angle from hanging straight down, ``theta2`` the second link's angle
    relative to the first (gymnasium Acrobot's convention). Manipulator equations
    ``D(q) q'' + C(q, q') + G(q) = (torque - b q1', -b q2')`` for two uniform rods (Spong 1995), solved as a
    2x2 linear system; ``b`` is viscous damping at both joints.
    """
    theta1, theta2, dtheta1, dtheta2 = state
    cos2, sin2 = math.cos(theta2), math.sin(theta2)
    d11 = LINK_MASS * (COM**2 + LINK_LENGTH**2 + COM**2 + 2 * LINK_LENGTH * COM * cos2) + 2 * INERTIA
    d12 = LINK_MASS * (COM**2 + LINK_LENGTH * COM * cos2) + INERTIA
    d22 = LINK_MASS * COM**2 + INERTIA
    coriolis = LINK_MASS * LINK_LENGTH * COM * sin2
    gravity2 = LINK_MASS * COM * GRAVITY * math.sin(theta1 + theta2)
    gravity1 = LINK_MASS * (COM + LINK_LENGTH) * GRAVITY * math.sin(theta1) + gravity2
    rhs1 = torque - damping * dtheta1 + coriolis * (2 * dtheta1 * dtheta2 + dtheta2**2) - gravity1
    rhs2 = -damping * dtheta2 - coriolis * dtheta1**2 - gravity2
    det = d11 * d22 - d12 * d12
    return dtheta1, dtheta2, (d22 * rhs1 - d12 * rhs2) / det, (d11 * rhs2 - d12 * rhs1) / det


def tip_position(theta1: float, theta2: float) -> tuple[float, float]:
    """Position of the free end of the second link; the base joint is at the origin, y up."""
    return (
        LINK_LENGTH * (math.sin(theta1) + math.sin(theta1 + theta2)),
        -LINK_LENGTH * (math.cos(theta1) + math.cos(theta1 + theta2)),
    )


class SparseDoublePendulumEnv(gym.Env[np.ndarray, np.ndarray]):
    """Swing a two-link pendulum up from hanging down with a torque at the base joint only.

    Physics: two uniform rods 1 m long of 0.5 kg each (rllab's Box2D links), gravity 9.8, a passive second
    joint. One step lasts ``dt = 0.05`` s, integrated by RK4 in ``n_substeps = 10`` sub-steps of 5 ms: the
    frictionless, unforced system keeps its energy to within 1e-3 J over 500 steps even when whirling near
    the top (about 1e-8 J for gentle swings). The action in ``[-1, 1]``
    is scaled to a torque in ``[-max_torque, max_torque]``; the default 2 N m is well below the 7.4 N m
    needed to hold the first link horizontal, so the pendulum must be pumped up over several swings (a
    bang-bang ``sign(theta1_dot)`` pump reaches the target in 100-160 steps; a random policy never does).

    Start: hanging down (all angles and speeds ``U(-init_noise, init_noise)``).
    Reward: 1 when the tip is within ``success_radius`` = 1 m of the upright target ``(0, 2)``, else 0
    (straight links must be within about 29 degrees of vertical; with the first link upright, the second
    within 60 degrees). Never terminates.

    Observation: ``float32 [cos th1, sin th1, cos th2, sin th2, th1_dot, th2_dot]`` with speeds bounded by
    ``8 pi`` and ``16 pi`` rad/s (clipped in the observation only; a random policy stays far inside).
    Action: ``float32 [torque / max_torque]`` in ``[-1, 1]``.
    Info: ``tip`` (x, y), ``tip_distance`` to the target, ``is_success`` (reward received).

    Args:
        max_torque: torque in N m at action 1 (> 0).
        damping: viscous damping at both joints, N m s/rad (>= 0).
        init_noise: half-width of the uniform noise on the hanging start state (>= 0).
        render_mode: ``None`` or ``"rgb_array"``.
        width: frame width in pixels for ``rgb_array``.
        height: frame height in pixels for ``rgb_array``.

    Raises:
        ValueError: a non-positive ``max_torque``, a negative damping or noise, an unsupported
            ``render_mode``, a non-positive frame size.

    References:
        Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 20}
    dt = 0.05
    n_substeps = 10
    success_radius = 1.0

    def __init__(
        self,
        max_torque: float = 2.0,
        damping: float = 0.0,
        init_noise: float = 0.05,
        render_mode: str | None = None,
        width: int = 64,
        height: int = 64,
    ) -> None:
        if not max_torque > 0:
            raise ValueError(f"max_torque must be a positive number (N m), got {max_torque!r}")
        for name, value in (("damping", damping), ("init_noise", init_noise)):
            if not value >= 0:
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")
        check_render_mode(render_mode, self.metadata["render_modes"])
        check_frame_size(width, height)
        self.max_torque, self.damping, self.init_noise = max_torque, damping, init_noise
        self.render_mode, self.width, self.height = render_mode, width, height
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        high = np.array([1.0, 1.0, 1.0, 1.0, *MAX_SPEED_OBS], dtype=np.float32)
        self.observation_space = spaces.Box(-high, high, dtype=np.float32)
        self.state: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        noise = self.np_random.uniform(-self.init_noise, self.init_noise, size=4)
        self.state = tuple(float(v) for v in noise)
        return self._obs(), self._info(success=False)

    def step(self, action: np.ndarray):
        torque = self.max_torque * min(max(float(np.asarray(action).reshape(-1)[0]), -1.0), 1.0)
        h = self.dt / self.n_substeps
        for _ in range(self.n_substeps):
            self.state = rk4_step(pendubot_derivatives, self.state, h, torque, self.damping)
        success = self.tip_distance() <= self.success_radius
        return self._obs(), float(success), False, False, self._info(success)

    def set_state(
        self, theta1: float, theta2: float, theta1_dot: float = 0.0, theta2_dot: float = 0.0
    ) -> np.ndarray:
        """Set the joint angles (0, 0 hanging; pi, 0 upright) and speeds; returns the new observation.

        Raises:
            ValueError: a non-finite value.
        """
        state = (float(theta1), float(theta2), float(theta1_dot), float(theta2_dot))
        if not all(math.isfinite(v) for v in state):
            raise ValueError(f"(theta1, theta2, theta1_dot, theta2_dot) must be finite, got {state!r}")
        self.state = state
        return self._obs()

    def tip_distance(self) -> float:
        """Distance in metres from the tip to the upright target ``(0, 2)``."""
        x, y = tip_position(self.state[0], self.state[1])
        return math.hypot(x - TARGET[0], y - TARGET[1])

    def energy(self) -> float:
        """Total mechanical energy in joules (zero potential at the base joint's height)."""
        theta1, theta2, dtheta1, dtheta2 = self.state
        cos2 = math.cos(theta2)
        d11 = LINK_MASS * (2 * COM**2 + LINK_LENGTH**2 + 2 * LINK_LENGTH * COM * cos2) + 2 * INERTIA
        d12 = LINK_MASS * (COM**2 + LINK_LENGTH * COM * cos2) + INERTIA
        d22 = LINK_MASS * COM**2 + INERTIA
        kinetic = 0.5 * (d11 * dtheta1**2 + 2 * d12 * dtheta1 * dtheta2 + d22 * dtheta2**2)
        potential = (
            -LINK_MASS * GRAVITY * ((COM + LINK_LENGTH) * math.cos(theta1) + COM * math.cos(theta1 + theta2))
        )
        return kinetic + potential

    def _obs(self) -> np.ndarray:
        theta1, theta2, dtheta1, dtheta2 = self.state
        obs = np.array(
            [math.cos(theta1), math.sin(theta1), math.cos(theta2), math.sin(theta2), dtheta1, dtheta2],
            dtype=np.float32,
        )
        return np.clip(obs, self.observation_space.low, self.observation_space.high)

    def _info(self, success: bool) -> dict[str, Any]:
        tip = np.array(tip_position(self.state[0], self.state[1]))
        return {"tip": tip, "tip_distance": self.tip_distance(), "is_success": bool(success)}

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        canvas = Canvas(self.width, self.height, (-2.6, 2.6), (-2.2, 3.0))
        canvas.circle(TARGET, self.success_radius, (215, 240, 215))  # the rewarding region
        theta1, theta2 = self.state[0], self.state[1]
        elbow = (LINK_LENGTH * math.sin(theta1), -LINK_LENGTH * math.cos(theta1))
        tip = tip_position(theta1, theta2)
        canvas.segment((0.0, 0.0), elbow, 0.1, (40, 40, 160))
        canvas.segment(elbow, tip, 0.1, (200, 140, 60))
        canvas.circle((0.0, 0.0), 0.07, (0, 0, 0))
        return canvas.image
