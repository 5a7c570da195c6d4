"""The gymnasium wrappers against the SB3 glue, hand-computed transitions and gymnasium's env checker."""

from __future__ import annotations

import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from curiosity import ICM, RND, VIME, CuriosityVectorWrapper, CuriosityWrapper, Disagreement, SimHash
from curiosity.e3b import E3B
from curiosity.ngu import NGU
from curiosity.re3 import RE3
from curiosity.ride import RIDE
from curiosity.wrappers import EXTRINSIC_KEY, INTRINSIC_KEY
from tests.fakes import CounterEnv, NextObsBonus

torch.set_num_threads(1)

_TRAIN = {"batch_size": 16, "gradient_steps": 2, "buffer_size": 64}

#: small, fast configurations of every bonus (as in test_bonus_contract.py)
FACTORIES = {
    "vime": lambda o, a: VIME(
        o,
        a,
        eta=0.1,
        hidden_sizes=(16,),
        learning_rate=3e-3,
        n_updates=20,
        batch_size=8,
        min_pool_size=1,
        n_bonus_samples=2,
        seed=0,
    ),
    "rnd": lambda o, a: RND(o, a, feature_dim=16, hidden_sizes=(32,), seed=0, **_TRAIN),
    "icm": lambda o, a: ICM(
        o, a, feature_dim=16, encoder_hidden_sizes=(32,), hidden_dim=32, seed=0, **_TRAIN
    ),
    "disagreement": lambda o, a: Disagreement(
        o, a, n_models=3, hidden_sizes=(32,), feature_dim=16, seed=0, **_TRAIN
    ),
    "simhash": lambda o, a: SimHash(o, a, k=16, seed=0),
    "e3b": lambda o, a: E3B(o, a, feature_dim=8, hidden_sizes=(32,), hidden_dim=32, seed=0, **_TRAIN),
    "re3": lambda o, a: RE3(o, a, feature_dim=8, hidden_sizes=(32,), memory_size=64, seed=0),
    "ride": lambda o, a: RIDE(
        o, a, feature_dim=16, encoder_hidden_sizes=(32,), hidden_dim=32, seed=0, **_TRAIN
    ),
    "ngu": lambda o, a: NGU(
        o, a, feature_dim=8, hidden_sizes=(32,), hidden_dim=32, rnd_feature_dim=16, seed=0, **_TRAIN
    ),
}


class EpisodicBonus(NextObsBonus):
    """A bonus that takes the transitions' episode ends, as episodic bonuses do."""

    episodic = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.dones_seen: list[bool] = []
        self.resets = 0

    def compute(self, obs, actions, next_obs, dones=None):
        return super().compute(obs, actions, next_obs)

    def add(self, obs, actions, next_obs, dones=None):
        super().add(obs, actions, next_obs)
        self.dones_seen += np.asarray(dones).tolist()

    def advance(self, obs, actions, next_obs, dones=None):
        self.dones_seen += np.asarray(dones).tolist()

    def reset_episodes(self, envs=None):
        self.resets += 1


def counter_spaces():
    env = CounterEnv()
    return env.observation_space, env.action_space


def counter_vec(lengths, mode: AutoresetMode) -> SyncVectorEnv:
    return SyncVectorEnv([lambda n=n: CounterEnv(n) for n in lengths], autoreset_mode=mode)


def wrap_counters(lengths, mode, bonus_cls=NextObsBonus, eta=0.5, train_freq=1000):
    venv = counter_vec(lengths, mode)
    bonus = bonus_cls(venv.single_observation_space, venv.single_action_space, eta=eta)
    return CuriosityVectorWrapper(venv, bonus, train_freq=train_freq), bonus


def zeros(n: int) -> np.ndarray:
    return np.zeros((n, 1), dtype=np.float32)


# -- the same transitions give the same rewards and the same bonus as the SB3 glue ---------------------------


