"""Sparse Mountain Car as the VIME paper ran it: rllab's Box2D car on a sine track (``MountainCarEnvX``).

References:
    Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
    Duan et al., "Benchmarking Deep Reinforcement Learning for Continuous Control", ICML 2016 (rllab).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from envs._render import Canvas
from envs.box2d_world import Box2DTask, ForceControl

# rllab/envs/box2d/models/mountain_car.xml.mako (noise=False)
TIMESTEP = 0.05
CART_START = (0.0, 0.05)
CART_HALF_EXTENTS = (0.2, 0.1)
CART_DENSITY = 5.0  # 0.4 m x 0.2 m -> 0.4 kg
CART_FRICTION = 0.0005
TRACK_POSITION = (0.0, 1.0)
TRACK_WIDTH = 4.0  # the sine chain spans x in [-2, 2]
TRACK_HEIGHT = 1.0
CHAIN_HALF_POINTS = 100  # xml_box2d.py's ``m``: 2 m + 1 vertices
FORCE_LIMIT = 1.0  # ctrllimit="-1,1", newtons
# openai/vime envs/mountain_car_env_x.py
GOAL_X = 0.6
MAX_CART_X = 2.0
START_SPEED = 1.0  # x_dot ~ U(-1, 1)


def track_vertices() -> list[tuple[float, float]]:
    """The sine chain of ``xml_box2d.py``, in the track body's frame (the body sits at ``(0, 1)``)."""
    m = CHAIN_HALF_POINTS
    return [
        (0.5 / m * i * TRACK_WIDTH, TRACK_HEIGHT * math.sin((1.0 / m * i - 0.5) * math.pi))
        for i in range(-m, m + 1)
    ]


def track_height(x: float | np.ndarray) -> float | np.ndarray:
    """World height of the track at ``x``: the curve ``1 - cos(pi x / 2)`` through the chain's vertices."""
    return TRACK_POSITION[1] + TRACK_HEIGHT * np.sin(np.pi * np.asarray(x) / TRACK_WIDTH * 2 - np.pi / 2)


