"""CuriosityCallback with every on-policy algorithm, and the settings it must refuse or warn about."""

import numpy as np
import pytest
from gymnasium import spaces
from sb3_contrib import TRPO, MaskablePPO, RecurrentPPO
from sb3_contrib.common.wrappers import ActionMasker
from stable_baselines3 import A2C, DQN, PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from agents import CuriosityCallback, CuriosityReplayBuffer, CuriosityVecEnv
from agents.vec_env import INTRINSIC_KEY

GAMMA, LAM, ETA, LENGTH = 0.9, 0.8, 0.1, 4
ON_POLICY = {
    PPO: {"batch_size": 10, "n_epochs": 1},
    A2C: {},
    TRPO: {"batch_size": 10},
    MaskablePPO: {"batch_size": 10, "n_epochs": 1},
    RecurrentPPO: {"batch_size": 10, "n_epochs": 1},
}


def rollout_model(algo_cls, counter_env, next_obs_bonus, n_envs=2):
    """A rollout-mode model on the counter env (episodes of 4 steps) with a transparent bonus."""

    def make():
        env = counter_env(length=LENGTH, discrete=True)
        return ActionMasker(env, lambda _: np.array([True, True, False])) if algo_cls is MaskablePPO else env

    venv = DummyVecEnv([make] * n_envs)
    bonus = next_obs_bonus(venv.observation_space, venv.action_space, eta=ETA)
    policy = "MlpLstmPolicy" if algo_cls is RecurrentPPO else "MlpPolicy"
    model = algo_cls(policy, CuriosityVecEnv(venv, bonus, mode="rollout"), n_steps=10, gamma=GAMMA,
                     gae_lambda=LAM, seed=0, **ON_POLICY[algo_cls])  # fmt: skip
    return model, bonus


def spy_on_returns(buffer):
    """Record the arguments of every ``compute_returns_and_advantage`` call (the algorithm's come first)."""
    calls, original = [], buffer.compute_returns_and_advantage

    def spy(last_values, dones):
        calls.append((last_values.detach().numpy().ravel().copy(), np.array(dones, dtype=float)))
        return original(last_values=last_values, dones=dones)

    buffer.compute_returns_and_advantage = spy
    return calls


class Capture(BaseCallback):
    """Copies the rollout buffer after the callbacks before it rewrote it."""

    def __init__(self):
        super().__init__()
        self.rollouts, self.logged = [], []

    def _on_step(self):
        return True

    def _on_rollout_end(self):
        buf = self.model.rollout_buffer
        self.rollouts.append({k: getattr(buf, k).copy() for k in
                              ("rewards", "values", "episode_starts", "returns", "advantages")})  # fmt: skip
        self.logged.append(self.logger.name_to_value.get("rollout/ep_int_rew_mean"))


def hand_gae(rewards, values, starts, last_values, last_dones):
    adv, last = np.zeros_like(rewards), np.zeros(rewards.shape[1])
    for t in reversed(range(len(rewards))):
        nonterminal, next_v = (1.0 - last_dones, last_values) if t == len(rewards) - 1 else \
            (1.0 - starts[t + 1], values[t + 1])  # fmt: skip
        last = rewards[t] + GAMMA * next_v * nonterminal - values[t] + GAMMA * LAM * nonterminal * last
        adv[t] = last
    return adv


