"""envs.box2d_world: rllab's world settings, NormalizedEnv's scaling, the two controls, bad actions."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from envs.box2d_world import (
    BIG,
    Box2DTask,
    ForceControl,
    TorqueControl,
    make_world,
    revolute_joint,
    scale_action,
)
from envs.cartpole_swingup_v1 import SparseCartPoleSwingupV1Env
from envs.double_pendulum_v1 import SparseDoublePendulumV1Env
from envs.mountain_car_v1 import SparseMountainCarV1Env

V1_CLASSES = [SparseMountainCarV1Env, SparseCartPoleSwingupV1Env, SparseDoublePendulumV1Env]


@pytest.mark.parametrize(
    ("action", "low", "high", "expected"),
    [
        (-1.0, -10.0, 10.0, -10.0),  # a = -1 -> lb
        (1.0, -10.0, 10.0, 10.0),  # a = 1 -> ub
        (0.0, -10.0, 10.0, 0.0),
        (0.5, -50.0, 50.0, 25.0),
        (0.0, -1.0, 3.0, 1.0),  # an asymmetric range: its midpoint
        (-0.5, -1.0, 3.0, 0.0),  # -1 + (0.5)(4)/2
        (1.7, -10.0, 10.0, 10.0),  # clipped
        (-4.0, -1.0, 3.0, -1.0),  # clipped
    ],
)
def test_scale_action_is_normalized_env(action, low, high, expected):
    assert scale_action(action, low, high) == pytest.approx(expected, abs=1e-12)


def test_world_has_rllab_settings():
    world = make_world()
    assert tuple(world.gravity) == (0.0, -10.0)
    assert world.warmStarting and world.continuousPhysics and not world.subStepping
    assert world.allowSleeping  # what rllab's b2World(allow_sleeping=False) gave under pybox2d


def test_force_control_turns_with_the_body_and_acts_at_the_anchor():
    world = make_world()
    world.gravity = (0.0, 0.0)
    body = world.CreateDynamicBody(position=(0.0, 0.0), angle=math.pi / 2)
    body.CreatePolygonFixture(box=(0.5, 0.5), density=1.0)  # 1 kg, inertia 1/6
    ForceControl(body, anchor=(0.0, 0.5), direction=(3.0, 0.0)).apply(2.0)  # normalised to (1, 0)
    world.Step(0.1, 8, 3)
    # body x axis points along world +y; the anchor (0, 0.5) sits at world (-0.5, 0): torque = r x F
    np.testing.assert_allclose(tuple(body.linearVelocity), (0.0, 0.2), atol=1e-6)
    assert body.angularVelocity == pytest.approx(-0.5 * 2.0 / (1 / 6) * 0.1, rel=1e-5)


def test_force_control_rejects_a_zero_direction():
    world = make_world()
    with pytest.raises(ValueError, match=r"direction must be a non-zero 2-vector, got \(0, 0\)"):
        ForceControl(world.CreateDynamicBody(), anchor=(0, 0), direction=(0, 0))


@pytest.mark.parametrize(("value", "speed"), [(7.5, 1e5), (-3.0, -1e5), (0.0, -1e5)])
def test_torque_control_applies_a_torque_of_the_action(value, speed):
    world = make_world()
    world.gravity = (0.0, 0.0)
    ground = world.CreateStaticBody()
    wheel = world.CreateDynamicBody()
    wheel.CreatePolygonFixture(
        box=(0.5, 0.5), density=2.0
    )  # 2 kg, inertia 2 (1 + 1) / 12 = 1/3 at the centre
    joint = revolute_joint(world, ground, wheel, anchor=(0.0, 0.0))
    TorqueControl(joint).apply(value)
    world.Step(0.01, 8, 3)
    assert joint.motorEnabled and joint.motorSpeed == speed
    assert wheel.angularVelocity == pytest.approx(value / (1 / 3) * 0.01, rel=1e-5, abs=1e-12)


@pytest.mark.parametrize("cls", V1_CLASSES)
def test_spaces_are_rllab_normalized(cls):
    env = cls()
    assert env.action_space.shape == (1,) and env.action_space.low[0] == -1 and env.action_space.high[0] == 1
    assert env.observation_space.dtype == np.float32
    assert np.all(env.observation_space.high == np.float32(BIG))


@pytest.mark.parametrize("cls", V1_CLASSES)
@pytest.mark.parametrize(
    ("action", "match"),
    [
        (np.array([np.nan], dtype=np.float32), r"action must be a finite number in \[-1, 1\], got nan"),
        (np.zeros(2, dtype=np.float32), r"action must have shape \(1,\), got \(2,\)"),
    ],
)
def test_bad_actions_raise(cls, action, match):
    env = cls()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        env.step(action)


def test_task_base_is_abstract():
    with pytest.raises(TypeError, match="abstract"):
        Box2DTask()


def test_box2d_import_survives_warnings_as_errors():
    # Box2D's SWIG initialiser warns; with warnings as errors a bare `import Box2D` segfaults (checked
    # here too, so that this test fails if the guard stops being needed or stops working)
    guarded = subprocess.run([sys.executable, "-W", "error", "-c", "import envs.box2d_world"], check=False)
    assert guarded.returncode == 0