class SparseMountainCarV1Env(Box2DTask):
    """A Box2D cart on a sine valley must rock to ``x >= 0.6``; port of VIME's ``MountainCarEnvX``.

    Model (rllab ``mountain_car.xml.mako``): a dynamic box cart, half-extents 0.2 x 0.1 m, density 5 (0.4 kg),
    friction 0.0005, starting at ``(0, 0.05)``; a static track body at ``(0, 1)`` carrying a chain through the
    201 points ``(0.02 i, sin((i/100 - 0.5) pi))``, ``i = -100..100`` (the curve ``y = 1 - cos(pi x/2)`` on
    ``x in [-2, 2]``), with Box2D's default friction 0.2 (the XML sets none), so the contact friction is
    ``sqrt(0.0005 * 0.2) = 0.01``. World: ``dt = 0.05`` s, 8 velocity / 3 position iterations, gravity
    ``(0, -10)``, frame_skip 1. Control: a force along the cart's own x axis (it tilts with the cart) at its
    centre, ``[-1, 1]`` N. Near the goal the slope is about 52 degrees, where gravity pulls with 7.9 m/s^2
    against the engine's 2.5 m/s^2: the car must swing.

    Start (``MountainCarEnvX.reset``): the XML's state, then ``x_dot ~ U(-1, 1)``. Quirk kept: the cart starts
    at ``y = 0.05`` with its bottom 0.1 m below the track's surface under its corners; Box2D pushes it out
    during the first steps.

    Reward and termination (``compute_reward``, ``is_current_done``), after each step: the episode terminates
    when ``x >= 0.6`` or ``|x| >= 2``, and the reward is 1 exactly on that step, else 0. Quirk kept: running
    off the LEFT end of the track (``x <= -2``) also terminates with reward 1 (rllab's reward is
    ``is_current_done()``); ``info["goal_reached"]`` tells the two ends apart. ``is_success`` is
    ``reward > 0`` (so it is true at the left end too). Horizon: 500 steps (``max_path_length``; ``TimeLimit``
    truncation); rllab's sampler ended a path on ``done`` after recording its reward, as ``terminated`` does
    here.

    Observation (the XML's ``<state>``): ``float32 [x, x_dot]`` of the cart's body origin (its centre), in
    rllab's ``Box(-1e6, 1e6)``. Action: ``float32 [a]`` in ``[-1, 1]``; rllab's ``NormalizedEnv`` mapping to
    ``[-1, 1]`` N is the identity here, and values outside are clipped. Info: ``position``, ``velocity`` (the
    observation, as float), ``goal_reached``, ``is_success``.

    Deviations: each reset builds a fresh Box2D world (see ``Box2DTask``); the start draws from the env's
    seeded generator, not numpy's global one; no ``obs_noise``/``action_noise`` options (rllab's defaults are
    0); rendering is a small numpy drawing, not rllab's pygame viewer.

    Args:
        render_mode: ``None`` or ``"rgb_array"``.
        width: frame width in pixels for ``rgb_array``.
        height: frame height in pixels for ``rgb_array``.

    Raises:
        ValueError: an unsupported ``render_mode`` or a non-positive frame size.

    References:
        Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016 (openai/vime
        ``envs/mountain_car_env_x.py``); rll/rllab ``rllab/envs/box2d/models/mountain_car.xml.mako``.
    """

    timestep = TIMESTEP
    ctrl_low, ctrl_high = -FORCE_LIMIT, FORCE_LIMIT
    obs_dim = 2
    #: (position, velocity) ranges of visitation histograms (agents.recorder): the track between the two
    #: ends that stop an episode, and speeds a little beyond the start's U(-1, 1)
    visitation_range = ((-MAX_CART_X, GOAL_X), (-2.0, 2.0))

    def _build(self) -> None:
        # creation order as in the XML (it sets Box2D's internal list and solver order)
        self.cart = self.world.CreateDynamicBody(position=CART_START)
        self.cart.CreatePolygonFixture(box=CART_HALF_EXTENTS, density=CART_DENSITY, friction=CART_FRICTION)
        self.track = self.world.CreateStaticBody(position=TRACK_POSITION)
        self.track.CreateChainFixture(vertices_chain=track_vertices())
        self.control = ForceControl(self.cart, anchor=(0.0, 0.0), direction=(1.0, 0.0))

    def _place(self) -> None:
        x_dot = float(self.np_random.uniform(-START_SPEED, START_SPEED))
        self.cart.linearVelocity = (x_dot, self.cart.linearVelocity[1])

    def _observe(self) -> np.ndarray:
        return np.array([self.cart.position[0], self.cart.linearVelocity[0]], dtype=np.float32)

    def _outcome(self) -> tuple[float, bool]:
        x = self.cart.position[0]
        done = x >= GOAL_X or abs(x) >= MAX_CART_X
        return float(done), done

    def _info(self, reward: float) -> dict[str, Any]:
        x = self.cart.position[0]
        velocity = self.cart.linearVelocity[0]
        return {"position": x, "velocity": velocity, "goal_reached": x >= GOAL_X, "is_success": reward > 0}

    def set_state(self, x: float, x_dot: float = 0.0) -> np.ndarray:
        """Put the cart's centre at ``x``, resting on the track, with horizontal speed ``x_dot``.

        The cart is tilted to the chord of the track under it and lifted until its bottom edge touches the
        track without penetrating it; the body's velocity follows the track's slope at ``x``.

        Returns:
            The new observation.

        Raises:
            ValueError: ``x`` outside ``[-2, 2]`` or a non-finite ``x_dot``.
        """
        if not -MAX_CART_X <= x <= MAX_CART_X:
            raise ValueError(f"x must lie on the track, in [{-MAX_CART_X}, {MAX_CART_X}], got {x!r}")
        if not math.isfinite(x_dot):
            raise ValueError(f"x_dot must be a finite number (m/s), got {x_dot!r}")
        half_w, half_h = CART_HALF_EXTENTS
        angle = math.atan2(float(track_height(x + half_w) - track_height(x - half_w)), 2 * half_w)
        cos, sin = math.cos(angle), math.sin(angle)
        # points of the bottom edge relative to the centre; the centre's height makes the lowest one touch
        u = np.linspace(-half_w, half_w, 41)
        dx, dy = u * cos + half_h * sin, u * sin - half_h * cos
        y = float(np.max(track_height(x + dx) - dy))
        self.cart.position = (x, y)
        self.cart.angle = angle
        slope = math.pi / 2 * math.sin(math.pi * x / 2)  # d/dx of 1 - cos(pi x / 2)
        self.cart.linearVelocity = (x_dot, x_dot * slope)
        self.cart.angularVelocity = 0.0
        return self._observe()

    def _draw(self) -> np.ndarray:
        canvas = Canvas(self.width, self.height, (-2.1, 2.1), (-0.2, 2.2))
        canvas.paint((canvas.y <= track_height(canvas.x)) & (np.abs(canvas.x) <= MAX_CART_X), (140, 110, 80))
        flag_y = float(track_height(GOAL_X))
        canvas.segment((GOAL_X, flag_y), (GOAL_X, flag_y + 0.4), 0.03, (0, 0, 0))
        canvas.rectangle((GOAL_X, flag_y + 0.28), (GOAL_X + 0.2, flag_y + 0.4), (230, 200, 0))
        (cx, cy), angle = self.cart.position, self.cart.angle
        half = (CART_HALF_EXTENTS[0] * math.cos(angle), CART_HALF_EXTENTS[0] * math.sin(angle))
        canvas.segment((cx - half[0], cy - half[1]), (cx + half[0], cy + half[1]), 0.2, (200, 30, 30))
        return canvas.image