def sb3_run(env_id: str, env_kwargs: dict, bonus_name: str, n_envs: int, n_steps: int, rollouts: int):
    """PPO with CuriosityVecEnv (step mode) and CuriosityCallback: actions taken and rewards returned."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecEnvWrapper

    from agents import CuriosityCallback, CuriosityVecEnv

    class Record(VecEnvWrapper):
        """Logs the actions going down (``log_actions``) or the rewards coming up."""

        def __init__(self, venv, log, log_actions):
            super().__init__(venv)
            self.log, self.log_actions = log, log_actions

        def reset(self):
            return self.venv.reset()

        def step_async(self, actions):
            if self.log_actions:
                self.log.append(np.array(actions, copy=True))
            self.venv.step_async(actions)

        def step_wait(self):
            out = self.venv.step_wait()
            if not self.log_actions:
                self.log.append(np.array(out[1], copy=True))
            return out

    actions, rewards = [], []
    venv = make_vec_env(env_id, n_envs=n_envs, env_kwargs=env_kwargs)
    bonus = FACTORIES[bonus_name](venv.observation_space, venv.action_space)
    env = Record(CuriosityVecEnv(Record(venv, actions, True), bonus), rewards, False)
    model = PPO("MlpPolicy", env, n_steps=n_steps, batch_size=n_steps, n_epochs=1, seed=0)
    model.learn(n_steps * n_envs * rollouts, callback=CuriosityCallback())
    return actions, np.array(rewards), bonus


def state_equal(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(state_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(state_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    return a == b


CASES = [("Pendulum-v1", name) for name in FACTORIES] + [("CartPole-v1", "rnd")]


def replay_vector(env_id, kwargs, bonus_name, actions, train_freq):
    venv = gym.make_vec(
        env_id, len(actions[0]), "sync", vector_kwargs={"autoreset_mode": "SameStep"}, **kwargs
    )
    bonus = FACTORIES[bonus_name](venv.single_observation_space, venv.single_action_space)
    env = CuriosityVectorWrapper(venv, bonus, train_freq=train_freq)
    env.reset(seed=0)  # PPO(seed=0) seeds SB3's envs 0, 1, ...
    return [env.step(a) for a in actions], bonus


def replay_single(env_id, kwargs, bonus_name, actions, train_freq):
    inner = gym.make(env_id, **kwargs)
    bonus = FACTORIES[bonus_name](inner.observation_space, inner.action_space)
    env = CuriosityWrapper(inner, bonus, train_freq=train_freq)
    env.reset(seed=0)
    steps = []
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(a[0])
        steps.append((obs, np.array([reward]), np.array([terminated]), np.array([truncated]), info))
        if terminated or truncated:
            env.reset()
    return steps, bonus


@pytest.mark.parametrize("kind", ["vector", "single"])
@pytest.mark.parametrize(("env_id", "bonus_name"), CASES, ids=[f"{e}-{b}" for e, b in CASES])
def test_wrappers_match_the_sb3_glue(env_id, bonus_name, kind):
    """Same transitions (SB3's auto-reset = gymnasium's SAME_STEP), same rewards, same bonus state after."""
    n_envs, n_steps, rollouts = (2, 16, 3) if kind == "vector" else (1, 24, 3)
    kwargs = {"max_episode_steps": 10} if env_id == "Pendulum-v1" else {}  # episodes end within the run
    actions, sb3_rewards, sb3_bonus = sb3_run(env_id, kwargs, bonus_name, n_envs, n_steps, rollouts)
    replay = replay_vector if kind == "vector" else replay_single
    steps, bonus = replay(env_id, kwargs, bonus_name, actions, train_freq=n_steps * n_envs)
    rewards = np.array([step[1] for step in steps])
    assert np.any([step[2] | step[3] for step in steps])  # episode ends happened
    assert np.all(rewards[-1] != steps[-1][4][EXTRINSIC_KEY])  # bonuses were added
    np.testing.assert_allclose(rewards, sb3_rewards, rtol=1e-5, atol=1e-6)
    assert state_equal(bonus.state_dict(), sb3_bonus.state_dict())


# -- final observations at episode ends, in every autoreset mode -------------------------------------------


def test_next_step_mode_pairs_final_observations_and_skips_reset_steps():
    env, bonus = wrap_counters([2, 3], AutoresetMode.NEXT_STEP)
    env.reset(seed=0)
    rewards, ext, intr = [], [], []
    for _ in range(6):
        _, r, _, _, info = env.step(zeros(2))
        rewards.append(r)
        ext.append(info[EXTRINSIC_KEY])
        intr.append(info[INTRINSIC_KEY])
    # env 0 (length 2): 0->1, 1->2 (end), reset step, 0->1, 1->2 (end), reset step
    # env 1 (length 3): 0->1, 1->2, 2->3 (end), reset step, 0->1, 1->2
    assert bonus.added == [(0, 1), (0, 1), (1, 2), (1, 2), (2, 3), (0, 1), (1, 2), (0, 1), (1, 2)]
    expected_intrinsic = 0.5 * np.array([[1, 1], [2, 2], [0, 3], [1, 0], [2, 1], [0, 2]])
    expected_extrinsic = np.array([[0, 0], [1, 0], [0, 1], [0, 0], [1, 0], [0, 0]])
    np.testing.assert_allclose(intr, expected_intrinsic)
    np.testing.assert_array_equal(ext, expected_extrinsic)
    np.testing.assert_allclose(rewards, expected_extrinsic + expected_intrinsic)


def test_same_step_mode_uses_info_final_obs():
    env, bonus = wrap_counters([2, 3], AutoresetMode.SAME_STEP)
    env.reset(seed=0)
    intr = [env.step(zeros(2))[4][INTRINSIC_KEY] for _ in range(4)]
    # every step is a transition; at the ends s' is the final observation, not the reset one (0)
    assert bonus.added == [(0, 1), (0, 1), (1, 2), (1, 2), (0, 1), (2, 3), (1, 2), (0, 1)]
    np.testing.assert_allclose(intr, 0.5 * np.array([[1, 1], [2, 2], [1, 3], [2, 1]]))


def test_disabled_mode_follows_masked_resets():
    env, bonus = wrap_counters([2, 3], AutoresetMode.DISABLED)
    env.reset(seed=0)
    env.step(zeros(2))
    _, _, terminated, _, _ = env.step(zeros(2))
    env.reset(options={"reset_mask": terminated})  # env 0 restarts, env 1 carries on from 2
    env.step(zeros(2))
    assert bonus.added == [(0, 1), (0, 1), (1, 2), (1, 2), (0, 1), (2, 3)]


@pytest.mark.parametrize("bonus_cls", [E3B, RIDE])  # (NGU also keeps running distance statistics)
def test_disabled_mode_a_masked_reset_mid_episode_forgets_that_envs_memory_only(bonus_cls):
    venv = counter_vec([5, 5], AutoresetMode.DISABLED)
    bonus = bonus_cls(venv.single_observation_space, venv.single_action_space, seed=0)
    env = CuriosityVectorWrapper(venv, bonus, train_freq=10_000)  # no training: the networks stay as they are
    first_obs, _ = env.reset(seed=0)
    first_next = first_obs + np.array([1.0, 0.0], dtype=np.float32)  # every counter's first transition
    fresh = bonus.compute(first_obs, zeros(2), first_next, dones=np.zeros(2, dtype=bool))  # memories empty
    env.step(zeros(2))
    env.step(zeros(2))
    env.reset(options={"reset_mask": np.array([True, False])})  # env 0 restarts before its episode's end
    again = bonus.compute(first_obs, zeros(2), first_next, dones=np.zeros(2, dtype=bool))
    np.testing.assert_allclose(again[0], fresh[0], rtol=1e-6)  # env 0 starts with an empty memory
    assert not np.isclose(again[1], fresh[1])  # env 1 still remembers its two states
    with pytest.raises(ValueError, match="tracking 2 parallel episodes, got a reset mask of length 3"):
        bonus.reset_episodes(np.ones(3, dtype=bool))


def test_episodic_bonuses_get_the_episode_ends_and_forget_at_reset():
    env, bonus = wrap_counters([2, 3], AutoresetMode.SAME_STEP, bonus_cls=EpisodicBonus)
    env.reset(seed=0)
    assert bonus.resets == 1
    for _ in range(3):
        env.step(zeros(2))
    # (0,1) (0,1) | (1,2) end, (1,2) | (0,1), (2,3) end
    assert bonus.dones_seen == [False, False, True, False, False, True]
    single = CuriosityWrapper(CounterEnv(2), EpisodicBonus(*counter_spaces()))
    for _ in range(2):  # a reset after an episode's end: its memory is fresh already
        single.reset(seed=0)
        single.step(np.zeros(1, dtype=np.float32))
        single.step(np.zeros(1, dtype=np.float32))
    assert single.bonus.dones_seen == [False, True] * 2 and single.bonus.resets == 1
    single.reset(seed=0)
    single.step(np.zeros(1, dtype=np.float32))
    single.reset(seed=0)  # cuts an episode short
    assert single.bonus.resets == 2


def test_without_learning_episodic_memories_still_follow_the_episodes():
    venv = counter_vec([2, 3], AutoresetMode.SAME_STEP)
    small = {"feature_dim": 6, "hidden_sizes": (16,), "hidden_dim": 16, "normalize_bonus": False, "seed": 0}
    env = CuriosityVectorWrapper(venv, E3B(venv.single_observation_space, venv.single_action_space, **small))
    env.learning = False
    obs, _ = env.reset(seed=0)
    rows, intrinsic = [], []
    for t in range(7):
        actions = np.full((2, 1), 0.1 * t, dtype=np.float32)
        new_obs, _, terminated, truncated, info = env.step(actions)
        ends = terminated | truncated
        next_obs = np.stack([info["final_obs"][i] if end else new_obs[i] for i, end in enumerate(ends)])
        rows.append((obs, actions, next_obs, ends))
        intrinsic.append(info[INTRINSIC_KEY])
        obs = new_obs
    obs, actions, next_obs, dones = (np.stack(parts) for parts in zip(*rows, strict=True))
    fresh = E3B(venv.single_observation_space, venv.single_action_space, **small)
    flat = [x.reshape(14, -1) for x in (obs, actions, next_obs)]
    np.testing.assert_allclose(intrinsic, fresh.compute(*flat, dones=dones).reshape(7, 2), rtol=1e-5)
    assert len(env.bonus.pool) == 0 and env.bonus.n_updates == 0


def test_episodic_bonuses_refuse_next_step_autoreset():
    with pytest.raises(ValueError, match=r"EpisodicBonus is episodic.*AutoresetMode\.SAME_STEP"):
        wrap_counters([2, 3], AutoresetMode.NEXT_STEP, bonus_cls=EpisodicBonus)


# -- training schedule, persistence, checks -----------------------------------------------------------------


def test_trains_every_train_freq_env_steps_after_folding_in_the_raw_bonuses():
    env, bonus = wrap_counters([100, 100], AutoresetMode.NEXT_STEP, train_freq=5)
    env.reset(seed=0)
    for _ in range(6):  # 12 env steps: trainings after vector steps 3 (6 >= 5) and 6
        env.step(zeros(2))
    assert bonus.trainings == 2
    assert [b.tolist() for b in bonus.normalized] == [[1, 1, 2, 2, 3, 3], [4, 4, 5, 5, 6, 6]]
    assert env.train_metrics == {"loss": 2.0}
    env.learning = False
    env.step(zeros(2))
    assert len(bonus.added) == 12 and bonus.trainings == 2


def test_next_step_reset_steps_count_towards_the_schedule():
    """Envs ending together make a vector step of resets only: it still counts, so a rollout-sized
    ``train_freq`` keeps training at the rollout's last step."""
    env, bonus = wrap_counters([2, 2], AutoresetMode.NEXT_STEP, train_freq=6)
    env.reset(seed=0)
    for _ in range(3):
        env.step(zeros(2))
    assert bonus.trainings == 1
    assert [b.tolist() for b in bonus.normalized] == [[1, 1, 2, 2]]


