"""VIME through every supported SB3 algorithm, VecNormalize, parallel envs, Box and Discrete actions."""

import numpy as np
import pytest
from gymnasium import spaces
from sb3_contrib import TRPO
from stable_baselines3 import A2C, DQN, PPO, SAC, TD3
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from agents import CuriosityCallback, CuriosityReplayBuffer, CuriosityVecEnv
from agents.vec_env import EPISODE_KEY
from curiosity import VIME
from tests.fakes import CounterEnv, NextObsBonus

# a small, fast VIME: trains on whatever it has after each rollout
FAST_VIME = {"n_updates": 5, "min_pool_size": 1, "batch_size": 8, "n_bonus_samples": 2, "seed": 0}


class EpisodeLog:
    """Collects the Monitor and curiosity episode records seen in infos."""

    def __init__(self):
        self.monitor, self.curiosity = [], []


def run(algo_cls, env, mode, n_envs=1, algo_kwargs=None, steps=96, normalize=False, env_kwargs=None):
    venv = make_vec_env(env, n_envs=n_envs, seed=0, env_kwargs=env_kwargs)
    wrapper = CuriosityVecEnv(venv, "vime", mode=mode, bonus_kwargs={"eta": 0.1, **FAST_VIME})
    top = VecNormalize(wrapper) if normalize else wrapper
    model = algo_cls("MlpPolicy", top, seed=0, **(algo_kwargs or {}))
    model.learn(steps, callback=CuriosityCallback(train_freq=32))
    return model, wrapper


ON_POLICY = {"n_steps": 16}
OFF_POLICY = {"learning_starts": 16, "batch_size": 16, "train_freq": 8, "gradient_steps": 1}


@pytest.mark.parametrize(
    ("algo_cls", "env", "mode", "kwargs"),
    [
        (PPO, "Pendulum-v1", "rollout", {**ON_POLICY, "batch_size": 16, "n_epochs": 1}),
        (PPO, "CartPole-v1", "step", {**ON_POLICY, "batch_size": 16, "n_epochs": 1}),
        (A2C, "Pendulum-v1", "rollout", ON_POLICY),
        (TRPO, "Pendulum-v1", "rollout", {**ON_POLICY, "batch_size": 16}),
        (SAC, "Pendulum-v1", "relabel", {**OFF_POLICY, "replay_buffer_class": CuriosityReplayBuffer}),
        (TD3, "Pendulum-v1", "step", OFF_POLICY),
        (DQN, "CartPole-v1", "relabel", {**OFF_POLICY, "replay_buffer_class": CuriosityReplayBuffer}),
    ],
)
def test_every_algorithm_learns_with_vime(algo_cls, env, mode, kwargs):
    model, wrapper = run(algo_cls, env, mode, n_envs=2, algo_kwargs=kwargs)
    bonus = wrapper.bonus
    assert model.num_timesteps >= 96
    assert len(bonus.pool) > 0
    assert len(bonus.medians) > 0  # normalisation statistics were updated when training
    if mode == "relabel":
        assert model.replay_buffer.bonus is bonus


def test_vecnormalize_outside_scales_both_and_monitor_keeps_extrinsic():
    venv = make_vec_env("Pendulum-v1", n_envs=2, seed=0)
    wrapper = CuriosityVecEnv(venv, "vime", mode="step", bonus_kwargs={"eta": 10.0, **FAST_VIME})
    wrapper.learning = False
    wrapper.bonus.normalize(np.array([1e-3]), update=True)  # a stored scale: step bonuses use no other
    env = VecNormalize(wrapper, norm_obs=True, norm_reward=True)
    env.reset()
    ext_sum = np.zeros(2)
    for _ in range(200):
        _, _, dones, infos = env.step(np.random.default_rng(0).uniform(-2, 2, (2, 1)).astype(np.float32))
        ext_sum += [info["extrinsic_reward"] for info in infos]
        if dones.any():
            break
    assert dones.all()  # Pendulum truncates both envs at 200 steps
    for i, info in enumerate(infos):
        assert info["episode"]["r"] == pytest.approx(ext_sum[i], rel=1e-4)  # Monitor: extrinsic only
        assert info[EPISODE_KEY]["r_ext"] == pytest.approx(ext_sum[i], rel=1e-4)
        assert info[EPISODE_KEY]["r_int"] > 0


def test_discrete_actions_reach_the_bonus_one_hot():
    _, wrapper = run(PPO, "CartPole-v1", "rollout", algo_kwargs={**ON_POLICY, "batch_size": 16})
    assert wrapper.bonus.action_dim == 2
    assert wrapper.bonus.pool.data["actions"][: len(wrapper.bonus.pool)].sum(1).eq(1).all()


