"""The InfoGAN MNIST benchmark's bookkeeping (no training here)."""

import json
import re

import pytest

from benchmarks.generative import infogan_mnist
from tests.fakes import killed_while_writing


def write_seed(results_dir, tmp_path, leak):
    figure = tmp_path / "traversal_c0.png"
    figure.write_bytes(b"png")
    confusion = [[100 if code == digit else 0 for digit in range(10)] for code in range(10)]
    result = {"seed": 0, "error": 0.1, "code_to_digit": {str(k): k for k in range(10)},
              "confusion": confusion,
              "iterations": 5000, "minutes": 50.0, "cpu_minutes": 49.0, "seconds_per_iteration": 0.6,
              "final": {"mi_categorical": 2.29}, "figures": [str(figure)], "torch_threads": 1,
              "config": {"iterations": 5000, "leak": leak}}
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "infogan_mnist_seed0.json").write_text(json.dumps(result))


def test_a_finished_seed_of_another_slope_is_refused_not_reused(tmp_path):
    write_seed(tmp_path / "results", tmp_path, leak=0.01)
    config = infogan_mnist.BenchmarkConfig(seeds=(0,), leak=0.1, results_dir=tmp_path / "results",
                                           checkpoint_root=tmp_path / "ckpt")
    expected = re.escape("made with 5000 iterations and leak 0.01, not 5000 and 0.1")
    with pytest.raises(SystemExit, match=expected):
        infogan_mnist.main(config)
    assert not (tmp_path / "ckpt").exists()  # nothing was trained


def test_the_report_carries_the_command_and_slope_that_ran(tmp_path, monkeypatch):
    write_seed(tmp_path / "results", tmp_path, leak=0.1)
    monkeypatch.setattr("sys.argv", ["infogan_mnist.py", "--seeds", "0", "--leak", "0.1"])
    monkeypatch.setenv("TORCH_THREADS", "1")
    config = infogan_mnist.BenchmarkConfig(seeds=(0,), leak=0.1, results_dir=tmp_path / "results",
                                           checkpoint_root=tmp_path / "ckpt")
    summary = infogan_mnist.main(config)
    assert summary["command"] == (
        "env TORCH_THREADS=1 python -m benchmarks.generative.infogan_mnist --seeds 0 --leak 0.1")
    report = (tmp_path / "results" / "infogan_mnist.md").read_text()
    assert f"Command: `{summary['command']}`" in report and "leaky-ReLU slope 0.1" in report
    assert "| 0 | 10.00% |" in report


def test_a_seed_file_cut_short_by_a_kill_is_never_left_behind(tmp_path, monkeypatch):
    """Half a seed's file would be read as a finished seed next time (and fail to parse): whole or absent."""
    write_seed(tmp_path / "template", tmp_path, leak=0.01)
    result = json.loads((tmp_path / "template" / "infogan_mnist_seed0.json").read_text())
    monkeypatch.setattr(infogan_mnist, "run_seed", lambda seed, config: result)
    config = infogan_mnist.BenchmarkConfig(seeds=(0,), results_dir=tmp_path / "results",
                                           checkpoint_root=tmp_path / "ckpt")  # fmt: skip
    name = "infogan_mnist_seed0.json"
    with monkeypatch.context() as patch:
        killed_while_writing(patch, name)
        with pytest.raises(KeyboardInterrupt):
            infogan_mnist.main(config)
    path = tmp_path / "results" / name
    assert not path.exists() or json.loads(path.read_text()) == result
    assert infogan_mnist.main(config)["error_per_seed"] == [0.1]
