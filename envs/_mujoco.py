"""Helpers shared by the MuJoCo tasks."""

from __future__ import annotations

import mujoco


def make_rendering_fast(model: mujoco.MjModel) -> None:
    """Turn off the costly visual effects of ``model`` in place: shadows, reflections, multisampling.

    Offscreen frames then render many times faster (about 800 instead of 20 frames/s at 84x84 on CPU, per
    the project's measurements) and still show every body correctly. Call it before the first render,
    because the offscreen buffer's multisampling is fixed when the rendering context is created.
    """
    model.vis.quality.offsamples = 0
    model.vis.quality.shadowsize = 0
    model.light_castshadow[:] = False
    model.mat_reflectance[:] = 0.0