def test_relabelled_samples_add_the_current_bonus_to_the_stored_reward():
    venv = DummyVecEnv([lambda: __import__("gymnasium").make("Pendulum-v1")])
    bonus = VIME(venv.observation_space, venv.action_space, eta=0.5, **FAST_VIME)
    buffer = CuriosityReplayBuffer(50, venv.observation_space, venv.action_space, n_envs=1)
    rng = np.random.default_rng(0)
    for _ in range(20):
        obs = rng.normal(size=(1, 3)).astype(np.float32)
        action = rng.uniform(-1, 1, (1, 1)).astype(np.float32)  # stored scaled to [-1, 1]
        buffer.add(obs, obs + 0.1, action, np.array([-1.0]), np.array([False]), [{}])
    np.random.seed(3)  # noqa: NPY002 (SB3 samples with the legacy global RNG)
    plain = buffer.sample(8)
    buffer.attach(bonus)
    noise_state = bonus.generator.get_state()
    np.random.seed(3)  # noqa: NPY002
    relabelled = buffer.sample(8)
    bonus.generator.set_state(noise_state)  # the same Monte Carlo noise for the expected values
    np.testing.assert_array_equal(plain.observations.numpy(), relabelled.observations.numpy())
    env_actions = 2.0 * plain.actions.numpy()  # Pendulum's torque range is [-2, 2]
    expected = -1.0 + bonus(plain.observations.numpy(), env_actions, plain.next_observations.numpy(),
                            update_stats=False)  # fmt: skip
    np.testing.assert_allclose(relabelled.rewards.numpy().ravel(), expected, rtol=1e-5)


@pytest.mark.parametrize("action_space", [spaces.Box(-2, 2, (1,), np.float32), spaces.Discrete(3, start=-1)])
def test_relabelling_with_two_envs_reads_the_rows_sb3_sampled(action_space):
    """Bonus = s'[0], and each env's states and rewards differ: a relabelled reward is the stored reward of
    the row SB3 sampled plus eta * that row's s'[0] only if the wrapper found the env SB3 drew."""
    obs_space = spaces.Box(-1e3, 1e3, (2,), np.float32)
    buffer = CuriosityReplayBuffer(40, obs_space, action_space, n_envs=2)
    rng = np.random.default_rng(0)
    for t in range(30):
        obs = np.array([[t, 0.0], [500.0 + t, 1.0]], dtype=np.float32)
        action = (rng.uniform(-1, 1, (2, 1)) if isinstance(action_space, spaces.Box)
                  else rng.integers(-1, 2, (2, 1))).astype(action_space.dtype)  # fmt: skip
        buffer.add(obs, obs + 0.5, action, np.array([0.01 * t, -1.0 - t]), np.array([False, False]), [{}, {}])
    np.random.seed(7)  # noqa: NPY002 (SB3 samples with the legacy global RNG)
    plain = buffer.sample(32)
    buffer.attach(NextObsBonus(obs_space, action_space, eta=0.5))
    np.random.seed(7)  # noqa: NPY002
    relabelled = buffer.sample(32)
    next_obs = plain.next_observations.numpy()
    assert (next_obs[:, 0] > 500).any() and (next_obs[:, 0] < 500).any()  # both envs were sampled
    np.testing.assert_array_equal(relabelled.next_observations.numpy(), next_obs)
    expected = plain.rewards.numpy().ravel() + 0.5 * next_obs[:, 0]
    np.testing.assert_allclose(relabelled.rewards.numpy().ravel(), expected, rtol=1e-6)


def test_off_policy_step_mode_stores_the_bonus_and_trains_every_train_freq_steps():
    """TD3, two CounterEnvs of 5 steps: each stored reward is the extrinsic one (1 on the 5th step) plus
    eta * s'[0]; the bonus trains once per 32 environment steps (at 32, 64 and 96 of 96)."""
    venv = DummyVecEnv([lambda: CounterEnv(length=5), lambda: CounterEnv(length=5)])
    bonus = NextObsBonus(venv.observation_space, venv.action_space, eta=0.25)
    model = TD3("MlpPolicy", CuriosityVecEnv(venv, bonus, mode="step"), seed=0, **OFF_POLICY)
    model.learn(96, callback=CuriosityCallback(train_freq=32))
    assert bonus.trainings == 3
    rows = model.replay_buffer.pos
    next_first = model.replay_buffer.next_observations[:rows, :, 0]
    np.testing.assert_allclose(model.replay_buffer.rewards[:rows], (next_first == 5) + 0.25 * next_first)
    assert (next_first == 5).sum() == 2 * (48 // 5)  # each env ended 9 episodes in its 48 steps


def test_a_resumed_off_policy_run_trains_the_bonus_on_its_cadence():
    """Learning on from step 1,000 (as a resumed run does): one training, at 1,032, not one at once too."""
    venv = DummyVecEnv([lambda: CounterEnv(length=5), lambda: CounterEnv(length=5)])
    bonus = NextObsBonus(venv.observation_space, venv.action_space)
    model = TD3("MlpPolicy", CuriosityVecEnv(venv, bonus, mode="step"), seed=0, **OFF_POLICY)
    model.num_timesteps = 1000
    model.learn(48, callback=CuriosityCallback(train_freq=32), reset_num_timesteps=False)
    assert model.num_timesteps == 1048 and bonus.trainings == 1
