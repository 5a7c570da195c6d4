"""A run killed part-way resumes from its mid-run checkpoint with its policy, bonus and episodes."""

import csv

import numpy as np
import pytest
import torch

from agents import experiment
from agents.checkpoint import CHECKPOINT_FILE, OFF_POLICY_BLOCK, CheckpointCallback
from agents.experiment import run_experiment
from curiosity.serialization import atomic_save, safe_load

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
    for name, value in saved["torch"]["policy"].items():
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


def snapshot(model):
    """What a resumed off-policy run must carry on with, read through SB3's own API (not the checkpoint's)."""
    buffer = model.replay_buffer
    rows = buffer.pos
    return {
        "parameters": {name: {k: v.clone() if torch.is_tensor(v) else v for k, v in flatten(sd)}
                       for name, sd in model.get_parameters().items()},
        "log_ent_coef": getattr(model, "log_ent_coef", torch.zeros(1)).detach().clone(),
        "buffer": {name: np.array(getattr(buffer, name)[:rows]) for name in
                   ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")},
        "pos": buffer.pos, "num_timesteps": model.num_timesteps,
    }  # fmt: skip


def flatten(tree, prefix=""):
    """(key path, leaf) pairs of a nested state dict (optimisers nest their state per parameter)."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from flatten(value, f"{prefix}/{key}")
    elif isinstance(tree, (list, tuple)):
        for i, value in enumerate(tree):
            yield from flatten(value, f"{prefix}/{i}")
    else:
        yield prefix, tree


def spy_on_checkpoints(monkeypatch, captured):
    class Spy(experiment.CheckpointCallback):
        def _on_rollout_start(self):
            before = self._saved_at
            super()._on_rollout_start()
            if self._saved_at != before:  # a checkpoint was just written: the state it must hold
                captured["saved"] = snapshot(self.model)

        def _on_training_end(self):
            captured["resumed"] = snapshot(self.model)

    monkeypatch.setattr(experiment, "CheckpointCallback", Spy)


OFF_POLICY = {
    "sac": ("Pendulum-v1", {"learning_starts": 100, "batch_size": 16, "buffer_size": 3000}),
    "td3": ("Pendulum-v1", {"learning_starts": 100, "batch_size": 16, "buffer_size": 3000}),
    "dqn": ("CartPole-v1", {"learning_starts": 100, "batch_size": 16, "buffer_size": 3000, "train_freq": 4}),
}


@pytest.mark.parametrize("algo", list(OFF_POLICY))
def test_off_policy_runs_resume_with_their_optimisers_and_replay_buffer(tmp_path, monkeypatch, algo):
    """SAC, TD3 and DQN: every SB3 torch object (both optimisers, SAC's entropy coefficient) and the replay
    buffer come back as they were when the checkpoint was written; checkpoints every 1,000 steps."""
    env_id, kwargs = OFF_POLICY[algo]
    kwargs = kwargs | {"policy_kwargs": {"net_arch": [16]}}
    captured = {}
    spy_on_checkpoints(monkeypatch, captured)
    ckpt = tmp_path / "ckpt"
    run_experiment(env_id, algo, "none", OFF_POLICY_BLOCK + 50, seed=0, out_dir=tmp_path / "a",
                   algo_kwargs=kwargs, save=False, checkpoint_dir=ckpt, checkpoint_every=1)  # fmt: skip
    saved = captured["saved"]
    assert saved["num_timesteps"] == OFF_POLICY_BLOCK == safe_load(ckpt / CHECKPOINT_FILE)["num_timesteps"]
    # resume with no steps left: the model is the one the first run had when it wrote the checkpoint
    metrics = run_experiment(env_id, algo, "none", OFF_POLICY_BLOCK, seed=1, out_dir=tmp_path / "b",
                             algo_kwargs=kwargs, save=False, checkpoint_dir=ckpt)  # fmt: skip
    resumed = captured["resumed"]
    assert metrics["resumed_from"] == OFF_POLICY_BLOCK and resumed["pos"] == saved["pos"] == OFF_POLICY_BLOCK
    assert resumed["parameters"].keys() == saved["parameters"].keys()
    optimisers = [name for name in saved["parameters"] if "optimizer" in name]
    assert len(optimisers) == {"sac": 3, "td3": 2, "dqn": 1}[algo]
    for name, leaves in saved["parameters"].items():
        assert resumed["parameters"][name].keys() == leaves.keys()
        for key, value in leaves.items():
            torch.testing.assert_close(resumed["parameters"][name][key], value, rtol=0, atol=0, msg=key)
    torch.testing.assert_close(resumed["log_ent_coef"], saved["log_ent_coef"], rtol=0, atol=0)
    for name, rows in saved["buffer"].items():
        np.testing.assert_array_equal(resumed["buffer"][name], rows, err_msg=name)
    assert saved["buffer"]["rewards"].any()  # real transitions, not an empty buffer


def test_a_checkpoint_of_another_algorithm_is_refused(tmp_path):
    env_id, kwargs = OFF_POLICY["td3"]
    ckpt = tmp_path / "ckpt"
    run_experiment(env_id, "td3", "none", OFF_POLICY_BLOCK + 10, seed=0, out_dir=tmp_path / "a",
                   algo_kwargs=kwargs | {"policy_kwargs": {"net_arch": [8]}}, save=False, checkpoint_dir=ckpt,
                   checkpoint_every=1)  # fmt: skip
    with pytest.raises(ValueError, match=r"holds \['actor.optimizer', 'critic.optimizer', 'policy'\]; this "
                                         r"run's SAC has"):
        run_experiment(env_id, "sac", "none", 2 * OFF_POLICY_BLOCK, seed=0, out_dir=tmp_path / "b",
                       algo_kwargs=kwargs | {"policy_kwargs": {"net_arch": [8]}}, save=False,
                       checkpoint_dir=ckpt)  # fmt: skip


def test_a_checkpoint_of_the_first_format_still_resumes(tmp_path):
    """Format 1 (the policy and its optimiser under their own keys), as runs of earlier versions wrote."""
    ckpt = tmp_path / "ckpt"
    run_experiment(ENV, "ppo", "none", 2 * 256, seed=0, out_dir=tmp_path / "a", algo_kwargs=PPO_TINY,
                   save=False, checkpoint_dir=ckpt, checkpoint_every=1)  # fmt: skip
    state = safe_load(ckpt / CHECKPOINT_FILE)
    legacy = {key: value for key, value in state.items() if key not in ("torch", "tensors", "replay_buffer")}
    legacy |= {"format": 1, "policy": state["torch"]["policy"],
               "optimizer": state["torch"]["policy.optimizer"]}  # fmt: skip
    atomic_save(legacy, ckpt / CHECKPOINT_FILE)
    metrics = run_experiment(ENV, "ppo", "none", 2 * 256, seed=0, out_dir=tmp_path / "b",
                             algo_kwargs=PPO_TINY, save=False, checkpoint_dir=ckpt)  # fmt: skip
    assert metrics["resumed_from"] == 256 and metrics["timesteps"] == 2 * 256


def test_a_resumed_run_schedules_eta_from_its_checkpoints_progress(tmp_path, monkeypatch):
    """Linear eta: the last rollout of a 4-rollout run runs at progress 0.25, resumed or not (a fresh
    model's progress is 1.0 until SB3 first moves it, after the rollout)."""
    etas = {}

    class Spy(experiment.CheckpointCallback):
        def _on_training_end(self):
            etas[str(self.recorder.out_dir.name)] = self.wrapper.bonus.eta

    monkeypatch.setattr(experiment, "CheckpointCallback", Spy)
    ckpt = tmp_path / "ckpt"
    for name in ("a", "b"):  # a: uninterrupted, checkpoints at 256, 512, 768; b: resumes at 768
        run_experiment(ENV, "ppo", "rnd", 4 * 256, seed=0, out_dir=tmp_path / name, algo_kwargs=PPO_TINY,
                       eta=2.0, eta_schedule="linear", save=False, checkpoint_dir=ckpt, checkpoint_every=1)
    assert safe_load(ckpt / CHECKPOINT_FILE)["num_timesteps"] == 3 * 256
    assert etas["a"] == pytest.approx(2.0 * 0.25) and etas["b"] == pytest.approx(etas["a"])


def dqn_checkpoint(tmp_path, buffer_size, **kwargs):
    ckpt = tmp_path / "ckpt"
    run_experiment("CartPole-v1", "dqn", "none", OFF_POLICY_BLOCK + 10, seed=0, out_dir=tmp_path / "a",
                   algo_kwargs={"learning_starts": 100, "batch_size": 16, "buffer_size": buffer_size,
                                "policy_kwargs": {"net_arch": [8]}, **kwargs},
                   save=False, checkpoint_dir=ckpt, checkpoint_every=1)  # fmt: skip
    return ckpt


def test_a_full_replay_buffer_is_refused_by_a_larger_one(tmp_path):
    """A full buffer of 500 rows in one of 3,000 would be sampled over 2,500 rows of zeros."""
    ckpt = dqn_checkpoint(tmp_path, 500)
    assert safe_load(ckpt / CHECKPOINT_FILE)["replay_buffer"]["full"]
    with pytest.raises(ValueError, match=r"500 replay rows \(a full buffer\); this run's buffer has 3000"):
        run_experiment("CartPole-v1", "dqn", "none", 2 * OFF_POLICY_BLOCK, seed=0, out_dir=tmp_path / "b",
                       algo_kwargs={"learning_starts": 100, "batch_size": 16, "buffer_size": 3000,
                                    "policy_kwargs": {"net_arch": [8]}},
                       save=False, checkpoint_dir=ckpt)  # fmt: skip


def test_a_resumed_dqn_keeps_its_target_network_cadence_and_memory_saving_buffer(tmp_path, monkeypatch):
    """DQN's target updates count its step calls (SB3 dqn.py: ``_n_calls % target_update_interval``); with
    ``optimize_memory_usage`` the last stored transition's next observation is overwritten by the resumed
    run's first one, so that transition must end there (as SB3 ends it when learning restarts)."""
    kwargs = {"optimize_memory_usage": True, "replay_buffer_kwargs": {"handle_timeout_termination": False}}
    ckpt = dqn_checkpoint(tmp_path, 3000, **kwargs)
    captured = {}

    class Spy(experiment.CheckpointCallback):
        def _on_training_start(self):
            super()._on_training_start()
            buffer = self.model.replay_buffer
            captured.update(n_calls=self.model._n_calls, last_done=buffer.dones[buffer.pos - 1].copy())

    monkeypatch.setattr(experiment, "CheckpointCallback", Spy)
    state = safe_load(ckpt / CHECKPOINT_FILE)
    assert state["num_timesteps"] == OFF_POLICY_BLOCK
    assert not state["replay_buffer"]["arrays"]["dones"][-2].any()  # the transition goes on: nothing ends it
    run_experiment("CartPole-v1", "dqn", "none", OFF_POLICY_BLOCK, seed=0, out_dir=tmp_path / "b",
                   algo_kwargs={"learning_starts": 100, "batch_size": 16, "buffer_size": 3000,
                                "policy_kwargs": {"net_arch": [8]}, **kwargs},
                   save=False, checkpoint_dir=ckpt)  # fmt: skip
    assert captured["n_calls"] == OFF_POLICY_BLOCK  # one env: one call per step
    assert captured["last_done"].all()


def test_a_bad_checkpoint_interval_is_refused_before_the_run_directory_is_written(tmp_path):
    with pytest.raises(ValueError, match="checkpoint_every must be a positive number of rollouts, got 0"):
        run_experiment(ENV, "ppo", "none", 256, out_dir=tmp_path / "run", algo_kwargs=PPO_TINY, save=False,
                       checkpoint_dir=tmp_path / "ckpt", checkpoint_every=0)
    assert not (tmp_path / "run").exists()
