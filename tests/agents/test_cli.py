"""`curiosity train` / `curiosity evaluate`: a user's mistake is one line naming the flag, exit status 2."""

import json

import pytest
import tyro

from agents.cli import TrainArgs
from agents.errors import UsageError
from benchmarks.cli import main as curiosity
from curiosity.registry import BONUSES

TINY = ["--timesteps", "64", "--algo-kwargs", json.dumps({"n_steps": 64, "batch_size": 32, "n_epochs": 1})]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--env", "NoSuchEnv-v0"], "--env: unknown environment id 'NoSuchEnv-v0' "),
        (["--timesteps", "0"], "--timesteps must be a positive integer, got 0"),
        (["--n-envs", "0"], "--n-envs must be an integer >= 1, got 0"),
        (["--algo", "ppo", "--mode", "relabel"], "--mode 'relabel' relabels a replay "
                                                 "buffer, which ppo has not: use 'rollout' or 'step'"),
        (["--algo", "sac", "--mode", "rollout"], "--mode 'rollout' rewrites an "
                                                 "on-policy rollout, which sac has not"),
        (["--bonus", "none", "--eta", "0.1"], "--eta has no effect with --bonus none: "
                                              "drop --eta or choose a bonus"),
        (["--bonus", "simhash", "--bonus-kwargs", '{"beta": 0.01}'], "--bonus-kwargs: "
                                                                     "bonus 'simhash' takes no keyword "
                                                                     "argument 'beta'; it takes: k, "),
        (["--bonus-kwargs", "[1]"], "--bonus-kwargs must be a JSON object"),
        (["--bonus", "none", "--value-targets", "extrinsic"], "--value-targets chooses between returns with "
                                                              "and without a bonus: it needs a bonus"),
        (["--algo", "sac", "--value-baseline", "linear_feature"], "--value-baseline 'linear_feature' "
                                                                  "replaces an on-policy critic; sac is "
                                                                  "off-policy"),
        (["--bonus-kwargs", '{"device": "gpu"}'], "--bonus-kwargs: device must be 'auto' (CUDA when "
                                                  "available, else CPU), 'cpu', 'cuda', 'cuda:N' or a "
                                                  "torch.device, got 'gpu'"),
    ],
)  # fmt: skip
def test_train_mistakes_print_one_line_and_write_nothing(tmp_path, capsys, args, line):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        curiosity(["train", "--out", str(out), *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"curiosity train: error: {line}")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()  # nothing written before the arguments were checked


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--run", "{tmp}/missing"], "--run: no run directory '{tmp}/missing': give "
                                     "the --out of a training run"),
        (["--run", "{tmp}"], "--run: {tmp}/config.json is missing"),
        (["--run", "{tmp}", "--episodes", "0"], "--episodes must be an integer >= 1"),
    ],
)  # fmt: skip
def test_evaluate_mistakes_print_one_line(tmp_path, capsys, args, line):
    with pytest.raises(SystemExit) as exit_info:
        curiosity(["evaluate", *[a.format(tmp=tmp_path) for a in args]])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1
    assert err.startswith(f"curiosity evaluate: error: {line.format(tmp=tmp_path)}")


def test_debug_shows_the_error_itself(tmp_path):
    with pytest.raises(UsageError, match="n_envs must be an integer >= 1, got 0") as error:
        curiosity(["train", "--out", str(tmp_path / "run"), "--n-envs", "0", "--debug"])
    assert error.value.param == "n_envs"


def test_eta_zero_without_a_bonus_is_accepted_by_the_library_but_not_by_the_command(tmp_path, capsys):
    from agents.experiment import check_run_args

    check_run_args("Pendulum-v1", "ppo", "none", eta=0.0)  # a suite's "none" method carries eta 0
    with pytest.raises(SystemExit):
        curiosity(["train", "--out", str(tmp_path / "run"), "--bonus", "none", "--eta", "0", *TINY])
    assert "--eta has no effect" in capsys.readouterr().err


def test_every_bonus_of_the_registry_is_a_bonus_choice_and_no_other_name_is() -> None:
    for name in ("none", *BONUSES):
        assert tyro.cli(TrainArgs, args=["--bonus", name]).bonus == name
    with pytest.raises(SystemExit):
        tyro.cli(TrainArgs, args=["--bonus", "curious"])


def test_the_papers_protocol_flags_reach_the_run(tmp_path):
    out = tmp_path / "run"
    curiosity(["train", "--env", "Pendulum-v1", "--algo", "trpo", "--bonus", "simhash", "--timesteps", "64",
               "--algo-kwargs", json.dumps({"n_steps": 64, "batch_size": 64, "n_critic_updates": 0}),
               "--no-bootstrap-horizon", "--value-targets", "extrinsic", "--value-baseline", "linear_feature",
               "--out", str(out), "--threads", "1"])
    config = json.loads((out / "config.json").read_text())
    assert config["bootstrap_horizon"] is False and config["value_baseline"] == "linear_feature"
    assert config["callback_kwargs"] == {"value_targets": "extrinsic"}
    metrics = json.loads((out / "metrics.json").read_text())  # the run's final metrics, kept
    assert metrics["timesteps"] == 64 and metrics["episodes"] == 0  # 64 steps: no 200-step episode ended
    assert metrics["success"] is False and metrics["steps_to_first_success"] is None
