"""What the Box2D tasks share: rllab's world settings, its two kinds of control, stepping with frame skip.

rllab built each Box2D task from an XML model (``rllab/envs/box2d/parser/xml_box2d.py``); the ``-v1``
tasks build the same bodies in Python with the XML's numbers. This module holds the parser's world
defaults and ``Box2DEnv.forward_dynamics`` (``rllab/envs/box2d/box2d_env.py``), and a base class that
applies rllab's ``NormalizedEnv`` action scaling, steps the world ``frame_skip`` times and asks the task
for its reward and termination (rllab's ``compute_reward`` after the step, then ``is_current_done``).

References:
    Duan et al., "Benchmarking Deep Reinforcement Learning for Continuous Control", ICML 2016 (rllab).
    Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
"""

from __future__ import annotations

import abc
import math
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs._render import check_frame_size, check_render_mode

# Box2D's SWIG module warns (DeprecationWarning) while it initialises; where warnings are errors (pytest's
# -W error, warnings.simplefilter("error")) that exception inside the C initialiser crashes the interpreter.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import Box2D

#: rllab's observation bound (``box2d_env.BIG``): its observation space was ``Box(-1e6, 1e6)``
BIG = 1e6
#: the XML parser's defaults (``XmlWorld.__init__``): used when a model's ``<world>`` sets none
DEFAULT_VELOCITY_ITERATIONS = 8
DEFAULT_POSITION_ITERATIONS = 3
#: Box2D's default gravity; rllab's models set none
GRAVITY = (0.0, -10.0)
#: motor speed rllab sets on a torque-controlled joint, so that the motor always saturates at ``|a|``
MOTOR_SPEED = 1e5


def make_world() -> Box2D.b2World:
    """An empty world with rllab's settings (``XmlWorld.to_box2d``).

    Gravity ``(0, -10)``, warm starting and continuous physics on, sub-stepping off. rllab called
    ``b2World(allow_sleeping=False)``, but pybox2d's keyword is ``doSleep``: the unknown keyword became a
    plain Python attribute and sleeping stayed allowed, so it is allowed here too. (Every step of the three
    tasks wakes the bodies it drives: ``ApplyForce(wake=True)``, or the motor setters.)
    """
    world = Box2D.b2World(gravity=GRAVITY, doSleep=True)
    world.warmStarting = True
    world.continuousPhysics = True
    world.subStepping = False
    return world


def revolute_joint(
    world: Box2D.b2World, body_a: Box2D.b2Body, body_b: Box2D.b2Body, anchor: Sequence[float]
) -> Box2D.b2RevoluteJoint:
    """rllab's ``<joint type="revolute">``: a hinge at world point ``anchor``, no limit, no motor."""
    return world.CreateJoint(type=Box2D.b2RevoluteJoint, bodyA=body_a, bodyB=body_b, anchor=tuple(anchor))


def prismatic_joint(
    world: Box2D.b2World, body_a: Box2D.b2Body, body_b: Box2D.b2Body
) -> Box2D.b2PrismaticJoint:
    """rllab's ``<joint type="prismatic">`` without ``axis``: axis x, anchors at the bodies' origins."""
    return world.CreateJoint(type=Box2D.b2PrismaticJoint, bodyA=body_a, bodyB=body_b)


class ForceControl:
    """rllab's ``<control type="force">``: force ``a`` at body point ``anchor`` along body axis ``direction``.

    Both are in the body's frame, so the force turns with the body (``GetWorldVector``); ``direction`` is
    normalised, as rllab does.

    Args:
        body: the driven body.
        anchor: where the force acts, in body coordinates.
        direction: the force's direction in body coordinates (any non-zero length).

    Raises:
        ValueError: a zero ``direction``.
    """

    def __init__(self, body: Box2D.b2Body, anchor: Sequence[float], direction: Sequence[float]) -> None:
        norm = math.hypot(direction[0], direction[1])
        if norm == 0:
            raise ValueError(f"direction must be a non-zero 2-vector, got {tuple(direction)!r}")
        self.body = body
        self.anchor = (float(anchor[0]), float(anchor[1]))
        self.direction = (direction[0] / norm, direction[1] / norm)

    def apply(self, value: float) -> None:
        """Apply the force for the coming world step (Box2D clears forces after each step)."""
        body, (dx, dy) = self.body, self.direction
        force = body.GetWorldVector((dx * value, dy * value))
        body.ApplyForce(force, body.GetWorldPoint(self.anchor), True)


