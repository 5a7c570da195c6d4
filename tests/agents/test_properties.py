"""Property-based: the wrapper, driven with random spaces and shapes, fails only with named errors."""

import gymnasium as gym
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stable_baselines3.common.vec_env import DummyVecEnv

from agents import CuriosityVecEnv

SMALL = {"n_updates": 1, "min_pool_size": 1, "n_bonus_samples": 1, "seed": 0}


def box(shape, dtype):
    low, high = (0, 255) if dtype == np.uint8 else (-1.0, 1.0)
    return gym.spaces.Box(low, high, shape, dtype=dtype)


shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)
boxes = st.builds(box, shapes, st.sampled_from([np.float32, np.float64, np.uint8]))
observation_spaces = st.one_of(
    boxes,
    st.builds(gym.spaces.Discrete, st.integers(2, 5)),
    st.builds(gym.spaces.MultiBinary, st.integers(1, 4)),
    st.builds(lambda b: gym.spaces.Dict({"x": b}), boxes),
    st.builds(lambda b: gym.spaces.Tuple((b, b)), boxes),
)
action_spaces = st.one_of(
    st.builds(box, st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple), st.just(np.float32)),
    st.builds(gym.spaces.Discrete, st.integers(1, 5)),
    st.builds(gym.spaces.MultiDiscrete, st.lists(st.integers(2, 3), min_size=1, max_size=2)),
    st.builds(gym.spaces.MultiBinary, st.integers(1, 3)),
)


class SpaceEnv(gym.Env):
    """Emits samples of arbitrary spaces; episodes of 3 steps."""

    def __init__(self, observation_space, action_space):
        self.observation_space, self.action_space = observation_space, action_space
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.observation_space.seed(seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        self.t += 1
        return self.observation_space.sample(), 0.0, self.t >= 3, False, {}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(observation_spaces, action_spaces, st.sampled_from(["vime", "rnd", "simhash"]), st.integers(1, 2))
def test_random_spaces_either_work_or_raise_a_named_error(obs_space, act_space, bonus, n_envs):
    venv = DummyVecEnv([lambda: SpaceEnv(obs_space, act_space) for _ in range(n_envs)])
    kwargs = SMALL if bonus == "vime" else {"seed": 0}
    try:
        env = CuriosityVecEnv(venv, bonus, bonus_kwargs=kwargs)
    except (TypeError, ValueError) as error:
        assert any(word in str(error) for word in ("support", "accept", "shape", "images", "must"))
        return
    env.reset()
    for _ in range(4):
        _, rewards, _, infos = env.step(np.array([act_space.sample() for _ in range(n_envs)]))
        assert np.all(np.isfinite(rewards))
        assert all(np.isfinite(info["intrinsic_reward"]) for info in infos)
    env.bonus.train()
