"""Stable-Baselines3 glue: keep your SB3 agent, wrap your env, and it explores.

    venv = CuriosityVecEnv(make_vec_env("SparseMountainCar-v0"), "vime", bonus_kwargs={"eta": 1e-3})
    model = PPO("MlpPolicy", venv).learn(100_000, callback=CuriosityCallback())
"""

from agents.callback import CuriosityCallback, find_curiosity_wrapper
from agents.persistence import load_bonus, save_bonus
from agents.replay_buffer import CuriosityReplayBuffer
from agents.vec_env import CuriosityVecEnv

__all__ = [
    "CuriosityCallback",
    "CuriosityReplayBuffer",
    "CuriosityVecEnv",
    "find_curiosity_wrapper",
    "load_bonus",
    "save_bonus",
]