def test_a_scheduled_eta_follows_the_steps_done_of_total_timesteps():
    """eta(p) = 2 p with p = 1 - (steps before this one) / 10, as SB3 computes its progress; clipped at 0
    past the end, frozen while not learning, and restored with the wrapper's state."""
    from curiosity.schedules import linear

    space = CounterEnv().observation_space, CounterEnv().action_space
    env = CuriosityWrapper(CounterEnv(length=100), NextObsBonus(*space, eta=linear(2.0)), total_timesteps=10)
    env.reset(seed=0)
    intrinsic = [env.step(np.zeros(1, dtype=np.float32))[4][INTRINSIC_KEY] for _ in range(12)]
    # step t (1-based) sees next_obs[0] = t and progress 1 - (t - 1) / 10
    expected = [2.0 * max(0.0, 1 - (t - 1) / 10) * t for t in range(1, 13)]
    np.testing.assert_allclose(intrinsic, expected, rtol=1e-6)
    env.learning = False
    assert env.step(np.zeros(1, dtype=np.float32))[4][INTRINSIC_KEY] == 0.0 and env.steps_done == 12

    vector = CuriosityVectorWrapper(
        counter_vec([100, 100], AutoresetMode.NEXT_STEP), NextObsBonus(*space, eta=linear(1.0)),
        total_timesteps=8,
    )  # fmt: skip
    vector.reset(seed=0)
    for _ in range(2):  # 4 env steps: progress 1/2
        vector.step(zeros(2))
    assert vector.bonus.eta == pytest.approx(0.5)
    state = vector.state_dict()
    twin = CuriosityVectorWrapper(
        counter_vec([100, 100], AutoresetMode.NEXT_STEP), NextObsBonus(*space, eta=linear(1.0)),
        total_timesteps=8,
    )  # fmt: skip
    assert twin.bonus.eta == pytest.approx(1.0)
    twin.load_state_dict(state)
    assert twin.steps_done == 4 and twin.bonus.eta == pytest.approx(0.5)
    for bad in (0, -1, 2.5, True):
        message = f"total_timesteps must be a positive integer or None, got {bad!r}"
        with pytest.raises(ValueError, match=message):
            CuriosityWrapper(CounterEnv(), "simhash", total_timesteps=bad)


