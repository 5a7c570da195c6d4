"""SwimmerGather: rllab's three-link swimmer collecting apples and avoiding bombs, seen through range sensors.

A faithful port of rllab's ``SwimmerGatherEnv`` (``GatherEnv`` around ``SwimmerEnv``) to current MuJoCo.

References:
    Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
    Duan et al., "Benchmarking Deep Reinforcement Learning for Continuous Control", ICML 2016 (the task).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from envs._mujoco import make_rendering_fast
from envs._render import check_frame_size, check_render_mode

APPLE, BOMB = 0, 1
_COLORS = {APPLE: "0.1 0.8 0.1 1", BOMB: "0.9 0.1 0.1 1"}

# rllab's vendor/mujoco_models/swimmer.xml, translated to current MuJoCo: its `collision="predefined"`
# with no contact pairs meant no contacts at all, written here as contype = conaffinity = 0 everywhere
# (so, as in rllab, the walls are only drawn); its actuators' ctrlrange [-50, 50] (rescaled to [-1, 1] by
# rllab's `normalize`) becomes ctrlrange [-1, 1] with gear 50. Deviation: its solver options
# (`iterations="1000"`, `<flag warmstart="disable"/>`) are left at current MuJoCo's defaults; with no contacts
# the only constraints are the two joints' +-100 degree limits. The fluid forces are current MuJoCo's (not
# measured against 1.31).
_SWIMMER_XML = """
<mujoco model="swimmer_gather">
  <compiler angle="degree" coordinate="local" inertiafromgeom="true"/>
  <option timestep="0.001" density="4000" viscosity="0.1" integrator="Euler"/>
  <default><geom contype="0" conaffinity="0" condim="1" rgba="0.8 0.6 0.4 1"/></default>
  <visual><global offwidth="{width}" offheight="{height}"/></visual>
  <asset>
    <texture name="texplane" type="2d" builtin="checker" rgb1="0 0 0" rgb2="0.8 0.8 0.8"
             width="100" height="100"/>
    <material name="MatPlane" texture="texplane" texrepeat="30 30"/>
  </asset>
  <worldbody>
    <light directional="true" diffuse="1 1 1" specular=".1 .1 .1" pos="0 0 1.3" dir="0 0 -1.3"/>
    <geom name="floor" material="MatPlane" pos="0 0 -0.1" size="40 40 0.1" type="plane" rgba="0.8 0.9 0.8 1"/>
    {walls}
    {objects}
    <body name="torso" pos="0 0 0">
      <geom name="torso" type="capsule" fromto="1.5 0 0 0.5 0 0" size="0.1" density="1000"/>
      <joint name="slider1" type="slide" pos="0 0 0" axis="1 0 0"/>
      <joint name="slider2" type="slide" pos="0 0 0" axis="0 1 0"/>
      <joint name="rot" type="hinge" pos="0 0 0" axis="0 0 1"/>
      <body name="mid" pos="0.5 0 0">
        <geom name="mid" type="capsule" fromto="0 0 0 -1 0 0" size="0.1" density="1000"/>
        <joint name="rot2" type="hinge" pos="0 0 0" axis="0 0 1" range="-100 100" limited="true"/>
        <body name="back" pos="-1 0 0">
          <geom name="back" type="capsule" fromto="0 0 0 -1 0 0" size="0.1" density="1000"/>
          <joint name="rot3" type="hinge" pos="0 0 0" axis="0 0 1" range="-100 100" limited="true"/>
        </body>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor joint="rot2" ctrllimited="true" ctrlrange="-1 1" gear="50"/>
    <motor joint="rot3" ctrllimited="true" ctrlrange="-1 1" gear="50"/>
  </actuator>
