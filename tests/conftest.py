"""Test-wide settings: one torch thread per test process (pytest-xdist runs one process per core)."""

import os

import torch

os.environ.setdefault("MUJOCO_GL", "egl")
torch.set_num_threads(1)
torch.set_flush_denormal(True)