@pytest.mark.parametrize("algo_cls", list(ON_POLICY), ids=lambda c: c.__name__)
def test_rollout_rewrite_bootstraps_from_the_value_after_the_last_step(algo_cls, counter_env, next_obs_bonus):
    """Returns equal a hand GAE on the new rewards from V(s_T), the value the algorithm itself used
    (MaskablePPO and RecurrentPPO leave V(s_{T-1}) in the callback's locals)."""
    model, _ = rollout_model(algo_cls, counter_env, next_obs_bonus)
    calls = spy_on_returns(model.rollout_buffer)
    capture = Capture()
    model.learn(10, callback=[CuriosityCallback(), capture])
    got = capture.rollouts[0]
    last_values, last_dones = calls[0]  # the algorithm's own call, before the callbacks ran
    assert last_dones.tolist() == [0.0, 0.0]  # the rollout ends mid-episode: V(s_T) matters
    steps = np.arange(10)[:, None] * np.ones((1, 2))
    expected_rewards = (steps % LENGTH == LENGTH - 1) + ETA * (steps % LENGTH + 1)
    np.testing.assert_allclose(got["rewards"], expected_rewards, rtol=1e-6)
    adv = hand_gae(got["rewards"], got["values"], got["episode_starts"], last_values, last_dones)
    np.testing.assert_allclose(got["advantages"], adv, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["returns"], adv + got["values"], rtol=1e-5, atol=1e-6)


def test_intrinsic_episode_returns_are_logged_in_rollout_mode(counter_env, next_obs_bonus):
    """Each 4-step episode earns 0.1 * (1 + 2 + 3 + 4) = 1.0, also when it spans two rollouts."""
    model, _ = rollout_model(PPO, counter_env, next_obs_bonus)
    curiosity, capture = CuriosityCallback(), Capture()
    model.learn(40, callback=[curiosity, capture])  # two rollouts of 10 steps in each of 2 envs
    assert list(curiosity.int_returns) == pytest.approx([1.0] * 10)  # 2 envs x 20 steps / 4
    assert capture.logged == pytest.approx([1.0, 1.0])


def test_an_algorithm_whose_returns_cannot_be_reproduced_is_refused(counter_env, next_obs_bonus):
    model, _ = rollout_model(PPO, counter_env, next_obs_bonus)

    class Tamper(BaseCallback):  # stands for an algorithm that bootstraps from something else
        def _on_step(self):
            return True

        def _on_rollout_end(self):
            self.model.rollout_buffer.returns += 1.0

    with pytest.raises(ValueError, match=r"cannot reproduce PPO's returns .* use the wrapper's mode='step'"):
        model.learn(10, callback=[Tamper(), CuriosityCallback()])


@pytest.mark.parametrize(("algo_cls", "mode"), [(PPO, "rollout"), (DQN, "relabel")])
def test_reward_normalisation_above_the_wrapper_is_refused_outside_step_mode(algo_cls, mode, counter_env,
                                                                              next_obs_bonus):  # fmt: skip
    venv = DummyVecEnv([lambda: counter_env(discrete=True)])
    kwargs = {"n_steps": 8, "batch_size": 8} if algo_cls is PPO else \
        {"replay_buffer_class": CuriosityReplayBuffer, "learning_starts": 4}  # fmt: skip
    for norm_reward in (True, False):
        wrapper = CuriosityVecEnv(venv, next_obs_bonus(venv.observation_space, venv.action_space), mode=mode)
        model = algo_cls("MlpPolicy", VecNormalize(wrapper, norm_reward=norm_reward), seed=0, **kwargs)
        if norm_reward:
            with pytest.raises(ValueError, match=r"norm_reward=False\), or the wrapper's mode='step'"):
                model.learn(8, callback=CuriosityCallback(train_freq=4))
        else:
            model.learn(8, callback=CuriosityCallback(train_freq=4))


@pytest.mark.parametrize(("algo_cls", "mode"), [(PPO, "rollout"), (PPO, "step"), (DQN, "relabel")])
def test_without_the_callback_the_wrapper_warns_and_keeps_nothing(algo_cls, mode, counter_env,
                                                                   next_obs_bonus):  # fmt: skip
    venv = DummyVecEnv([lambda: counter_env(discrete=True)])
    wrapper = CuriosityVecEnv(venv, next_obs_bonus(venv.observation_space, venv.action_space), mode=mode)
    kwargs = {"n_steps": 8, "batch_size": 8} if algo_cls is PPO else {"learning_starts": 4}
    model = algo_cls("MlpPolicy", wrapper, seed=0, **kwargs)
    with pytest.warns(UserWarning, match=f"{mode!r} mode is stepped without a CuriosityCallback"):
        model.learn(32)
    assert wrapper.rollout == [] and wrapper.pending_raw == []


