"""A run killed part-way resumes from its mid-run checkpoint with its policy, bonus and episodes."""

import csv

import numpy as np
import pytest
import torch

from agents.checkpoint import CHECKPOINT_FILE, CheckpointCallback
from agents.experiment import run_experiment
from curiosity.serialization import safe_load

PPO_TINY = {"n_steps": 256, "batch_size": 64, "n_epochs": 1}
ENV = "SparseMountainCar-v0"


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_resumed_run_starts_from_the_checkpoint(tmp_path):
    ckpt = tmp_path / "ckpt"
    first = run_experiment(ENV, "ppo", "vime", 4 * 256, seed=1, out_dir=tmp_path / "a", algo_kwargs=PPO_TINY,
                           bonus_kwargs={"n_updates": 5, "min_pool_size": 10}, save=False,
                           checkpoint_dir=ckpt, checkpoint_every=1)
    assert first["resumed_from"] == 0
    state = safe_load(ckpt / CHECKPOINT_FILE)
    # taken at the start of the 4th rollout: after 3 rollouts, 3 policy updates and 3 bonus trainings
    assert state["num_timesteps"] == 3 * 256 and state["n_updates"] == 3
    assert state["bonus"]["trainings"] == 3

    second = run_experiment(ENV, "ppo", "vime", 5 * 256, seed=1, out_dir=tmp_path / "b", algo_kwargs=PPO_TINY,
                            bonus_kwargs={"n_updates": 5, "min_pool_size": 10}, save=False,
                            checkpoint_dir=ckpt, checkpoint_every=1)
    assert second["resumed_from"] == 3 * 256 and second["timesteps"] == 5 * 256
    # the episodes recorded before the checkpoint are the resumed run's first rows
    before = [r for r in rows(tmp_path / "a" / "curve.csv") if int(r["timesteps"]) <= 3 * 256]
    assert rows(tmp_path / "b" / "curve.csv")[: len(before)] == before
    latest = safe_load(ckpt / CHECKPOINT_FILE)
    assert latest["num_timesteps"] == 4 * 256 and latest["bonus"]["trainings"] == 4


def test_the_checkpoint_holds_the_policy_that_the_resumed_run_loads(tmp_path):
    ckpt = tmp_path / "ckpt"
    run_experiment(ENV, "ppo", "none", 3 * 256, seed=0, out_dir=tmp_path / "a", algo_kwargs=PPO_TINY,
                   save=False, checkpoint_dir=ckpt, checkpoint_every=2)
    saved = safe_load(ckpt / CHECKPOINT_FILE)
    assert saved["num_timesteps"] == 2 * 256 and saved["bonus"] is None
    # resume with no steps left: the model is exactly the checkpoint's
    from agents import experiment

    captured = {}
    original = experiment.CheckpointCallback

    class Spy(original):
        def _on_training_end(self):
            captured["params"] = {k: v.clone() for k, v in self.model.policy.state_dict().items()}

    experiment.CheckpointCallback = Spy
    try:
        metrics = run_experiment(ENV, "ppo", "none", 2 * 256, seed=0, out_dir=tmp_path / "b",
                                 algo_kwargs=PPO_TINY, save=False, checkpoint_dir=ckpt)
    finally:
        experiment.CheckpointCallback = original
    assert metrics["resumed_from"] == 2 * 256 and metrics["timesteps"] == 2 * 256
    for name, value in saved["policy"].items():
        torch.testing.assert_close(captured["params"][name], value)


def test_a_checkpoint_of_a_run_with_a_bonus_is_refused_by_one_without(tmp_path):
    ckpt = tmp_path / "ckpt"
    run_experiment(ENV, "ppo", "vime", 2 * 256, seed=0, out_dir=tmp_path / "a", algo_kwargs=PPO_TINY,
                   bonus_kwargs={"n_updates": 2, "min_pool_size": 10}, save=False, checkpoint_dir=ckpt,
                   checkpoint_every=1)
    with pytest.raises(ValueError, match="with a bonus"):
        run_experiment(ENV, "ppo", "none", 3 * 256, seed=0, out_dir=tmp_path / "b", algo_kwargs=PPO_TINY,
                       save=False, checkpoint_dir=ckpt)


def test_bad_checkpoint_interval_is_refused():
    with pytest.raises(ValueError, match="checkpoint_every"):
        CheckpointCallback("x.pt", None, None, every=0)


def test_recorder_restore_checks_the_grid():
    from agents.recorder import EpisodeRecorder

    with pytest.raises(ValueError, match="visits must have shape"):
        EpisodeRecorder("unused").restore([], np.zeros((3, 3)), np.zeros((50, 50)))