class TorqueControl:
    """rllab's ``<control type="torque">``: the joint's motor at speed ``+-1e5`` with max torque ``|a|``.

    The motor never reaches that speed, so it applies a torque of ``|a|`` in the direction of ``sign(a)``
    (``a = 0``: speed ``-1e5`` with zero torque, i.e. none), between the two bodies of the joint.

    Args:
        joint: a revolute joint.
    """

    def __init__(self, joint: Box2D.b2RevoluteJoint) -> None:
        self.joint = joint

    def apply(self, value: float) -> None:
        """Set the motor for the coming world step (rllab re-sets it before every step)."""
        joint = self.joint
        joint.motorEnabled = True
        joint.motorSpeed = MOTOR_SPEED if value > 0 else -MOTOR_SPEED
        joint.maxMotorTorque = abs(value)


def scale_action(action: float, low: float, high: float) -> float:
    """rllab's ``NormalizedEnv``: ``a`` in ``[-1, 1]`` to ``low + (a + 1)(high - low) / 2``, clipped."""
    value = low + (action + 1.0) * 0.5 * (high - low)
    return min(max(value, low), high)


class Box2DTask(gym.Env[np.ndarray, np.ndarray], abc.ABC):
    """Base of the ``-v1`` Box2D tasks: one scalar control, rllab's step, a fresh world at every reset.

    A subclass sets the class attributes below and implements ``_build`` (make the world's bodies, joints and
    control, in a fresh ``self.world``), ``_place`` (the task's reset distribution), ``_observe``,
    ``_outcome`` (reward and termination of the current state) and ``_draw``.

    One step: the action (``[-1, 1]``) is scaled to ``[ctrl_low, ctrl_high]`` as by rllab's
    ``NormalizedEnv``; then ``frame_skip`` times: apply the control, ``world.Step(timestep, velocity
    iterations, position iterations)``; then reward and termination from the new state.

    A reset builds a new world instead of moving the bodies of the old one back (rllab's ``_set_state``), so
    no warm-start impulse or contact from the previous episode reaches the next one: with the same seed, the
    same episode, whatever ran before. rllab kept one world, so its first step after a reset was warm-started
    with the last episode's joint and contact impulses (a transient of a step or two).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 20}
    #: seconds per world step (the XML's ``timestep``)
    timestep: ClassVar[float]
    velocity_iterations: ClassVar[int] = DEFAULT_VELOCITY_ITERATIONS
    position_iterations: ClassVar[int] = DEFAULT_POSITION_ITERATIONS
    frame_skip: ClassVar[int] = 1
    #: the XML's ``ctrllimit``
    ctrl_low: ClassVar[float]
    ctrl_high: ClassVar[float]
    obs_dim: ClassVar[int]

    def __init__(self, render_mode: str | None = None, width: int = 64, height: int = 64) -> None:
        check_render_mode(render_mode, self.metadata["render_modes"])
        check_frame_size(width, height)
        self.render_mode, self.width, self.height = render_mode, width, height
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.observation_space = spaces.Box(-BIG, BIG, shape=(self.obs_dim,), dtype=np.float32)
        self.control: ForceControl | TorqueControl
        self._new_world()

    @property
    def dt(self) -> float:
        """Seconds per environment step (``timestep * frame_skip``)."""
        return self.timestep * self.frame_skip

    def _new_world(self) -> None:
        self.world = make_world()
        self._build()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._new_world()
        self._place()
        return self._observe(), self._info(reward=0.0)

    def step(self, action: np.ndarray):
        if len(action) != 1:
            raise ValueError(f"action must have shape (1,), got {np.shape(action)}")
        value = float(action[0])
        if value != value:  # NaN would poison the Box2D world
            raise ValueError(f"action must be a finite number in [-1, 1], got {value!r}")
        control = scale_action(value, self.ctrl_low, self.ctrl_high)
        world, apply = self.world, self.control.apply
        for _ in range(self.frame_skip):
            apply(control)
            world.Step(self.timestep, self.velocity_iterations, self.position_iterations)
        reward, terminated = self._outcome()
        return self._observe(), reward, terminated, False, self._info(reward)

    def _info(self, reward: float) -> dict[str, Any]:
        return {"is_success": reward > 0}

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        return self._draw()

    # --- implemented by each task -------------------------------------------------------------------------
    @abc.abstractmethod
    def _build(self) -> None:
        """Create the bodies, joints and ``self.control`` in the fresh ``self.world`` (the XML's model)."""

    @abc.abstractmethod
    def _place(self) -> None:
        """Draw the start state with ``self.np_random`` (the task's ``reset``)."""

    @abc.abstractmethod
    def _observe(self) -> np.ndarray:
        """The ``float32`` observation of the current state (rllab's ``get_current_obs``)."""

    @abc.abstractmethod
    def _outcome(self) -> tuple[float, bool]:
        """``(reward, terminated)`` of the current state (``compute_reward``, ``is_current_done``)."""

    @abc.abstractmethod
    def _draw(self) -> np.ndarray:
        """An RGB frame of the current state."""
