"""run_experiment and the command line: determinism, saved runs, clear errors."""

import base64
import json
import pickle
import zipfile

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO

from agents.experiment import evaluate_run, rebuild_model, run_experiment, summarize
from agents.persistence import load_policy
from agents.pixels import build_encoder
from benchmarks.cli import main as curiosity

TINY_PPO = {"n_steps": 64, "batch_size": 32, "n_epochs": 1}
TINY_VIME = {"n_updates": 5, "min_pool_size": 1, "n_bonus_samples": 2}


def test_same_seed_same_learning_curve(tmp_path):
    curves = []
    for name in ("a", "b"):
        run_experiment("Pendulum-v1", "ppo", "vime", 400, seed=3, out_dir=tmp_path / name,
                       algo_kwargs=TINY_PPO, bonus_kwargs=TINY_VIME, save=False)  # fmt: skip
        curves.append((tmp_path / name / "curve.csv").read_text())
    assert curves[0] == curves[1]
    assert len(curves[0].splitlines()) == 3  # header + two 200-step episodes


def test_train_and_evaluate_commands_write_a_complete_run(tmp_path, capsys):
    out = tmp_path / "run"
    curiosity(["train", "--env", "SparseMountainCar-v0", "--timesteps", "128", "--out", str(out),
               "--algo-kwargs", json.dumps(TINY_PPO), "--bonus-kwargs", json.dumps(TINY_VIME),
               "--threads", "1"])  # fmt: skip
    for name in ("config.json", "curve.csv", "model.zip", "bonus.pt"):
        assert (out / name).is_file()
    assert any((out / "tb").iterdir())  # TensorBoard logs
    curiosity(["evaluate", "--run", str(out), "--episodes", "1"])
    assert "mean_return" in capsys.readouterr().out
    assert evaluate_run(out, episodes=1)["episodes"] == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"env_id": "NoSuchEnv-v0"}, "unknown environment id 'NoSuchEnv-v0'"),
        ({"algo": "ddpg2"}, "unknown algorithm 'ddpg2'"),
        ({"bonus": "curious"}, "unknown bonus 'curious'"),
        ({"total_timesteps": 0}, "total_timesteps must be a positive integer"),
    ],
)
def test_bad_choices_raise_with_the_known_ones(tmp_path, kwargs, match):
    args = {"env_id": "SparseMountainCar-v0", "total_timesteps": 10, "out_dir": tmp_path, **kwargs}
    with pytest.raises(ValueError, match=match):
        run_experiment(**args)


def test_evaluating_a_directory_that_is_not_a_run_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"config\.json is missing"):
        evaluate_run(tmp_path)


def test_unknown_command_exits_with_usage(capsys):
    with pytest.raises(SystemExit) as exit_info:
        curiosity(["fly"])
    assert exit_info.value.code == 2
    assert "unknown command" in capsys.readouterr().err


def test_env_kwargs_reach_training_encoder_pretraining_and_evaluation(tmp_path):
    """Two stacked 64x64 RGB frames are 6 channels everywhere: the policy, VIME's encoder, the evaluation."""
    out = tmp_path / "pixels"
    curiosity(["train", "--env", "PixelSparseMountainCar-v0", "--bonus", "vime-latent", "--timesteps", "64",
               "--out", str(out), "--algo-kwargs", json.dumps(TINY_PPO), "--threads", "1",
               "--env-kwargs", json.dumps({"frame_stack": 2}),
               "--bonus-kwargs", json.dumps({**TINY_VIME, "encoder": "ae", "pretrain_frames": 16,
                                             "pretrain_steps": 1, "pretrain_batch_size": 8})])  # fmt: skip
    assert json.loads((out / "config.json").read_text())["env_kwargs"] == {"frame_stack": 2}
    # SB3 moves the channels first
    assert PPO.load(out / "model.zip", device="cpu").observation_space.shape == (6, 64, 64)
    assert evaluate_run(out, episodes=1)["episodes"] == 1  # the evaluation env stacks frames too
    encoder = build_encoder("PixelSparseMountainCar-v0", "ae", steps=0, env_kwargs={"frame_stack": 2})
    assert encoder.frame_stack == 2 and encoder.feature_dim == 2 * encoder.per_frame_dim


class _Trap:
    """Unpickling it creates ``path``: the proof that a loader ran code from a file."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def plant_serialized_entry(model_zip, marker):
    """Rewrite ``model.zip`` with an extra ``":serialized:"`` entry (SB3 unpickles every one it finds)."""
    with zipfile.ZipFile(model_zip) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(entries["data"])
    payload = base64.b64encode(pickle.dumps(_Trap(marker))).decode()
    data["unknown_key"] = {":type:": "<class 'object'>", ":serialized:": payload}
    entries["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(model_zip, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)


def test_evaluating_a_crafted_model_zip_runs_no_code(tmp_path):
    run = tmp_path / "run"
    run_experiment("Pendulum-v1", "ppo", "none", 64, out_dir=run, algo_kwargs=TINY_PPO)
    trained = PPO.load(run / "model.zip", device="cpu").policy.state_dict()
    marker = tmp_path / "code_ran"
    plant_serialized_entry(run / "model.zip", marker)
    result = evaluate_run(run, episodes=1)
    assert not marker.exists()
    assert result["episodes"] == 1 and np.isfinite(result["mean_return"])
    rebuilt = rebuild_model(json.loads((run / "config.json").read_text()))
    load_policy(rebuilt, run / "model.zip")
    for key, value in trained.items():  # the trained weights, not the fresh ones
        assert torch.equal(rebuilt.policy.state_dict()[key], value)
    PPO.load(run / "model.zip", device="cpu")  # SB3 itself does unpickle the planted entry
    assert marker.exists()


def test_the_headline_metrics_of_hand_built_episodes():
    """25 episodes: the last 10% are the last 2 (25 // 10); the first success is episode 7's step count."""
    episodes = [{"episode_return": float(i), "success": i in (7, 12, 24), "timesteps": 100 * (i + 1)}
                for i in range(25)]  # fmt: skip
    assert summarize(episodes) == {"final_return": 23.5, "success": True, "steps_to_first_success": 800,
                                   "success_rate_last": 0.5, "episodes": 25}  # fmt: skip
    # fewer than 10 episodes: the last one alone; no success anywhere
    few = [{"episode_return": r, "success": False, "timesteps": t} for r, t in ((1.0, 10), (3.0, 20))]
    assert summarize(few) == {"final_return": 3.0, "success": False, "steps_to_first_success": None,
                              "success_rate_last": 0.0, "episodes": 2}  # fmt: skip
    assert summarize([])["episodes"] == 0 and summarize([])["steps_to_first_success"] is None
