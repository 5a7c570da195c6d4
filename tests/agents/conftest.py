"""Small deterministic envs and a transparent bonus for testing the SB3 glue."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

from curiosity import IntrinsicBonus


class CounterEnv(gym.Env):
    """Observation = [steps taken, 1]; episodes terminate after ``length`` steps with reward 1."""

    def __init__(self, length: int = 5, discrete: bool = False) -> None:
        self.length = length
        self.observation_space = spaces.Box(-100.0, 100.0, (2,), dtype=np.float32)
        self.action_space = spaces.Discrete(3) if discrete else spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)
        self.t = 0

    def _obs(self) -> np.ndarray:
        return np.array([self.t, 1.0], dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        done = self.t >= self.length
        return self._obs(), float(done), done, False, {"is_success": done}


class NextObsBonus(IntrinsicBonus):
    """Bonus = first coordinate of next_obs; records every transition it is given."""

    def __init__(self, observation_space, action_space, eta: float = 1.0) -> None:
        super().__init__(observation_space, action_space, eta=eta)
        self.added: list[np.ndarray] = []
        self.trainings = 0

    def compute(self, obs, actions, next_obs):
        self.check_batch(obs, actions, next_obs)
        return np.asarray(next_obs, dtype=np.float32)[:, 0].copy()

    def add(self, obs, actions, next_obs):
        self.check_batch(obs, actions, next_obs)
        self.added.append(np.concatenate([np.asarray(obs), np.asarray(next_obs)], axis=1))

    def train(self):
        self.trainings += 1
        return {"loss": 0.0}

    def state_dict(self):
        return {"trainings": self.trainings, "eta": self.eta}

    def load_state_dict(self, state):
        self.trainings = int(state["trainings"])
        self.eta = float(state["eta"])


@pytest.fixture
def counter_env():
    return CounterEnv


@pytest.fixture
def next_obs_bonus():
    return NextObsBonus


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
