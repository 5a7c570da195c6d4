"""benchmarks.speed.gpu_check: skips cleanly without CUDA; its measuring pipeline on the CPU, tiny."""

import json

import torch

from benchmarks.speed import gpu_check


def test_without_cuda_it_says_so_writes_nothing_and_succeeds(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "gpu_check.json"
    assert gpu_check.main(["--out", str(out)]) is None
    assert "no CUDA device on this machine" in capsys.readouterr().out
    assert not out.exists()


def test_the_measurements_compare_a_device_with_the_cpu(monkeypatch):
    """With the CPU standing in for the GPU, every agreement is exact and every time is measured."""
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: f"stand-in {device}")
    result = gpu_check.run(32, [2, 1], torch.device("cpu"))
    json.dumps(result)  # JSON-ready
    assert result["device"] == "stand-in cpu" and result["batch"] == 32
    for row, n_samples in zip(result["by_samples"], [2, 1], strict=True):
        assert row["n_samples"] == n_samples and row["infogain_max_rel_diff_cuda_vs_cpu"] == 0.0
        assert row["ms_batched_cuda"] > 0 and row["ratio_to_plain_pass_cuda"] > 0
    assert result["vime_end_to_end"] == {"transitions": 32, "max_rel_diff": 0.0, "median_rel_diff": 0.0}
