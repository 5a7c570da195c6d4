"""Sparse-reward cart-pole swing-up: the pole starts hanging down and must be brought upright.

References:
    Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
    Barto, Sutton & Anderson, "Neuronlike adaptive elements...", IEEE SMC 1983 (the cart-pole equations).
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
CART_MASS = 1.0
POLE_MASS = 0.1
POLE_HALF_LENGTH = 0.5  # a uniform rod 1 m long, as in rllab's Box2D model
FORCE_SCALE = 10.0
TRACK_LIMIT = 3.0
UPRIGHT_COS = 0.8
# Observation bounds; the state itself is never clipped, only what the agent sees (reached only in
# extreme states: a random policy stays well inside them).
MAX_X_OBS = TRACK_LIMIT + 1.0
MAX_CART_SPEED_OBS = 15.0
MAX_POLE_SPEED_OBS = 8 * math.pi


def cartpole_derivatives(
    state: tuple[float, float, float, float],
    force: float,
    cart_friction: float,
    pole_friction: float,
) -> tuple[float, float, float, float]:
    """Time derivative of ``(x, x_dot, theta, theta_dot)`` for a cart with a uniform pole.

    ``theta = 0`` is upright and grows clockwise, as in gymnasium's CartPole. The equations come from the
    Lagrangian ``L = (M/2) x'^2 + m l x' th' cos th + (2/3) m l^2 th'^2 - m g l cos th`` (``M`` the total
    mass, ``m`` the pole mass, ``l`` its half-length), solved as a 2x2 linear system, with viscous friction
    ``-b_c x'`` on the cart and ``-b_p th'`` at the hinge.
    """
    _, x_dot, theta, theta_dot = state
    sin, cos = math.sin(theta), math.cos(theta)
    total_mass, ml = CART_MASS + POLE_MASS, POLE_MASS * POLE_HALF_LENGTH
    a11, a12, a22 = total_mass, ml * cos, 4.0 / 3.0 * ml * POLE_HALF_LENGTH
    b1 = force - cart_friction * x_dot + ml * theta_dot**2 * sin
    b2 = ml * GRAVITY * sin - pole_friction * theta_dot
    det = a11 * a22 - a12 * a12
    return x_dot, (b1 * a22 - a12 * b2) / det, theta_dot, (a11 * b2 - a12 * b1) / det


class SparseCartPoleSwingupEnv(gym.Env[np.ndarray, np.ndarray]):
    """Swing a pole up from hanging down by pushing its cart along a bounded track.

    Physics: cart 1 kg, uniform pole 0.1 kg and 1 m long (the classic cart-pole and rllab's Box2D model),
    gravity 9.8. One step lasts ``dt = 0.05`` s (rllab's Box2D time step), integrated by RK4 in
    ``n_substeps = 5`` sub-steps of 0.01 s, which keeps the mechanical energy of the unforced, frictionless
    system constant to within 1e-6 J over a 500-step episode (tested). The action in ``[-1, 1]`` is scaled
    to a force in ``[-10, 10]`` N. Friction is viscous and off by default (rllab's Box2D fixtures had
    negligible friction); a random policy then succeeds in about 2% of episodes, usually driving the cart
    off the track within 100 steps.

    Start: hanging down, ``theta = pi``, every state variable perturbed by ``U(-init_noise, init_noise)``.
    Reward: 1 when ``cos(theta) > 0.8`` and ``|x| <= 3``, else 0. The episode terminates when ``|x| > 3``.

    Observation: ``float32 [x, x_dot, cos(theta), sin(theta), theta_dot]``, bounded by ``|x| <= 4``,
    ``|x_dot| <= 15`` m/s, ``|theta_dot| <= 8 pi`` rad/s (values beyond are clipped in the observation only).
    Action: ``float32 [force / 10]`` in ``[-1, 1]``.
    Info: ``x``, ``theta`` (wrapped to ``[-pi, pi)``, 0 upright), ``is_success`` (reward received).

    Args:
        cart_friction: viscous friction coefficient of the cart on the track, N s/m (>= 0).
        pole_friction: viscous friction coefficient at the hinge, N m s/rad (>= 0).
        init_noise: half-width of the uniform noise added to the hanging start state (>= 0).
        render_mode: ``None`` or ``"rgb_array"``.
        width: frame width in pixels for ``rgb_array``.
        height: frame height in pixels for ``rgb_array``.

    Raises:
        ValueError: a negative friction or noise, an unsupported ``render_mode``, a non-positive frame size.

    References:
        Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 20}
    dt = 0.05
    n_substeps = 5

    def __init__(
        self,
        cart_friction: float = 0.0,
        pole_friction: float = 0.0,
        init_noise: float = 0.05,
        render_mode: str | None = None,
        width: int = 64,
        height: int = 64,
    ) -> None:
        for name, value in (
            ("cart_friction", cart_friction),
            ("pole_friction", pole_friction),
            ("init_noise", init_noise),
        ):
            if not value >= 0:
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")
        check_render_mode(render_mode, self.metadata["render_modes"])
        check_frame_size(width, height)
        self.cart_friction, self.pole_friction, self.init_noise = cart_friction, pole_friction, init_noise
        self.render_mode, self.width, self.height = render_mode, width, height
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        high = np.array([MAX_X_OBS, MAX_CART_SPEED_OBS, 1.0, 1.0, MAX_POLE_SPEED_OBS], dtype=np.float32)
        self.observation_space = spaces.Box(-high, high, dtype=np.float32)
        self.state: tuple[float, float, float, float] = (0.0, 0.0, math.pi, 0.0)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        noise = self.np_random.uniform(-self.init_noise, self.init_noise, size=4)
        self.state = tuple(float(v) for v in np.array([0.0, 0.0, math.pi, 0.0]) + noise)
        return self._obs(), self._info(success=False)

    def step(self, action: np.ndarray):
        force = FORCE_SCALE * min(max(float(np.asarray(action).reshape(-1)[0]), -1.0), 1.0)
        h = self.dt / self.n_substeps
        for _ in range(self.n_substeps):
            self.state = rk4_step(
                cartpole_derivatives, self.state, h, force, self.cart_friction, self.pole_friction
            )
        x, theta = self.state[0], self.state[2]
        inside = abs(x) <= TRACK_LIMIT
        success = inside and math.cos(theta) > UPRIGHT_COS
        return self._obs(), float(success), not inside, False, self._info(success)

    def set_state(self, x: float, x_dot: float, theta: float, theta_dot: float) -> np.ndarray:
        """Set the physical state (``theta = 0`` upright, ``pi`` hanging); returns the new observation.

        Raises:
            ValueError: a non-finite value.
        """
        state = (float(x), float(x_dot), float(theta), float(theta_dot))
        if not all(math.isfinite(v) for v in state):
            raise ValueError(f"the state (x, x_dot, theta, theta_dot) must be finite, got {state!r}")
        self.state = state
        return self._obs()

    def energy(self) -> float:
        """Total mechanical energy in joules (kinetic + potential, zero height at the hinge)."""
        _, x_dot, theta, theta_dot = self.state
        ml = POLE_MASS * POLE_HALF_LENGTH
        kinetic = (
            0.5 * (CART_MASS + POLE_MASS) * x_dot**2
            + ml * x_dot * theta_dot * math.cos(theta)
            + 2.0 / 3.0 * ml * POLE_HALF_LENGTH * theta_dot**2
        )
        return kinetic + ml * GRAVITY * math.cos(theta)

    def _obs(self) -> np.ndarray:
        x, x_dot, theta, theta_dot = self.state
        obs = np.array([x, x_dot, math.cos(theta), math.sin(theta), theta_dot], dtype=np.float32)
        return np.clip(obs, self.observation_space.low, self.observation_space.high)

    def _info(self, success: bool) -> dict[str, Any]:
        theta = (self.state[2] + math.pi) % (2 * math.pi) - math.pi
        return {"x": self.state[0], "theta": theta, "is_success": bool(success)}

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        canvas = Canvas(self.width, self.height, (-3.5, 3.5), (-1.6, 1.6))
        canvas.segment((-TRACK_LIMIT, 0.0), (TRACK_LIMIT, 0.0), 0.03, (0, 0, 0))
        for end in (-TRACK_LIMIT, TRACK_LIMIT):
            canvas.segment((end, -0.2), (end, 0.2), 0.05, (200, 30, 30))
        x, _, theta, _ = self.state
        canvas.rectangle((x - 0.3, -0.15), (x + 0.3, 0.15), (60, 60, 60))
        tip = (x + 2 * POLE_HALF_LENGTH * math.sin(theta), 2 * POLE_HALF_LENGTH * math.cos(theta))
        canvas.segment((x, 0.0), tip, 0.08, (200, 140, 60))
        canvas.circle((x, 0.0), 0.06, (30, 30, 200))
        return canvas.image
