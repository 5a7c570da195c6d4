"""Sparse double pendulum as the VIME paper's code defines it: rllab's Box2D links (``DoublePendulumEnvX``).

References:
    Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
    Duan et al., "Benchmarking Deep Reinforcement Learning for Continuous Control", ICML 2016 (rllab).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from envs._render import Canvas
from envs.box2d_world import Box2DTask, TorqueControl, revolute_joint

# rllab/envs/box2d/models/double_pendulum.xml.mako (link_len = 1: the env's template_args without noise)
TIMESTEP = 0.01
VELOCITY_ITERATIONS = 20
POSITION_ITERATIONS = 20
FRAME_SKIP = 2  # DoublePendulumEnvX: "make sure mdp-level step is 100ms long" (it is 20 ms)
LINK_LENGTH = 1.0
LINK_WIDTH = 0.1
LINK_DENSITY = 5.0  # 0.1 m x 1 m -> 0.5 kg a link
NO_COLLISION_GROUP = -1
TRACK_POSITION = (0.0, -0.1)
TRACK_HALF_EXTENTS = (100.0, 0.1)
TORQUE_LIMIT = 50.0  # ctrllimit="-50,50" on link_joint_2, newton metres
# openai/vime envs/double_pendulum_env_x.py
START_STD = (0.1, 0.1, 0.01, 0.01)  # angle 1, angle 2, angular velocity 1, angular velocity 2
TARGET = (0.0, 2 * LINK_LENGTH)
REWARD_RADIUS = 1.0


def _link_vertices() -> list[tuple[float, float]]:
    """rllab's ``compute_rect_vertices([0, 0], [0, -L], w / 2)``: a link hanging from its body origin."""
    half = LINK_WIDTH / 2
    return [(half, 0.0), (half, -LINK_LENGTH), (-half, -LINK_LENGTH), (-half, 0.0)]


def quirky_tip(elbow: tuple[float, float], angle2: float) -> tuple[float, float]:
    """The original's ``get_tip_pos``: ``elbow + (-L sin a2, -L cos a2)``.

    The second link's free end is really ``elbow + (L sin a2, -L cos a2)`` (Box2D angles turn
    counter-clockwise): the original mirrors the x offset. Kept, since it defines the reward.
    """
    return elbow[0] - LINK_LENGTH * math.sin(angle2), elbow[1] - LINK_LENGTH * math.cos(angle2)


