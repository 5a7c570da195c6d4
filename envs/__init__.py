"""The sparse-reward tasks of the VIME paper as gymnasium environments.

Importing this package registers them (and gymnasium's plugin entry point ``envs:register_envs`` does the
same); nothing heavier happens at import: MuJoCo loads only when a MuJoCo task is made.

| id | task |
| --- | --- |
| ``SparseMountainCar-v1`` | the paper's MountainCar: rllab's Box2D cart on a sine track must reach x >= 0.6 |
| ``SparseCartPoleSwingup-v1`` | the paper's swing-up: rllab's Box2D cart-pole; reward while cos θ > 0.8 |
| ``SparseDoublePendulum-v1`` | the VIME code's double pendulum: rllab's Box2D links, torque at the elbow |
| ``SparseHalfCheetah-v1`` | the paper's HalfCheetah: rllab's model at dt 0.01, reward while the COM x > 5 |
| ``SparseMountainCar-v0`` | easier variant, not the paper's: gymnasium's MountainCarContinuous physics |
| ``SparseCartPoleSwingup-v0`` | easier variant, not the paper's: a cart-pole ODE, start near hanging |
| ``SparseDoublePendulum-v0`` | easier variant, not the paper's: torque at the base, a pendubot ODE |
| ``SparseHalfCheetah-v0`` | easier variant, not the paper's: gymnasium's HalfCheetah-v5 beyond x = 5 |
| ``SwimmerGather-v0`` | swim to 8 apples (+1) and avoid 8 bombs (-1), sensing them in 10 bins |

The ``-v1`` tasks are ports of the original code (openai/vime ``envs/*_env_x.py`` on rll/rllab's Box2D and
MuJoCo models); the ``-v0`` tasks were built from a short description and are far easier.

References:
    Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
"""

from __future__ import annotations

import gymnasium as gym

from envs.pixels import register_pixel_envs

#: horizon of every task in the paper (a ``TimeLimit`` truncation)
MAX_EPISODE_STEPS = 500

#: id -> ``module:Class`` entry point
ENV_IDS: dict[str, str] = {
    "SparseMountainCar-v0": "envs.mountain_car:SparseMountainCarEnv",
    "SparseCartPoleSwingup-v0": "envs.cartpole_swingup:SparseCartPoleSwingupEnv",
    "SparseDoublePendulum-v0": "envs.double_pendulum:SparseDoublePendulumEnv",
    "SparseHalfCheetah-v0": "envs.half_cheetah:SparseHalfCheetahEnv",
    "SwimmerGather-v0": "envs.swimmer_gather:SwimmerGatherEnv",
    "SparseHalfCheetah-v1": "envs.half_cheetah_v1:SparseHalfCheetahV1Env",
    "SparseMountainCar-v1": "envs.mountain_car_v1:SparseMountainCarV1Env",
    "SparseCartPoleSwingup-v1": "envs.cartpole_swingup_v1:SparseCartPoleSwingupV1Env",
    "SparseDoublePendulum-v1": "envs.double_pendulum_v1:SparseDoublePendulumV1Env",
}


def register_envs() -> None:
    """Register every task with gymnasium; calling it again (e.g. as a plugin after import) is a no-op."""
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, max_episode_steps=MAX_EPISODE_STEPS)
    register_pixel_envs()  # the same tasks seen as pixels (envs.pixels)


register_envs()

__all__ = ["ENV_IDS", "MAX_EPISODE_STEPS", "register_envs"]
