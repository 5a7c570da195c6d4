"""Episode boundaries of episodic bonuses: the three ``dones`` layouts, memories across calls, resets, state.

A toy episodic bonus (the number of distinct states the episode has seen before reaching ``s'``, ``s_0``
included) makes the walk's bookkeeping checkable by hand; E3B, RIDE and NGU have their own oracle tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from gymnasium import spaces

from curiosity.episodic import EpisodicBonus, episode_layout, segments
from curiosity.pool import RingPool

OBS = spaces.Box(-10.0, 10.0, (1,), np.float32)
ACT = spaces.Discrete(2)


class SeenBefore(EpisodicBonus):
    """Bonus of ``(s, a, s')`` = how many states the episode had seen before ``s'`` (``s_0`` included)."""

    state_components = ("pool",)

    def __init__(self) -> None:
        super().__init__(OBS, ACT)
        self.init_normalization(False)
        self.pool = RingPool.for_transitions(8, (1,), 2)
        self.generator = torch.Generator().manual_seed(0)
        self.n_updates = 0

    def row_features(self, obs, actions, next_obs) -> dict[str, Any]:
        return {"obs": obs[:, 0].tolist(), "next": next_obs[:, 0].tolist()}

    def fresh_memory(self, previous):
        return None

    def walk_piece(self, memory, rows, features):
        seen = [features["obs"][rows[0]]] if memory is None else list(memory)
        out = []
        for r in rows:
            out.append(len(seen))
            seen.append(features["next"][r])
        return np.array(out, np.float32), seen

    def store(self, obs, actions, next_obs, features) -> None:
        self.pool.add(obs=obs, actions=actions, next_obs=next_obs)

    def memories_state(self):
        return {"seen": [torch.tensor([]) if m is None else torch.tensor(m) for m in self.memories]}

    def load_memories_state(self, state):
        return [m.tolist() or None for m in state["seen"]]

    def train(self) -> dict[str, float]:
        return {"stored": float(len(self.pool))}


def batch(n: int, start: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    obs = np.arange(start, start + n, dtype=np.float32).reshape(n, 1)
    return obs, np.zeros(n, dtype=np.int64), obs + 0.5


def test_layouts() -> None:
    assert episode_layout(5, None)[:2] == (5, 1)
    assert episode_layout(4, np.array([0, 1, 0, 0]))[:2] == (1, 4)
    n_steps, n_envs, ends = episode_layout(6, np.array([[0, 1], [0, 0], [1, 0]]))
    assert (n_steps, n_envs) == (3, 2) and ends.dtype == bool and ends[2, 0] and ends[0, 1]
    with pytest.raises(ValueError, match=r"dones must be None, of shape \(6,\).*got shape \(4,\)"):
        episode_layout(6, np.zeros(4))
    with pytest.raises(ValueError, match=r"dones must be booleans \(or 0/1\)"):
        episode_layout(2, np.array([0.5, 0.0]))
    # env 0 of a (3, 2) rollout is rows 0, 2, 4, cut after step 2; env 1 is rows 1 | 3, 5
    pieces = {env: [(r.tolist(), ended) for r, ended in p] for env, p in segments(ends)}
    assert pieces == {0: [([0, 2, 4], True)], 1: [([1], True), ([3, 5], False)]}


def test_rollout_layout_resets_each_env_at_its_own_episode_ends() -> None:
    bonus = SeenBefore()
    dones = np.array([[0, 0], [1, 0], [0, 0], [0, 1]], dtype=bool)  # 4 steps of 2 envs, time-major rows
    got = bonus.compute(*batch(8), dones=dones).reshape(4, 2)
    np.testing.assert_array_equal(got, [[1, 1], [2, 2], [1, 3], [2, 4]])
    assert bonus.memories is None  # compute changed nothing


def test_step_by_step_equals_the_whole_rollout_and_memories_carry_over() -> None:
    dones = np.array([[0, 0], [1, 0], [0, 0], [0, 1]], dtype=bool)
    obs, actions, next_obs = batch(8)
    whole = SeenBefore()
    expected = whole.compute(obs, actions, next_obs, dones=dones).reshape(4, 2)
    stepped = SeenBefore()
    for t in range(4):
        rows = slice(2 * t, 2 * t + 2)
        step = (obs[rows], actions[rows], next_obs[rows])
        np.testing.assert_array_equal(stepped.compute(*step, dones=dones[t]), expected[t])
        stepped.add(*step, dones=dones[t])
    whole.add(obs, actions, next_obs, dones=dones)
    assert stepped.memories == whole.memories == [[4.0, 4.5, 6.5], None]  # env 1's episode ended last


def test_without_dones_a_batch_continues_one_episode_and_reset_episodes_forgets_it() -> None:
    bonus = SeenBefore()
    bonus.add(*batch(3))
    np.testing.assert_array_equal(bonus.compute(*batch(2, start=10)), [4, 5])
    bonus.reset_episodes()
    np.testing.assert_array_equal(bonus.compute(*batch(2, start=10)), [1, 2])


def test_a_batch_for_another_number_of_envs_is_refused() -> None:
    bonus = SeenBefore()
    bonus.add(*batch(3), dones=np.zeros(3, bool))
    with pytest.raises(ValueError, match="tracking 3 parallel episodes but the batch is laid out for 2"):
        bonus.compute(*batch(2), dones=np.zeros(2, bool))
    with pytest.raises(ValueError, match=r"tracking 3 parallel episodes.*laid out for 1"):
        bonus.compute(*batch(2))


def test_memories_survive_a_state_dict_round_trip(tmp_path) -> None:
    bonus = SeenBefore()
    bonus.add(*batch(4), dones=np.array([[0, 1], [0, 0]], dtype=bool))
    torch.save(bonus.state_dict(), tmp_path / "b.pt")
    restored = SeenBefore()
    restored.load_state_dict(torch.load(tmp_path / "b.pt", weights_only=True))
    assert restored.memories == bonus.memories == [[0.0, 0.5, 2.5], [3.0, 3.5]]
    probe = (*batch(2, start=20), np.zeros(2, bool))
    np.testing.assert_array_equal(restored.compute(*probe[:3], dones=probe[3]), [3, 2])
    with pytest.raises(ValueError, match=r"lacks \['episodes'\]"):
        restored.load_state_dict({k: v for k, v in bonus.state_dict().items() if k != "episodes"})


class CountingWalks(SeenBefore):
    """SeenBefore that counts its walks (one ``row_features`` call each)."""

    walks = 0

    def row_features(self, obs, actions, next_obs) -> dict[str, Any]:
        self.walks += 1
        return super().row_features(obs, actions, next_obs)


def added(*batch_and_dones: Any) -> SeenBefore:
    """A fresh bonus that added the batch without computing it first (its own walk)."""
    reference = SeenBefore()
    *arrays, dones = batch_and_dones
    reference.add(*arrays, dones=dones)
    return reference


def test_add_reuses_the_walk_of_a_compute_on_the_same_batch() -> None:
    obs, actions, next_obs = batch(4)
    dones = np.array([[0, 1], [0, 0]], dtype=bool)
    bonus = CountingWalks()
    bonus.compute(obs, actions, next_obs, dones=dones)
    bonus.add(obs, actions, next_obs, dones=dones)
    reference = added(obs, actions, next_obs, dones)
    assert bonus.walks == 1 and bonus.memories == reference.memories == [[0.0, 0.5, 2.5], [3.0, 3.5]]
    assert torch.equal(bonus.pool.data["next_obs"], reference.pool.data["next_obs"])
    bonus.add(obs, actions, next_obs, dones=dones)  # the walk was used up: a second add walks again
    assert bonus.walks == 2


def test_a_changed_array_training_or_other_memories_make_add_walk_again() -> None:
    obs, actions, next_obs = batch(3)
    bonus = CountingWalks()
    bonus.compute(obs, actions, next_obs)
    obs[0, 0] = 7.0  # changed in place after the compute (a reused buffer)
    bonus.add(obs, actions, next_obs)
    assert bonus.walks == 2 and bonus.memories == added(obs, actions, next_obs, None).memories
    bonus.compute(*batch(2, start=10))
    bonus.n_updates += 1  # a training step in between
    bonus.add(*batch(2, start=10))
    assert bonus.walks == 4
    bonus.compute(*batch(2, start=20))
    bonus.reset_episodes()  # other memories
    bonus.add(*batch(2, start=20))
    assert bonus.walks == 6 and bonus.memories == [[20.0, 20.5, 21.5]]
    bonus.compute(*batch(2, start=30))
    bonus.add(*batch(2, start=31))  # another batch
    assert bonus.walks == 8 and bonus.memories == [[20.0, 20.5, 21.5, 31.5, 32.5]]


def test_advance_moves_the_episodes_on_and_stores_nothing() -> None:
    obs, actions, next_obs = batch(4)
    dones = np.array([[0, 1], [0, 0]], dtype=bool)
    bonus = CountingWalks()
    bonus.compute(obs, actions, next_obs, dones=dones)
    bonus.advance(obs, actions, next_obs, dones=dones)
    assert bonus.walks == 1 and bonus.memories == added(obs, actions, next_obs, dones).memories
    assert len(bonus.pool) == 0
    bonus.advance(*batch(2, start=10), dones=np.zeros(2, bool))  # without a compute: its own walk
    assert bonus.walks == 2 and bonus.memories == [[0.0, 0.5, 2.5, 10.5], [3.0, 3.5, 11.5]]
    bonus.advance(np.zeros((0, 1), np.float32), np.zeros(0, np.int64), np.zeros((0, 1), np.float32))
    assert bonus.walks == 2 and len(bonus.pool) == 0