def test_single_env_wrapper_passes_gymnasiums_env_checker():
    from envs.mountain_car import SparseMountainCarEnv

    env = CuriosityWrapper(SparseMountainCarEnv(), "vime", bonus_kwargs={"seed": 0, "hidden_sizes": (8,)})
    # The checker steps twice from one seed and wants equal rewards: a learning bonus pays less the second
    # time by design, so it checks the wrapper with the bonus frozen (computing, not storing).
    env.learning = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=".*is different from the unwrapped version.*")
        check_env(env, skip_render_check=True)


def test_state_round_trips_through_save_and_load(tmp_path):
    def make():
        venv = gym.make_vec("Pendulum-v1", 2, "sync", max_episode_steps=10)
        bonus = FACTORIES["rnd"](venv.single_observation_space, venv.single_action_space)
        env = CuriosityVectorWrapper(venv, bonus, train_freq=8)
        env.reset(seed=0)
        return env

    env, twin = make(), make()
    actions = np.random.default_rng(0).uniform(-2, 2, (8, 2, 1)).astype(np.float32)
    for a in actions[:5]:  # 10 env steps: one training, one step's raw bonuses pending
        env.step(a)
    env.save(tmp_path / "bonus.pt")
    twin.learning = False  # bring the twin's envs to the same state without moving its bonus
    for a in actions[:5]:
        twin.step(a)
    twin.learning = True
    twin.load(tmp_path / "bonus.pt")
    assert state_equal(twin.state_dict(), env.state_dict())
    for a in actions[5:]:  # the next training (at 16 env steps) happens in both
        np.testing.assert_array_equal(twin.step(a)[4][INTRINSIC_KEY], env.step(a)[4][INTRINSIC_KEY])
    assert state_equal(twin.bonus.state_dict(), env.bonus.state_dict())
    assert twin.bonus.n_updates > 1


