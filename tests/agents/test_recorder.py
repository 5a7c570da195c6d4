"""EpisodeRecorder: visitation over the env's own ranges, and the early-budget visits counted apart."""

import numpy as np
import pytest
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


def _rollout_model(counter_env, next_obs_bonus, lengths=(4, 3)):
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    from agents import CuriosityVecEnv

    venv = DummyVecEnv([lambda n=n: Monitor(counter_env(length=n)) for n in lengths])
    bonus = next_obs_bonus(venv.observation_space, venv.action_space, eta=0.1)
    return PPO("MlpPolicy", CuriosityVecEnv(venv, bonus, mode="rollout"), n_steps=10, batch_size=10,
               n_epochs=1, seed=0)


@pytest.mark.parametrize("order", ["after", "missing"])
def test_a_curiosity_callback_after_the_recorder_or_missing_is_refused(tmp_path, counter_env, next_obs_bonus,
                                                                        order):
    from agents import CuriosityCallback

    model = _rollout_model(counter_env, next_obs_bonus)
    curiosity = CuriosityCallback()
    recorder = EpisodeRecorder(tmp_path, curiosity=curiosity)
    callbacks = [recorder, curiosity] if order == "after" else [recorder]
    message = "must come before it" if order == "after" else "not among learn's callbacks"
    with pytest.raises(ValueError, match=message):
        model.learn(20, callback=callbacks)


def test_rollout_mode_rows_get_each_episodes_intrinsic_return(tmp_path, counter_env, next_obs_bonus):
    """Bonus 0.1 x steps taken: a 4-step episode earns 0.1 (1 + 2 + 3 + 4) = 1.0, a 3-step one 0.6, also when
    it spans two rollouts; a rollout's rows are in the file when it ends."""
    import csv

    from stable_baselines3.common.callbacks import BaseCallback

    from agents import CuriosityCallback

    model = _rollout_model(counter_env, next_obs_bonus)
    curiosity = CuriosityCallback()
    recorder = EpisodeRecorder(tmp_path, curiosity=curiosity)

    def read_rows():
        with open(tmp_path / "curve.csv") as f:
            return list(csv.DictReader(f))

    class FileAtRolloutEnd(BaseCallback):
        def __init__(self):
            super().__init__()
            self.rows = []

        def _on_step(self):
            return True

        def _on_rollout_end(self):
            self.rows.append(len(read_rows()))

    spy = FileAtRolloutEnd()
    model.learn(40, callback=[curiosity, recorder, spy])
    rows = read_rows()
    # env 0 ends episodes at steps 4, 8, 12, 16, 20; env 1 at 3, 6, ..., 18; 10 steps a rollout; at step 12
    # both end (env 0 first)
    assert spy.rows == [5, 11]
    assert [int(r["episode_length"]) for r in rows] == [3, 4, 3, 4, 3, 4, 3, 3, 4, 3, 4]
    for row in rows:
        assert float(row["intrinsic_return"]) == pytest.approx({4: 1.0, 3: 0.6}[int(row["episode_length"])])
    assert [int(r["timesteps"]) for r in rows] == sorted(int(r["timesteps"]) for r in rows)