def test_with_the_callback_the_wrapper_keeps_one_rollout_at_most(counter_env, next_obs_bonus):
    model, _ = rollout_model(PPO, counter_env, next_obs_bonus)
    sizes = []

    class Size(BaseCallback):
        def _on_step(self):
            sizes.append(len(self.training_env.rollout))
            return True

    model.learn(30, callback=[CuriosityCallback(), Size()])
    assert max(sizes) == 10 and model.get_env().rollout == []
    assert not model.get_env().callback_attached  # stepping after learn() warns, keeps nothing


def test_step_mode_scales_by_stored_statistics_only(counter_env):
    """With one env the old rule divided each bonus by its own median: every bonus was exactly eta."""
    venv = DummyVecEnv([lambda: counter_env(length=50)])
    wrapper = CuriosityVecEnv(venv, "vime", mode="step",
                              bonus_kwargs={"eta": 0.5, "seed": 0, "min_pool_size": 1, "n_bonus_samples": 2})
    wrapper.callback_attached = True
    wrapper.reset()
    action = np.array([[0.3]], dtype=np.float32)
    _, _, _, infos = wrapper.step(action)
    assert infos[0][INTRINSIC_KEY] == 0.0  # no statistics stored yet
    wrapper.bonus.normalize(np.array([1.0, 2.0, 9.0]), update=True)  # stored medians: [2]
    wrapper.bonus.normalize(np.array([4.0]), update=True)  # [2, 4]
    raw = wrapper.bonus.compute(np.array([[1.0, 1.0]]), action, np.array([[2.0, 1.0]]))  # pure: same value
    _, _, _, infos = wrapper.step(action)
    assert raw[0] > 0 and infos[0][INTRINSIC_KEY] == pytest.approx(0.5 * raw[0] / 3.0, rel=1e-5)
    assert list(wrapper.bonus.medians) == [2.0, 4.0]  # step time moved nothing


def test_a_bonus_for_four_actions_refuses_an_env_with_three(counter_env, next_obs_bonus):
    venv = DummyVecEnv([lambda: counter_env(discrete=True)])  # Discrete(3)
    bonus = next_obs_bonus(venv.observation_space, spaces.Discrete(4))
    with pytest.raises(ValueError, match=r"built for actions Discrete\(4\), the env has Discrete\(3\)"):
        CuriosityVecEnv(venv, bonus)


def test_a_rollout_cut_short_by_a_stopping_callback_is_not_stitched_to_the_next(counter_env, next_obs_bonus):
    """SB3 drops a rollout that a callback stopped (its next collect_rollouts resets the buffer): learning on
    rewrites the next rollout from its own 10 steps only."""
    from stable_baselines3.common.callbacks import StopTrainingOnMaxEpisodes

    model, _ = rollout_model(PPO, counter_env, next_obs_bonus, n_envs=1)
    model.learn(40, callback=[CuriosityCallback(), StopTrainingOnMaxEpisodes(3)])  # stops at step 12
    assert model.num_timesteps == 12 and len(model.get_env().rollout) == 2
    capture = Capture()
    model.learn(10, callback=[CuriosityCallback(), capture], reset_num_timesteps=False)
    assert model.num_timesteps == 22 and len(capture.rollouts) == 1
    # steps 13..22 continue the counter (episode step 1 of 4 at step 13): bonus eta * s'[0] on each
    steps = np.arange(12, 22)[:, None]
    expected = (steps % LENGTH == LENGTH - 1) + ETA * (steps % LENGTH + 1)
    np.testing.assert_allclose(capture.rollouts[0]["rewards"], expected, rtol=1e-6)