def test_files_of_the_sb3_glue_load_and_other_bonuses_are_refused(tmp_path):
    from agents import load_bonus, save_bonus

    venv = counter_vec([3], AutoresetMode.NEXT_STEP)
    space = (venv.single_observation_space, venv.single_action_space)
    source = FACTORIES["simhash"](*space)
    source.add(np.ones((4, 2)), np.zeros((4, 1)), np.ones((4, 2)))
    save_bonus(source, tmp_path / "glue.pt")
    env = CuriosityVectorWrapper(venv, FACTORIES["simhash"](*space))
    env.load(tmp_path / "glue.pt")
    assert state_equal(env.bonus.state_dict(), source.state_dict())
    env.save(tmp_path / "wrapper.pt")
    assert state_equal(
        load_bonus(FACTORIES["simhash"](*space), tmp_path / "wrapper.pt").state_dict(), source.state_dict()
    )
    other = CuriosityVectorWrapper(counter_vec([3], AutoresetMode.NEXT_STEP), FACTORIES["rnd"](*space))
    with pytest.raises(ValueError, match="holds a SimHash, not a RND"):
        other.load(tmp_path / "wrapper.pt")


def test_bad_input_is_named():
    venv = counter_vec([3], AutoresetMode.NEXT_STEP)
    space = (venv.single_observation_space, venv.single_action_space)
    for bad in (0, -5, 2.5, True, "10"):
        with pytest.raises(ValueError, match=f"train_freq must be a positive integer.*got {bad!r}"):
            CuriosityVectorWrapper(venv, "simhash", train_freq=bad)
    with pytest.raises(
        TypeError, match=r"bonus must be a curiosity\.IntrinsicBonus or a bonus name.*got dict"
    ):
        CuriosityVectorWrapper(venv, {"name": "vime"})
    with pytest.raises(ValueError, match="unknown bonus 'curious'"):
        CuriosityVectorWrapper(venv, "curious")
    with pytest.raises(ValueError, match="bonus_kwargs only apply when bonus is given by name"):
        CuriosityVectorWrapper(venv, NextObsBonus(*space), bonus_kwargs={"eta": 1.0})
    with pytest.raises(ValueError, match="observations of shape \\(3,\\), the env has \\(2,\\)"):
        CuriosityVectorWrapper(venv, NextObsBonus(spaces.Box(-1, 1, (3,)), space[1]))
    with pytest.raises(ValueError, match="built for actions Discrete\\(3\\)"):
        CuriosityWrapper(CounterEnv(), NextObsBonus(space[0], spaces.Discrete(3)))
    with pytest.raises(ValueError, match=r"built for actions Discrete\(4\), the env has Discrete\(3\)"):
        CuriosityWrapper(CounterEnv(discrete=True), NextObsBonus(space[0], spaces.Discrete(4)))
    with pytest.raises(TypeError, match="Box observations"):
        CuriosityWrapper(gym.wrappers.TransformObservation(
            CounterEnv(), lambda o: {"x": o}, spaces.Dict({"x": space[0]})), "rnd")  # fmt: skip
    with pytest.raises(RuntimeError, match="step called before reset"):
        CuriosityWrapper(CounterEnv(), "simhash").step(np.zeros(1, dtype=np.float32))
    with pytest.raises(RuntimeError, match="step called before reset"):
        CuriosityVectorWrapper(venv, "simhash").step(zeros(1))
    venv.metadata = {**venv.metadata, "autoreset_mode": "Sometimes"}
    with pytest.raises(ValueError, match="unknown autoreset_mode 'Sometimes'"):
        CuriosityVectorWrapper(venv, "simhash")


def test_non_finite_rewards_are_refused():
    class NanReward(CounterEnv):
        def step(self, action):
            obs, _, terminated, truncated, info = super().step(action)
            return obs, float("nan"), terminated, truncated, info

    single = CuriosityWrapper(NanReward(), "simhash")
    single.reset(seed=0)
    with pytest.raises(ValueError, match="non-finite reward: nan"):
        single.step(np.zeros(1, dtype=np.float32))
    vector = CuriosityVectorWrapper(SyncVectorEnv([NanReward]), "simhash")
    vector.reset(seed=0)
    with pytest.raises(ValueError, match="non-finite reward"):
        vector.step(zeros(1))


def test_importing_the_wrappers_leaves_sb3_out():
    code = "import sys, curiosity.wrappers; sys.exit('stable_baselines3' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
