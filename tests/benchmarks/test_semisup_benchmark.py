"""The semi-supervised MNIST benchmark's bookkeeping (no training here)."""

import json
import typing

import pytest

from benchmarks import semisup_mnist


def write_run(results_dir, epochs):
    runs = results_dir / "semisup_mnist_runs"
    runs.mkdir(parents=True)
    record = {"name": "main", "seed": 0, "overrides": {}, "test_error": 0.02, "minutes": 1.0,
              "seconds_per_epoch": 1.0, "epochs": epochs, "labels": 100,
              "history": [{"epoch": epochs, "test_error": 0.02, "test_error_raw": 0.015}]}
    (runs / "main_seed0.json").write_text(json.dumps(record))


def test_a_finished_run_of_another_budget_is_refused_not_reused(tmp_path):
    write_run(tmp_path, epochs=60)
    args = semisup_mnist.Args(epochs=120, results_dir=tmp_path, checkpoint_root=tmp_path / "ckpt")
    with pytest.raises(SystemExit, match="made with 60 epochs and 100 labels, not 120"):
        semisup_mnist._run(args, "main", 0, {})
    same = semisup_mnist.Args(epochs=60, results_dir=tmp_path, checkpoint_root=tmp_path / "ckpt")
    record = semisup_mnist._run(same, "main", 0, {})
    assert record["test_error_raw"] == 0.015  # filled in from the history of records that predate the field
    assert not (tmp_path / "ckpt").exists()  # nothing was trained


def test_the_report_carries_the_command_that_ran(tmp_path, monkeypatch):
    write_run(tmp_path, epochs=60)
    monkeypatch.setattr("sys.argv", ["semisup_mnist.py", "--seeds", "0", "--epochs", "60", "--no-ablations"])
    monkeypatch.setenv("TORCH_THREADS", "1")
    args = semisup_mnist.Args(seeds=[0], epochs=60, ablations=False, results_dir=tmp_path)
    summary = semisup_mnist.main(args)
    expected = "env TORCH_THREADS=1 python -m benchmarks.semisup_mnist --seeds 0 --epochs 60 --no-ablations"
    assert summary["command"] == expected
    report = (tmp_path / "semisup_mnist.md").read_text()
    assert f"Command: `{summary['command']}`" in report and "| 0 | 2.00% | 1.50% |" in report
    assert "![test error per epoch](semisup_mnist_curves.png)" in report
    assert (tmp_path / "semisup_mnist_curves.png").read_bytes().startswith(b"\x89PNG")


def test_every_ablation_can_be_chosen_by_name_and_runs_alone(tmp_path, monkeypatch):
    assert set(typing.get_args(semisup_mnist.AblationName)) == set(semisup_mnist.ABLATIONS)
    trained = []
    monkeypatch.setattr(semisup_mnist, "_run", lambda args, name, seed, overrides: trained.append(name) or {
        "seed": seed, "overrides": overrides, "test_error": 0.02, "test_error_raw": 0.02, "minutes": 1.0,
        "seconds_per_epoch": 1.0})
    args = semisup_mnist.Args(seeds=[], ablation_names=("minibatch_discrimination",), results_dir=tmp_path)
    summary = semisup_mnist.main(args)
    assert trained == ["minibatch_discrimination"]
    assert list(summary["ablations"]) == ["minibatch_discrimination"]


def test_an_unknown_ablation_is_named_before_anything_runs(tmp_path):
    args = semisup_mnist.Args(seeds=[0], ablation_names=("no_dropout",), results_dir=tmp_path / "out")
    with pytest.raises(ValueError, match=r"unknown ablation\(s\) \['no_dropout'\]"):
        semisup_mnist.main(args)
    assert not (tmp_path / "out").exists()
