"""A small deterministic env and a transparent bonus, shared by the wrapper and SB3-glue tests; and a write
that dies half-way, for the tests of results that must be whole or absent."""

from __future__ import annotations

import builtins
import io

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from curiosity import IntrinsicBonus


class CounterEnv(gym.Env):
    """Observation ``[steps taken, 1]``; episodes terminate after ``length`` steps with reward 1."""

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
    """Bonus = first coordinate of ``next_obs``; records the transitions, normalisations and trainings."""

    def __init__(self, observation_space, action_space, eta=1.0) -> None:
        super().__init__(observation_space, action_space, eta=eta)
        self.added: list[tuple[float, float]] = []  # (s[0], s'[0]) per transition, in order
        self.normalized: list[np.ndarray] = []  # the raw bonuses folded into the statistics
        self.trainings = 0

    def compute(self, obs, actions, next_obs):
        self.check_batch(obs, actions, next_obs)
        return np.asarray(next_obs, dtype=np.float32)[:, 0].copy()

    def normalize(self, bonus, update=True):
        if update:
            self.normalized.append(np.array(bonus))
        return bonus

    def add(self, obs, actions, next_obs):
        self.check_batch(obs, actions, next_obs)
        self.added += list(
            zip(np.asarray(obs)[:, 0].tolist(), np.asarray(next_obs)[:, 0].tolist(), strict=True)
        )

    def train(self):
        self.trainings += 1
        return {"loss": float(self.trainings)}

    def state_dict(self):
        return {"trainings": self.trainings}

    def load_state_dict(self, state):
        self.trainings = int(state["trainings"])


def killed_while_writing(monkeypatch, name):
    """Every file whose path contains ``name`` opened for writing gets half its data, then the process is
    'killed' (KeyboardInterrupt), as a kill or a full disk would leave it."""
    real_open = io.open

    class Dying:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            raise KeyboardInterrupt(f"killed while writing {name}")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def __getattr__(self, attr):
            return getattr(self.handle, attr)

    def dying_open(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        return Dying(handle) if "w" in mode and name in str(file) else handle

    monkeypatch.setattr(io, "open", dying_open)
    monkeypatch.setattr(builtins, "open", dying_open)
