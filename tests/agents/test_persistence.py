"""Bonus state beside the SB3 model: exact round trips, atomic writes, files that cannot run code."""

import os
import pickle

import numpy as np
import pytest
import torch
from gymnasium import spaces

from agents import load_bonus, save_bonus
from curiosity import RND, VIME
from curiosity.serialization import atomic_save

OBS = spaces.Box(-1.0, 1.0, (3,), dtype=np.float32)
ACT = spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)


def trained_vime(seed=0):
    rng = np.random.default_rng(seed)
    vime = VIME(OBS, ACT, seed=seed, n_updates=10, min_pool_size=1, batch_size=8)
    s, a = rng.normal(size=(64, 3)).astype(np.float32), rng.uniform(-1, 1, (64, 1)).astype(np.float32)
    vime.add(s, a, s + a)
    vime.train()
    vime(s, a, s + a)
    return vime, (s, a, s + a)


def test_saved_bonus_reloads_bit_identically_and_resumes_the_same(tmp_path):
    original, data = trained_vime()
    save_bonus(original, tmp_path / "bonus.pt")
    fresh = VIME(OBS, ACT, seed=123, n_updates=10, min_pool_size=1, batch_size=8)
    restored = load_bonus(fresh, tmp_path / "bonus.pt")
    for key, value in original.bnn.state_dict().items():
        assert torch.equal(value, restored.bnn.state_dict()[key])
    np.testing.assert_array_equal(original(*data), restored(*data))
    assert original.train() == restored.train()
    np.testing.assert_array_equal(original(*data), restored(*data))


def test_loading_another_kind_of_bonus_is_refused(tmp_path):
    original, _ = trained_vime()
    save_bonus(original, tmp_path / "bonus.pt")
    with pytest.raises(ValueError, match="holds a VIME state, not a RND"):
        load_bonus(RND(OBS, ACT), tmp_path / "bonus.pt")
    with pytest.raises(FileNotFoundError):
        load_bonus(original, tmp_path / "missing.pt")


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch pwned_by_pickle",))


def test_a_crafted_file_cannot_run_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open("bonus.pt", "wb") as f:
        pickle.dump({"bonus_class": "VIME", "state": _Payload()}, f)
    with pytest.raises(pickle.UnpicklingError):
        load_bonus(trained_vime()[0], "bonus.pt")
    assert not (tmp_path / "pwned_by_pickle").exists()


def test_a_crash_mid_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "state.pt"
    atomic_save({"version": 1}, path)

    def crash(obj, f):
        f.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_save({"version": 2}, path)
    monkeypatch.undo()
    assert torch.load(path, weights_only=True) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]  # no temporary file left behind
