"""Bonus state beside the SB3 model: exact round trips, atomic writes, files that cannot run code."""

import os
import pickle
import re
import struct
import zipfile

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
    torch.save({"bonus_class": "VIME", "state": _Payload()}, "bonus.pt")  # a valid archive, CRCs and all
    with pytest.raises(pickle.UnpicklingError, match=r"bonus\.pt: refused to load"):
        load_bonus(trained_vime()[0], "bonus.pt")
    with open("plain.pt", "wb") as f:  # the legacy (non-zip) format
        pickle.dump({"bonus_class": "VIME", "state": _Payload()}, f)
    with pytest.raises(ValueError, match=r"plain\.pt is not a readable archive"):
        load_bonus(trained_vime()[0], "plain.pt")
    assert not (tmp_path / "pwned_by_pickle").exists()


def _damaged(path, how):
    data = path.read_bytes()
    if how == "flipped":  # the first byte of the first tensor's storage: the zip's CRC no longer matches
        with zipfile.ZipFile(path) as archive:
            info = next(i for i in archive.infolist() if i.filename.endswith("/data/0"))
        name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
        offset = info.header_offset + 30 + name_len + extra_len  # past the local file header
        return data[:offset] + bytes([data[offset] ^ 0xFF]) + data[offset + 1 :]
    if how == "truncated":
        return data[: len(data) // 2]
    if how == "empty":
        return b""
    return np.random.default_rng(0).bytes(len(data))


@pytest.mark.parametrize(
    ("how", "problem"),
    [
        ("flipped", r"is corrupted: the checksum of its entry '.*/data/0' does not match"),
        ("truncated", "is not a readable archive"),
        ("empty", "is not a readable archive"),
        ("random", "is not a readable archive"),
    ],
)
def test_a_damaged_file_is_refused_with_its_name_and_problem(tmp_path, how, problem):
    original, _ = trained_vime()
    save_bonus(original, tmp_path / "bonus.pt")
    damaged = tmp_path / f"{how}.pt"
    damaged.write_bytes(_damaged(tmp_path / "bonus.pt", how))
    with pytest.raises(ValueError, match=re.escape(str(damaged)) + " " + problem):
        load_bonus(trained_vime()[0], damaged)


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
