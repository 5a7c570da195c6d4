"""benchmarks.speed.peer_compare without rllte-core: the skip, the rollouts, the agreement rule, the
harness."""

from __future__ import annotations

import json
import types

import numpy as np
import pytest
import torch

from benchmarks.speed import peer_compare as pc
from benchmarks.speed.rllte_adapters import shifted_agreement


def test_without_rllte_it_says_why_and_measures_nothing(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(pc, "load_rllte", lambda: (None, "rllte-core is not importable here (test)"))
    result = pc.main(["--out", str(tmp_path)])
    assert "rows" not in result and result["skipped"].startswith("rllte-core is not importable")
    saved = json.loads((tmp_path / "peer_compare.json").read_text())
    assert saved["skipped"] == result["skipped"] and "pip install" in saved["install"]
    assert "Not measured" in (tmp_path / "peer_compare.md").read_text()


@pytest.mark.parametrize("kind", ["vector", "image"])
def test_rollouts_chain_states_within_episodes(kind: str) -> None:
    r = pc.make_rollout(kind, n_steps=120, n_envs=3)
    assert r["obs"].shape[:2] == r["dones"].shape == (120, 3)
    assert r["obs"].dtype == (np.float32 if kind == "vector" else np.uint8)
    for e in range(3):
        ends = np.flatnonzero(r["dones"][:, e])
        assert len(ends) == 1  # one staggered episode end per env in 120 steps
        for t in range(119):
            same = np.array_equal(r["obs"][t + 1, e], r["next_obs"][t, e])
            assert same != bool(r["dones"][t, e])  # a fresh state follows an episode end, and only then


def test_shifted_agreement_pairs_ours_at_t_with_theirs_at_t_plus_1() -> None:
    rng = np.random.default_rng(0)
    dones = np.zeros((5, 2), dtype=bool)
    dones[2, 1] = True
    ours = rng.uniform(1, 2, (5, 2))
    theirs = np.vstack([rng.uniform(1, 2, (1, 2)), ours[:-1]])
    theirs[3, 1] = 99.0  # after an episode end: not compared (rllte's first state of an episode)
    assert shifted_agreement(ours, theirs, dones) == {"max_rel_error": 0.0, "pairs": 7}
    theirs[2, 0] *= 1.5
    assert shifted_agreement(ours, theirs, dones)["max_rel_error"] == pytest.approx(1 / 3)


class _FakePeer:
    """An rllte-like reward module: compute returns zeros; its update fails like rllte 1.0.1's ICM on Box."""

    def __init__(self, envs, device: str = "cpu") -> None:
        self.n_envs = envs.num_envs
        self.watched = 0

    def watch(self, *step) -> None:
        self.watched += 1

    def compute(self, samples, sync: bool = True) -> torch.Tensor:
        assert sync and self.update(samples) is None  # measure() switched update off
        return torch.zeros(samples["rewards"].shape)

    def update(self, samples) -> None:
        raise RuntimeError("The size of tensor a (6) must match the size of tensor b (64)")


def test_measure_times_both_sides_and_reports_a_peer_failure() -> None:
    fake = types.SimpleNamespace(RE3=_FakePeer)
    rollout = pc.make_rollout("vector", n_steps=16, n_envs=2)
    row = pc.measure("re3", "vector", "alike", rollout, fake, repeats=2)
    assert row["ours_kwargs"]["k"] == 5 and row["ours_compute_tps"] > 0 and row["rllte_compute_tps"] > 0
    assert row["compute_ratio"] == pytest.approx(row["ours_compute_tps"] / row["rllte_compute_tps"], rel=1e-2)
    assert row["rllte_update_tps"] is None and row["update_ratio"] is None
    assert "must match the size" in row["rllte_update_error"]
    assert "| re3 | vector | alike |" in pc.markdown(
        {"command": "x", "rllte_core": "1", "gymnasium": "1", "torch": "2", "threads": 1, "batch": 32,
         "n_envs": 2, "rows": [row], "agreement": {}}
    )  # fmt: skip


def test_alike_rows_train_one_pass_as_rllte_and_short_rows_get_more_rounds(monkeypatch) -> None:
    monkeypatch.setattr(pc, "MIN_SECONDS", 0.3)
    monkeypatch.setattr(pc, "MAX_ROUNDS", 6)
    fake = types.SimpleNamespace(RND=_FakePeer, Disagreement=_FakePeer, ICM=_FakePeer)
    rollout = pc.make_rollout("vector", n_steps=64, n_envs=8)  # 512 transitions: two minibatches of 256
    rows = {n: pc.measure(n.lower(), "vector", "alike", rollout, fake, repeats=2) for n in vars(fake)}
    assert rows["RND"]["ours_kwargs"]["gradient_steps"] == 2 == rows["ICM"]["ours_kwargs"]["gradient_steps"]
    assert rows["RND"]["ours_kwargs"]["predictor_extra_layers"] == 0
    assert rows["ICM"]["ours_kwargs"]["encoder_arch"] == "nature"
    assert rows["Disagreement"]["ours_kwargs"]["gradient_steps"] == 1  # 4 members take turns: 1 batch each
    assert all(2 <= row["rounds"] <= 6 for row in rows.values())
