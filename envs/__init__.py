"""The sparse-reward tasks of the VIME paper as gymnasium environments.

Importing this package registers them (and gymnasium's plugin entry point ``envs:register_envs`` does the
same); nothing heavier happens at import: MuJoCo loads only when a MuJoCo task is made.

| id | task |
| --- | --- |
| ``SparseMountainCar-v0`` | reach the flag on the right hill |
| ``SparseCartPoleSwingup-v0`` | swing a hanging pole above the cart and keep the cart on the track |
| ``SparseDoublePendulum-v0`` | swing a two-link pendulum's tip near the top with torque at the base |
| ``SparseHalfCheetah-v0`` | run the MuJoCo half-cheetah beyond x = 5 |
| ``SwimmerGather-v0`` | swim to 8 apples (+1) and avoid 8 bombs (-1), sensing them in 10 bins |

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
}


def register_envs() -> None:
    """Register every task with gymnasium; calling it again (e.g. as a plugin after import) is a no-op."""
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, max_episode_steps=MAX_EPISODE_STEPS)
    register_pixel_envs()  # the same tasks seen as pixels (envs.pixels)


register_envs()

__all__ = ["ENV_IDS", "MAX_EPISODE_STEPS", "register_envs"]
