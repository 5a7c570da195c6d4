"""EpisodeRecorder: visitation over the env's own ranges, and the early-budget visits counted apart."""

import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

import envs  # noqa: F401
from agents.recorder import EpisodeRecorder


def test_early_visits_count_the_first_steps_only(tmp_path):
    venv = make_vec_env("SparseMountainCar-v0", n_envs=2, seed=0)
    recorder = EpisodeRecorder(tmp_path, early_budget=300)
    PPO("MlpPolicy", venv, n_steps=256, batch_size=64, n_epochs=1, seed=0).learn(512, callback=recorder)
    saved = np.load(tmp_path / "visitation.npz")
    # one visit per env per step; steps are counted after they happen (2 per vector step)
    assert saved["hist"].sum() == 512
    assert saved["hist_early"].sum() == 300
    assert int(saved["early_budget"]) == 300
    # -v0 declares gymnasium MountainCar's ranges
    np.testing.assert_allclose(saved["xedges"][[0, -1]], [-1.2, 0.6])
    np.testing.assert_allclose(saved["yedges"][[0, -1]], [-0.07, 0.07])


def test_visitation_uses_the_envs_own_ranges(tmp_path):
    venv = make_vec_env("SparseMountainCar-v1", n_envs=1, seed=0)
    recorder = EpisodeRecorder(tmp_path)
    PPO("MlpPolicy", venv, n_steps=128, batch_size=64, n_epochs=1, seed=0).learn(128, callback=recorder)
    saved = np.load(tmp_path / "visitation.npz")
    # the Box2D port's track runs from x = -2 to the goal at 0.6 (envs.mountain_car_v1)
    np.testing.assert_allclose(saved["xedges"][[0, -1]], [-2.0, 0.6])
    np.testing.assert_allclose(saved["yedges"][[0, -1]], [-2.0, 2.0])
    assert saved["hist"].sum() == 128


def test_visits_equal_a_brute_force_count_of_every_step(tmp_path):
    import gymnasium as gym

    seen: list[tuple[float, float]] = []

    class Spy(gym.Wrapper):
        def step(self, action):
            out = super().step(action)
            seen.append((out[4]["position"], out[4]["velocity"]))
            return out

    venv = make_vec_env("SparseMountainCar-v1", n_envs=2, seed=1, wrapper_class=Spy)
    recorder = EpisodeRecorder(tmp_path, bins=7, early_budget=200)
    PPO("MlpPolicy", venv, n_steps=96, batch_size=64, n_epochs=1, seed=0).learn(384, callback=recorder)
    saved = np.load(tmp_path / "visitation.npz")
    (x0, x1), (v0, v1) = (-2.0, 0.6), (-2.0, 2.0)

    def count(pairs):
        counts = np.zeros((7, 7), dtype=np.int64)
        for x, v in pairs:  # the last bin is closed on the right, as numpy's
            i = min(int((x - x0) / (x1 - x0) * 7), 6)
            j = min(int((v - v0) / (v1 - v0) * 7), 6)
            if x0 <= x <= x1 and v0 <= v <= v1:
                counts[i, j] += 1
        return counts

    np.testing.assert_array_equal(saved["hist"], count(seen))
    np.testing.assert_array_equal(saved["hist_early"], count(seen[:200]))