class SparseDoublePendulumV1Env(Box2DTask):
    """Swing a two-link pendulum's tip near ``(0, 2)`` by the elbow's torque; port of ``DoublePendulumEnvX``.

    Model (rllab ``double_pendulum.xml.mako`` with ``link_len = 1``): two 0.1 x 1 m links, density 5 (0.5 kg
    each), hanging down from their body origins (angle 0 = hanging); link 1 at ``(0, 0)``, link 2 at
    ``(0, -1)``; a static track box (half-extents (100, 0.1)) at ``(0, -0.1)``; all in collision group -1
    (nothing collides). Revolute joints track-link1 at ``(0, 0)`` (the shoulder, unactuated) and link1-link2
    at ``(0, -1)`` (the elbow). World: ``dt = 0.01`` s, 20 velocity / 20 position iterations, gravity
    ``(0, -10)``; ``frame_skip = 2`` (one step = 0.02 s, although the original's comment says 100 ms).
    Control: the elbow motor (``TorqueControl``) with a torque in ``[-50, 50]`` N m, a huge torque for 0.5 kg
    links (held at +1, the links spin at up to ~70 rad/s; Box2D caps rotation at a quarter turn per world
    step, 157 rad/s).

    Start (``DoublePendulumEnvX.reset``): the XML's state, then absolute angles ``~ N(0, 0.1^2)`` and angular
    velocities ``~ N(0, 0.01^2)``, set on the bodies as the original does. Quirk kept: only the angles and
    angular velocities change; link 2 stays at ``(0, -1)`` and both links keep zero linear velocity, so the
    elbow joint starts slightly broken (by up to ~0.1 m) until Box2D's solver closes it.

    Reward: 1 when the "tip" is strictly within 1 of ``(0, 2)``, else 0; never terminates (horizon 500,
    ``TimeLimit`` truncation). Quirk kept: the tip is the original's
    ``link2.position + (-L sin a2, -L cos a2)`` (``quirky_tip``), the real tip mirrored about the elbow's
    vertical; it agrees with the real tip only when link 2 is vertical. This is not one of the paper's
    sparse-reward figure's tasks; a random policy scores in most episodes.

    Observation (the XML's ``<state>``): ``float32 [sin a1, cos a1, w1, sin a2, cos a2, w2]`` with ``a1``,
    ``a2`` the links' ABSOLUTE Box2D angles (not the elbow's relative angle) and ``w`` their angular
    velocities, in rllab's ``Box(-1e6, 1e6)``. Action: ``float32 [a]`` in ``[-1, 1]``, scaled by rllab's
    ``NormalizedEnv`` to the torque ``50 a`` N m (clipped). Info: ``tip`` (the quirky tip), ``is_success``
    (reward received).

    Deviations: each reset builds a fresh Box2D world (see ``Box2DTask``); the start draws from the env's
    seeded generator; the original's ``noise`` template option (random link length) is not offered; no
    ``obs_noise``/``action_noise`` options (rllab's defaults are 0); rendering is a small numpy drawing.

    Args:
        render_mode: ``None`` or ``"rgb_array"``.
        width: frame width in pixels for ``rgb_array``.
        height: frame height in pixels for ``rgb_array``.

    Raises:
        ValueError: an unsupported ``render_mode`` or a non-positive frame size.

    References:
        Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016 (openai/vime
        ``envs/double_pendulum_env_x.py``); rll/rllab ``rllab/envs/box2d/models/double_pendulum.xml.mako``.
    """

    #: one frame per step of 0.02 s (the base class's 20 frames/s fits the 0.05 s tasks)
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 50}
    timestep = TIMESTEP
    velocity_iterations = VELOCITY_ITERATIONS
    position_iterations = POSITION_ITERATIONS
    frame_skip = FRAME_SKIP
    ctrl_low, ctrl_high = -TORQUE_LIMIT, TORQUE_LIMIT
    obs_dim = 6

    def _build(self) -> None:
        world = self.world
        links = []
        for y in (0.0, -LINK_LENGTH):
            link = world.CreateDynamicBody(position=(0.0, y))
            link.CreatePolygonFixture(
                vertices=_link_vertices(), density=LINK_DENSITY, groupIndex=NO_COLLISION_GROUP
            )
            links.append(link)
        self.link1, self.link2 = links
        track = world.CreateStaticBody(position=TRACK_POSITION)
        track.CreatePolygonFixture(box=TRACK_HALF_EXTENTS, groupIndex=NO_COLLISION_GROUP)
        revolute_joint(world, track, self.link1, anchor=(0.0, 0.0))
        elbow = revolute_joint(world, self.link1, self.link2, anchor=(0.0, -LINK_LENGTH))
        self.control = TorqueControl(elbow)

    def _place(self) -> None:
        angle1, angle2, w1, w2 = (float(v) for v in self.np_random.standard_normal(4) * START_STD)
        self.link1.angle, self.link2.angle = angle1, angle2
        self.link1.angularVelocity, self.link2.angularVelocity = w1, w2

    def _observe(self) -> np.ndarray:
        a1, a2 = self.link1.angle, self.link2.angle
        return np.array(
            [
                math.sin(a1), math.cos(a1), self.link1.angularVelocity,
                math.sin(a2), math.cos(a2), self.link2.angularVelocity,
            ],
            dtype=np.float32,
        )  # fmt: skip

    def _tip(self) -> tuple[float, float]:
        elbow = self.link2.position
        return quirky_tip((elbow[0], elbow[1]), self.link2.angle)

    def _outcome(self) -> tuple[float, bool]:
        x, y = self._tip()
        return (1.0 if math.hypot(x - TARGET[0], y - TARGET[1]) < REWARD_RADIUS else 0.0), False

    def _info(self, reward: float) -> dict[str, Any]:
        return {"tip": self._tip(), "is_success": reward > 0}

    def set_state(self, angle1: float, angle2: float, w1: float = 0.0, w2: float = 0.0) -> np.ndarray:
        """Set a consistent state: link 2 hinged at link 1's end, centres moving with the rotations.

        Args:
            angle1: link 1's absolute angle (rad, 0 hanging, counter-clockwise positive).
            angle2: link 2's absolute angle (rad).
            w1: link 1's angular velocity (rad/s).
            w2: link 2's angular velocity (rad/s).

        Returns:
            The new observation.

        Raises:
            ValueError: a non-finite value.
        """
        state = (float(angle1), float(angle2), float(w1), float(w2))
        if not all(math.isfinite(v) for v in state):
            raise ValueError(f"the state (angle1, angle2, w1, w2) must be finite, got {state!r}")
        half = LINK_LENGTH / 2
        s1, c1, s2, c2 = math.sin(angle1), math.cos(angle1), math.sin(angle2), math.cos(angle2)
        elbow = (LINK_LENGTH * s1, -LINK_LENGTH * c1)
        elbow_velocity = (LINK_LENGTH * w1 * c1, LINK_LENGTH * w1 * s1)  # omega x r
        self.link1.position, self.link1.angle, self.link1.angularVelocity = (0.0, 0.0), angle1, w1
        self.link1.linearVelocity = (half * w1 * c1, half * w1 * s1)  # omega x r at the centre of mass
        self.link2.position, self.link2.angle, self.link2.angularVelocity = elbow, angle2, w2
        self.link2.linearVelocity = (elbow_velocity[0] + half * w2 * c2, elbow_velocity[1] + half * w2 * s2)
        return self._observe()

    def _draw(self) -> np.ndarray:
        canvas = Canvas(self.width, self.height, (-2.2, 2.2), (-2.2, 2.2))
        canvas.ring(TARGET, REWARD_RADIUS, (0, 160, 0))
        points = [(0.0, 0.0)]
        for link in (self.link1, self.link2):
            (x, y), a = link.position, link.angle
            points.append((x + LINK_LENGTH * math.sin(a), y - LINK_LENGTH * math.cos(a)))
        canvas.segment(points[0], points[1], LINK_WIDTH, (200, 140, 60))
        canvas.segment(tuple(self.link2.position), points[2], LINK_WIDTH, (60, 60, 200))
        return canvas.image
