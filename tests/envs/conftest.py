"""Set-up shared by the environment tests: headless MuJoCo rendering."""

from __future__ import annotations

import os

# must be set before MuJoCo creates a rendering context
os.environ.setdefault("MUJOCO_GL", "egl")
