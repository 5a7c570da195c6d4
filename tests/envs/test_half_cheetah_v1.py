"""SparseHalfCheetah-v1 against gymnasium's own cheetah model and hand-set states."""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401
from envs._mujoco import compile_model
from envs.half_cheetah import SparseHalfCheetahEnv
from envs.half_cheetah_v1 import SparseHalfCheetahV1Env


def whole_body_com_x(env: SparseHalfCheetahV1Env) -> float:
    """The cheetah's centre of mass from the bodies' masses and positions (not MuJoCo's subtree COM)."""
    mass = env.unwrapped.model.body_mass[1:]
    return float(mass @ env.unwrapped.data.xipos[1:, 0] / mass.sum())


def test_passes_gymnasiums_checker_and_matches_the_papers_timing() -> None:
    env = SparseHalfCheetahV1Env()
    check_env(env, skip_render_check=True)
    assert env.dt == pytest.approx(0.01)  # rllab: frame_skip 1 on the model's 0.01 s timestep
    assert env.observation_space.shape == (20,)
    assert env.action_space.low.tolist() == [-1.0] * 6 and env.action_space.high.tolist() == [1.0] * 6


def test_registered_with_the_papers_horizon() -> None:
    env = gym.make("SparseHalfCheetah-v1")
    assert env.spec.max_episode_steps == 500
    env.reset(seed=0)
    for _ in range(499):
        *_, terminated, truncated, _ = env.step(np.zeros(6))
        assert not terminated and not truncated
    *_, terminated, truncated, _ = env.step(np.zeros(6))
    assert truncated and not terminated