</mujoco>
"""


def gather_xml(n_objects: int, wall_distance: float, width: int, height: int) -> str:
    """The model: swimmer, four drawn walls at ``wall_distance``, ``n_objects`` movable drawn balls."""
    d = wall_distance
    walls = "".join(
        f'<geom name="wall{i}" type="box" pos="{x} {y} 0" size="{sx} {sy} 1" rgba="0.8 0.9 0.8 1"/>'
        for i, (x, y, sx, sy) in enumerate(
            [(0, -d, d + 0.5, 0.5), (0, d, d + 0.5, 0.5), (-d, 0, 0.5, d + 0.5), (d, 0, 0.5, d + 0.5)]
        )
    )
    objects = "".join(
        f'<geom name="object{i}" type="sphere" size="0.3" pos="0 0 -10" rgba="{_COLORS[APPLE]}"/>'
        for i in range(n_objects)
    )
    return _SWIMMER_XML.format(walls=walls, objects=objects, width=width, height=height)


class SwimmerGatherEnv(gym.Env[np.ndarray, np.ndarray]):
    """Swim to apples (+1 each) and avoid bombs (-1 each) scattered on a grid around the swimmer.

    Robot: rllab's swimmer (three capsules, two actuated hinges, viscous fluid), one step = 50 MuJoCo steps
    of 1 ms (Euler), as rllab's model file specified. The robot's position is the swimmer's centre of mass
    and its heading the root hinge angle, as in rllab.

    Objects: ``n_apples`` apples and ``n_bombs`` bombs at distinct points of the even grid
    ``2 * randint(-activity_range/2, activity_range/2)`` (numpy ``randint`` excludes the top, so the grid is
    {-6, ..., 4}^2 by default: rllab's quirk, kept), none closer than ``robot_object_spacing`` to the
    origin. An object is caught when the centre of mass comes within ``catch_range``; it then disappears.
    The episode terminates when every object is gone (usually it runs to the 500-step horizon).

    Observation (``float32``): rllab's swimmer observation ``qpos`` (5), ``qvel`` (5), centre of mass (3),
    then ``n_bins`` apple readings and ``n_bins`` bomb readings. The sensors split the ``sensor_span``
    ahead of the swimmer into equal bins; an object within ``sensor_range`` sets its bin to
    ``1 - distance / sensor_range``, nearer objects overwriting farther ones. Readings lie in ``[0, 1]``;
    the swimmer's own part is unbounded (rllab's walls never held it).
    Action: ``float32``, 2 torques in ``[-1, 1]`` (50 N m at 1).
    Info: ``apples`` and ``bombs`` caught so far, ``com`` (x, y), ``is_success`` (an apple caught this step).

    Args:
        n_apples: number of apples per episode (>= 0).
        n_bombs: number of bombs per episode (>= 0).
        activity_range: objects lie within ``[-activity_range, activity_range]`` (> 0).
        robot_object_spacing: minimum distance of an object from the origin.
        catch_range: distance at which an object is caught (> 0).
        n_bins: number of sensor bins per object type (>= 1).
        sensor_range: sensor reach (> 0).
        sensor_span: sensor field of view in radians (in ``(0, 2 pi]``).
        render_mode: ``None`` or ``"rgb_array"`` (a top view of the arena).
        width: frame width in pixels for ``rgb_array``.
        height: frame height in pixels for ``rgb_array``.

    Raises:
        ValueError: a parameter outside its range, too many objects for the grid, an unsupported
            ``render_mode``, a non-positive frame size.

    References:
        Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 20}
    frame_skip = 50

    def __init__(
        self,
        n_apples: int = 8,
        n_bombs: int = 8,
        activity_range: float = 6.0,
        robot_object_spacing: float = 2.0,
        catch_range: float = 1.0,
        n_bins: int = 10,
        sensor_range: float = 6.0,
        sensor_span: float = math.pi,
        render_mode: str | None = None,
        width: int = 64,
        height: int = 64,
    ) -> None:
        self._check_args(n_apples, n_bombs, activity_range, catch_range, n_bins, sensor_range, sensor_span)
        check_render_mode(render_mode, self.metadata["render_modes"])
        check_frame_size(width, height)
        self.n_apples, self.n_bombs, self.n_bins = n_apples, n_bombs, n_bins
        self.activity_range, self.robot_object_spacing = activity_range, robot_object_spacing
        self.catch_range, self.sensor_range, self.sensor_span = catch_range, sensor_range, sensor_span
        self.grid = self._grid_points()
        if len(self.grid) < n_apples + n_bombs:
            raise ValueError(
                f"n_apples + n_bombs = {n_apples + n_bombs} exceeds the {len(self.grid)} free grid points; "
                "lower them or raise activity_range"
            )
        self.render_mode, self.width, self.height = render_mode, width, height
        xml = gather_xml(n_apples + n_bombs, activity_range + 1, width, height)
        self.model = mujoco.MjModel.from_xml_string(xml)
        make_rendering_fast(self.model)
        self.data = mujoco.MjData(self.model)
        self.init_qpos, self.init_qvel = self.data.qpos.copy(), self.data.qvel.copy()
        self._torso = self.model.body("torso").id
        self._object_geoms = [self.model.geom(f"object{i}").id for i in range(n_apples + n_bombs)]
        self.objects: list[tuple[float, float, int]] = []
        self.apples = self.bombs = 0
        self.action_space = spaces.Box(-1.0, 1.0, shape=(self.model.nu,), dtype=np.float32)
        n_robot = self.model.nq + self.model.nv + 3
        low = np.concatenate([np.full(n_robot, -np.inf), np.zeros(2 * n_bins)]).astype(np.float32)
        high = np.concatenate([np.full(n_robot, np.inf), np.ones(2 * n_bins)]).astype(np.float32)
        self.observation_space = spaces.Box(low, high, dtype=np.float32)
        self._renderer = None

    @staticmethod
    def _check_args(
        n_apples, n_bombs, activity_range, catch_range, n_bins, sensor_range, sensor_span
    ) -> None:
        for name, value in (("n_apples", n_apples), ("n_bombs", n_bombs)):
            if not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
            raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
        for name, value in (
            ("activity_range", activity_range),
            ("catch_range", catch_range),
            ("sensor_range", sensor_range),
        ):
            if not value > 0:
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if not 0 < sensor_span <= 2 * math.pi:
            raise ValueError(f"sensor_span must lie in (0, 2 pi] radians, got {sensor_span!r}")

    def _grid_points(self) -> list[tuple[int, int]]:
        # rllab: np.random.randint(-range / 2, range / 2) * 2, which truncates the float bounds
        coords = [2 * k for k in range(int(-self.activity_range / 2), int(self.activity_range / 2))]
        return [(x, y) for x in coords for y in coords if x**2 + y**2 >= self.robot_object_spacing**2]

    # -- gymnasium API -----------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        # rllab draws grid points until they are distinct: a uniform draw without replacement
        picks = self.np_random.choice(len(self.grid), size=self.n_apples + self.n_bombs, replace=False)
        types = [APPLE] * self.n_apples + [BOMB] * self.n_bombs
        self.objects = [
            (float(self.grid[i][0]), float(self.grid[i][1]), t) for i, t in zip(picks, types, strict=True)
        ]
        self.apples = self.bombs = 0
        mujoco.mj_resetData(self.model, self.data)
        # rllab's MujocoEnv start noise
        self.data.qpos[:] = self.init_qpos + 0.01 * self.np_random.standard_normal(self.model.nq)
        self.data.qvel[:] = self.init_qvel + 0.1 * self.np_random.standard_normal(self.model.nv)
        mujoco.mj_forward(self.model, self.data)
        self._place_object_geoms()
        return self._obs(), self._info(success=False)

    def step(self, action: np.ndarray):
        self.data.ctrl[:] = np.clip(action, -1.0, 1.0)
        mujoco.mj_step(self.model, self.data, nstep=self.frame_skip)
        mujoco.mj_forward(self.model, self.data)  # positions and centre of mass of the new state
        reward, apple_caught = self._catch_objects()
        terminated = not self.objects
        return self._obs(), reward, terminated, False, self._info(success=apple_caught)

    def set_state(
        self, qpos: np.ndarray, qvel: np.ndarray, objects: list[tuple[float, float, int]] | None = None
    ) -> np.ndarray:
        """Set the swimmer's joint state (shapes ``(5,)``) and optionally the objects ``[(x, y, type)]``.

        ``type`` is 0 for an apple, 1 for a bomb. Returns the new observation.

        Raises:
            ValueError: wrong shapes, an unknown object type, or more objects than the model draws.
        """
        qpos, qvel = np.asarray(qpos, dtype=float), np.asarray(qvel, dtype=float)
        if qpos.shape != (self.model.nq,) or qvel.shape != (self.model.nv,):
            raise ValueError(
                f"qpos and qvel must have shapes ({self.model.nq},) and ({self.model.nv},), "
                f"got {qpos.shape} and {qvel.shape}"
            )
        if objects is not None:
            if len(objects) > len(self._object_geoms) or any(t not in (APPLE, BOMB) for *_, t in objects):
                raise ValueError(
                    f"objects must be at most {len(self._object_geoms)} (x, y, type) with type "
                    f"0 (apple) or 1 (bomb), got {objects!r}"
                )
            self.objects = [(float(x), float(y), int(t)) for x, y, t in objects]
        self.data.qpos[:], self.data.qvel[:] = qpos, qvel
        mujoco.mj_forward(self.model, self.data)
        self._place_object_geoms()
        return self._obs()

    # -- task ------------------------------------------------------------------------------------------
    def robot_position(self) -> np.ndarray:
        """The swimmer's centre of mass (x, y), the point that catches objects."""
        return self.data.subtree_com[self._torso, :2].copy()

    def _catch_objects(self) -> tuple[float, bool]:
        x, y = self.robot_position()
        reward, apple_caught, remaining = 0.0, False, []
        for ox, oy, typ in self.objects:
            if (ox - x) ** 2 + (oy - y) ** 2 < self.catch_range**2:
                reward += 1.0 if typ == APPLE else -1.0
                apple_caught |= typ == APPLE
                self.apples += typ == APPLE
                self.bombs += typ == BOMB
            else:
                remaining.append((ox, oy, typ))
        if len(remaining) != len(self.objects):
            self.objects = remaining
            self._place_object_geoms()
        return reward, apple_caught

    def readings(self) -> tuple[np.ndarray, np.ndarray]:
        """Apple and bomb sensor readings, each ``(n_bins,)`` in ``[0, 1]`` (rllab's ``get_readings``)."""
        apple, bomb = np.zeros(self.n_bins), np.zeros(self.n_bins)
        rx, ry = self.robot_position()
        heading = self.data.qpos[2]
        half_span, bin_width = 0.5 * self.sensor_span, self.sensor_span / self.n_bins
        # farthest first, so that nearer objects overwrite (occlude) farther ones in the same bin
        by_distance = sorted(self.objects, key=lambda o: (o[0] - rx) ** 2 + (o[1] - ry) ** 2, reverse=True)
        for ox, oy, typ in by_distance:
            dist = math.hypot(ox - rx, oy - ry)
            angle = (math.atan2(oy - ry, ox - rx) - heading + math.pi) % (2 * math.pi) - math.pi
            if dist > self.sensor_range or abs(angle) > half_span:
                continue
            index = min(int((angle + half_span) / bin_width), self.n_bins - 1)  # angle == half_span edge
            (apple if typ == APPLE else bomb)[index] = 1.0 - dist / self.sensor_range
        return apple, bomb

    def _obs(self) -> np.ndarray:
        com = self.data.subtree_com[self._torso]
        return np.concatenate([self.data.qpos, self.data.qvel, com, *self.readings()]).astype(np.float32)

    def _info(self, success: bool) -> dict[str, Any]:
        return {
            "apples": self.apples,
            "bombs": self.bombs,
            "com": self.robot_position(),
            "is_success": bool(success),
        }

    # -- rendering -------------------------------------------------------------------------------------
    def _place_object_geoms(self) -> None:
        """Move the drawn balls onto the remaining objects; hide the rest below the floor."""
        for i, geom in enumerate(self._object_geoms):
            if i < len(self.objects):
                ox, oy, typ = self.objects[i]
                self.model.geom_pos[geom] = (ox, oy, 0.0)
                self.model.geom_rgba[geom] = (0.1, 0.8, 0.1, 1.0) if typ == APPLE else (0.9, 0.1, 0.1, 1.0)
            else:
                self.model.geom_pos[geom] = (0.0, 0.0, -10.0)
        mujoco.mj_kinematics(self.model, self.data)

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        if self._renderer is None:
            from gymnasium.envs.mujoco.mujoco_rendering import MujocoRenderer

            camera = {
                "lookat": np.zeros(3),
                "distance": 2.6 * (self.activity_range + 1.5),
                "elevation": -90.0,
                "azimuth": 90.0,
            }
            self._renderer = MujocoRenderer(self.model, self.data, camera, self.width, self.height)
        return self._renderer.render("rgb_array")

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
