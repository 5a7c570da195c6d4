"""Sparse cart-pole swing-up as the VIME paper ran it: rllab's Box2D cart-pole (``CartpoleSwingupEnvX``).

References:
    Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
    Duan et al., "Benchmarking Deep Reinforcement Learning for Continuous Control", ICML 2016 (rllab).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from envs._render import Canvas
from envs.box2d_world import Box2DTask, ForceControl, prismatic_joint, revolute_joint

# rllab/envs/box2d/models/cartpole.xml.mako (noise=False)
TIMESTEP = 0.05
CART_WIDTH = 4.0 / 12**0.5
CART_HEIGHT = 3.0 / 12**0.5  # with density 1: a 1 kg cart
POLE_WIDTH = 0.1
POLE_LENGTH = 1.0  # with density 1: a 0.1 kg pole
CART_FRICTION = 0.0005
POLE_FRICTION = 0.000002
TRACK_HALF_EXTENTS = (100.0, 0.1)
NO_COLLISION_GROUP = -1  # the XML's group="-1" on the pole and the track
FORCE_LIMIT = 10.0  # ctrllimit="-10,10", newtons
# openai/vime envs/cartpole_swingup_env_x.py
MAX_CART_X = 3.0  # done beyond; also max_reward_cart_pos
UPRIGHT_COS = 0.8
START_LOW = (-1.0, -2.0, math.pi - 1.0, -3.0)  # x, x_dot, theta, theta_dot
START_HIGH = (1.0, 2.0, math.pi + 1.0, 3.0)


class SparseCartPoleSwingupV1Env(Box2DTask):
    """Swing a hanging pole up by pushing its cart; port of VIME's ``CartpoleSwingupEnvX``.

    Model (rllab ``cartpole.xml.mako``): cart box ``4/sqrt(12) x 3/sqrt(12)`` m, density 1 (1 kg), friction
    0.0005, centre ``(0, h/2)`` with ``h = 3/sqrt(12)``; pole: a 0.1 x 1 m rectangle from its body origin
    upwards, density 1 (0.1 kg), friction 2e-6, body at ``(0, h)``, angle 0 upright; a static track box,
    half-extents (100, 0.1), at ``(0, h/2)``. Revolute joint cart-pole at ``(0, h)``; prismatic joint
    track-cart (axis x, both anchors at the bodies' origins). Pole and track share collision group -1 and the
    joints disable cart-pole and cart-track contacts, so nothing ever touches: the frictions have no effect.
    World: ``dt = 0.05`` s, 8 velocity / 3 position iterations, gravity ``(0, -10)``, frame_skip 1. Control: a
    force along the cart's x axis at its centre, ``[-10, 10]`` N.

    Start (``CartpoleSwingupEnvX.reset``): the XML's state, then ``x ~ U(-1, 1)``, ``x_dot ~ U(-2, 2)``,
    ``theta ~ U(pi - 1, pi + 1)``, ``theta_dot ~ U(-3, 3)``, set on the bodies as the original does. Quirk
    kept: only the cart is moved; the pole's body stays at ``(0, h)`` with zero linear velocity, so the
    revolute joint starts broken by up to 1 m and Box2D's joint solver pulls pole and cart together during the
    first step (the cart's ``x`` shifts by a few centimetres).

    Reward and termination, after each step: the episode terminates when ``|x| > 3`` (reward 0 on that step);
    otherwise the reward is 1 when ``cos(theta) > 0.8``, else 0. Horizon: 500 steps (``TimeLimit`` truncation;
    rllab ended a path on ``done``).

    Observation (the XML's ``<state>``): ``float32 [x, x_dot, theta, theta_dot]``: the cart's position and
    velocity and the pole body's RAW angle and angular velocity (Box2D's angle, not wrapped: it keeps counting
    turns; 0 is upright, the start is near pi), in rllab's ``Box(-1e6, 1e6)``. Action: ``float32 [a]`` in
    ``[-1, 1]``, scaled by rllab's ``NormalizedEnv`` to the force ``10 a`` N (clipped). Info: ``x``, ``theta``
    (raw), ``is_success`` (reward received).

    Deviations: each reset builds a fresh Box2D world (see ``Box2DTask``); the start draws from the env's
    seeded generator; no ``obs_noise``/``action_noise`` options (rllab's defaults are 0); rendering is a
    small numpy drawing. The track sits at ``(0, h/2)`` as in rllab since commit e85db07 (3 June 2016, "fix
    cartpole plotting"); its first import had ``(0, -0.1)``, which pulls the cart about 0.5 m down over the
    first steps. VIME's first preprint (31 May 2016) predates the change, so which of the two its runs used is
    unknown; the difference is a start-up transient (a random policy finds the reward in 0 of 200 episodes
    under either).

    Args:
        render_mode: ``None`` or ``"rgb_array"``.
        width: frame width in pixels for ``rgb_array``.
        height: frame height in pixels for ``rgb_array``.

    Raises:
        ValueError: an unsupported ``render_mode`` or a non-positive frame size.

    References:
        Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016 (openai/vime
        ``envs/cartpole_swingup_env_x.py``); rll/rllab ``rllab/envs/box2d/models/cartpole.xml.mako``.
    """

    timestep = TIMESTEP
    ctrl_low, ctrl_high = -FORCE_LIMIT, FORCE_LIMIT
    obs_dim = 4

    def _build(self) -> None:
        world, h = self.world, CART_HEIGHT
        self.cart = world.CreateDynamicBody(position=(0.0, h / 2))
        self.cart.CreatePolygonFixture(box=(CART_WIDTH / 2, h / 2), density=1.0, friction=CART_FRICTION)
        self.pole = world.CreateDynamicBody(position=(0.0, h))
        half = POLE_WIDTH / 2  # rllab's compute_rect_vertices((0, 0), (0, 1), 0.05)
        self.pole.CreatePolygonFixture(
            vertices=[(half, 0.0), (half, POLE_LENGTH), (-half, POLE_LENGTH), (-half, 0.0)],
            density=1.0,
            friction=POLE_FRICTION,
            groupIndex=NO_COLLISION_GROUP,
        )
        track = world.CreateStaticBody(position=(0.0, h / 2))
        track.CreatePolygonFixture(
            box=TRACK_HALF_EXTENTS, friction=POLE_FRICTION, groupIndex=NO_COLLISION_GROUP
        )
        revolute_joint(world, self.cart, self.pole, anchor=(0.0, h))
        prismatic_joint(world, track, self.cart)
        self.control = ForceControl(self.cart, anchor=(0.0, 0.0), direction=(1.0, 0.0))

    def _place(self) -> None:
        x, x_dot, theta, theta_dot = (float(v) for v in self.np_random.uniform(START_LOW, START_HIGH))
        self.cart.position = (x, self.cart.position[1])
        self.cart.linearVelocity = (x_dot, self.cart.linearVelocity[1])
        self.pole.angle = theta
        self.pole.angularVelocity = theta_dot

    def _observe(self) -> np.ndarray:
        cart, pole = self.cart, self.pole
        return np.array(
            [cart.position[0], cart.linearVelocity[0], pole.angle, pole.angularVelocity], dtype=np.float32
        )

    def _outcome(self) -> tuple[float, bool]:
        if abs(self.cart.position[0]) > MAX_CART_X:
            return 0.0, True
        return (1.0 if math.cos(self.pole.angle) > UPRIGHT_COS else 0.0), False

    def _info(self, reward: float) -> dict[str, Any]:
        return {"x": float(self.cart.position[0]), "theta": float(self.pole.angle), "is_success": reward > 0}

    def set_state(self, x: float, x_dot: float, theta: float, theta_dot: float) -> np.ndarray:
        """Set a consistent state: the pole hinged on the cart, its centre moving with cart and rotation.

        Args:
            x: the cart's position (m).
            x_dot: the cart's velocity (m/s).
            theta: the pole's angle (rad, 0 upright, counter-clockwise positive: Box2D's convention).
            theta_dot: the pole's angular velocity (rad/s).

        Returns:
            The new observation.

        Raises:
            ValueError: a non-finite value.
        """
        state = (float(x), float(x_dot), float(theta), float(theta_dot))
        if not all(math.isfinite(v) for v in state):
            raise ValueError(f"the state (x, x_dot, theta, theta_dot) must be finite, got {state!r}")
        half = POLE_LENGTH / 2  # the pole's centre of mass, from the hinge
        self.cart.position, self.cart.linearVelocity = (x, CART_HEIGHT / 2), (x_dot, 0.0)
        self.pole.position, self.pole.angle = (x, CART_HEIGHT), theta
        # Box2D's linearVelocity is the centre of mass's: hinge velocity + omega x r
        self.pole.linearVelocity = (
            x_dot - theta_dot * half * math.cos(theta),
            -theta_dot * half * math.sin(theta),
        )
        self.pole.angularVelocity = theta_dot
        return self._observe()

    def _draw(self) -> np.ndarray:
        canvas = Canvas(self.width, self.height, (-3.6, 3.6), (-1.2, 2.0))
        base = CART_HEIGHT / 2
        canvas.segment((-MAX_CART_X, base), (MAX_CART_X, base), 0.03, (0, 0, 0))
        for end in (-MAX_CART_X, MAX_CART_X):
            canvas.segment((end, base - 0.3), (end, base + 0.3), 0.05, (200, 30, 30))
        x = self.cart.position[0]
        canvas.rectangle((x - CART_WIDTH / 2, 0.0), (x + CART_WIDTH / 2, CART_HEIGHT), (60, 60, 60))
        hinge, theta = self.pole.position, self.pole.angle
        tip = (hinge[0] - POLE_LENGTH * math.sin(theta), hinge[1] + POLE_LENGTH * math.cos(theta))
        canvas.segment(tuple(hinge), tip, POLE_WIDTH, (200, 140, 60))
        return canvas.image