def test_trajectory_equals_gymnasiums_model_at_frame_skip_one() -> None:
    ours = SparseHalfCheetahV1Env()
    ours.reset(seed=3)
    reference = HalfCheetahEnv(frame_skip=1, exclude_current_positions_from_observation=False)
    reference.reset(seed=0)
    reference.set_state(ours.data.qpos.copy(), ours.data.qvel.copy())
    actions = np.random.default_rng(0).uniform(-1, 1, size=(300, 6))
    for action in actions:
        obs, *_ = ours.step(action)
        reference.step(action)
        np.testing.assert_allclose(obs[:8], reference.data.qpos[1:], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(obs[8:17], reference.data.qvel, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(ours.data.qpos, reference.data.qpos)


@pytest.mark.parametrize("env_class", [SparseHalfCheetahV1Env, SparseHalfCheetahEnv])
def test_model_weighs_14_kg_as_compiled(env_class: type, capfd: pytest.CaptureFixture[str]) -> None:
    """Masses scaled after compiling (no deprecated ``settotalmass``) give the model the attribute gave."""
    ours = env_class().unwrapped.model
    printed = capfd.readouterr()
    assert "settotalmass" not in printed.out + printed.err  # MuJoCo 4 warns of the attribute on compiling
    assert ours.body_mass.sum() == pytest.approx(14.0, rel=1e-12)
    try:
        by_compiler = mujoco.MjModel.from_xml_path(HalfCheetahEnv(frame_skip=1).fullpath)
    except ValueError:
        pytest.skip("this MuJoCo no longer compiles settotalmass")
    for field in ("body_mass", "body_inertia", "body_invweight0", "dof_invweight0", "actuator_acc0"):
        np.testing.assert_array_equal(getattr(ours, field), getattr(by_compiler, field), err_msg=field)


def test_a_non_positive_total_mass_leaves_the_masses_as_compiled(tmp_path) -> None:
    xml = ('<mujoco><compiler settotalmass="-1"/><worldbody><body><freejoint/>'
           '<geom type="box" size="0.1 0.2 0.3" mass="2.5"/></body></worldbody></mujoco>')
    path = tmp_path / "box.xml"
    path.write_text(xml)
    model, _ = compile_model(str(path), 64, 64)
    assert model.body_mass[1] == 2.5  # the geom's own mass, not scaled to -1


def test_observation_holds_the_new_states_centre_of_mass() -> None:
    env = SparseHalfCheetahV1Env()
    env.reset(seed=1)
    for _ in range(20):
        obs, _, _, _, info = env.step(np.ones(6))
    assert obs[17] == pytest.approx(whole_body_com_x(env), abs=1e-6)
    assert info["com_x"] == pytest.approx(whole_body_com_x(env), abs=1e-9)
    np.testing.assert_allclose(obs[:8], env.data.qpos[1:], rtol=1e-6)


@pytest.mark.parametrize(("com_target", "reward"), [(5.05, 1.0), (4.95, 0.0)])
def test_reward_is_one_exactly_when_the_com_is_beyond_five(com_target: float, reward: float) -> None:
    env = SparseHalfCheetahV1Env()
    env.reset(seed=0)
    qpos = env.init_qpos.copy()
    env.set_state(qpos, np.zeros(env.model.nv))
    qpos[0] = com_target - whole_body_com_x(env)  # shift the root so the COM lands at the target
    env.set_state(qpos, np.zeros(env.model.nv))
    _, r, terminated, _, info = env.step(np.zeros(6))
    assert abs(whole_body_com_x(env) - com_target) < 0.02  # one 0.01 s step barely moves it
    assert r == reward and info["is_success"] == bool(reward) and not terminated


def test_reset_noise_is_rllabs() -> None:
    env = SparseHalfCheetahV1Env()
    env.reset(seed=0)
    qpos, qvel = [], []
    for _ in range(400):
        env.reset()
        qpos.append(env.data.qpos.copy())
        qvel.append(env.data.qvel.copy())
    # N(0, 0.01^2) and N(0, 0.1^2); 400 x 9 draws give the std within a few percent
    assert np.std(np.array(qpos) - env.init_qpos) == pytest.approx(0.01, rel=0.06)
    assert np.std(qvel) == pytest.approx(0.1, rel=0.06)


def test_actions_outside_the_bounds_are_clipped() -> None:
    a, b = SparseHalfCheetahV1Env(), SparseHalfCheetahV1Env()
    a.reset(seed=5)
    b.reset(seed=5)
    big = np.array([3.0, -2.0, 1.5, -7.0, 0.5, 9.0])
    for _ in range(10):
        obs_a, *_ = a.step(big)
        obs_b, *_ = b.step(np.clip(big, -1, 1))
    np.testing.assert_array_equal(obs_a, obs_b)


def test_a_random_policy_stays_near_the_start() -> None:
    # reference (REFERENCE.md, independent replica): 0 of 100 episodes reach x > 5, best max COM x 0.63 m
    env = gym.make("SparseHalfCheetah-v1")
    env.action_space.seed(0)
    best = []
    for episode in range(6):
        env.reset(seed=episode)
        best.append(max(env.step(env.action_space.sample())[4]["com_x"] for _ in range(500)))
    assert max(best) < 1.5
    assert np.median(best) < 0.5


def test_bad_goal_is_refused() -> None:
    with pytest.raises(ValueError, match="goal_x"):
        SparseHalfCheetahV1Env(goal_x=float("nan"))


def test_dense_reward_is_com_velocity_less_the_clipped_control_cost() -> None:
    # rllab's half_cheetah: forward COM velocity - 0.1 * 0.5 * sum(clip(a)^2), at dt 0.01
    env = SparseHalfCheetahV1Env()
    env.reset(seed=2)
    rng = np.random.default_rng(1)
    for action in [rng.uniform(-1, 1, 6), np.array([3.0, -2.0, 0.5, 0.0, -0.25, 1.0])]:
        before = whole_body_com_x(env)
        _, _, _, _, info = env.step(action)
        clipped = np.clip(action, -1, 1)
        expected = (whole_body_com_x(env) - before) / 0.01 - 0.05 * sum(a * a for a in clipped)
        assert info["dense_reward"] == pytest.approx(expected, rel=1e-6, abs=1e-6)
