"""Smoke runs of the IAF-VAE training command and benchmark on tiny fake MNIST files."""

from __future__ import annotations

import dataclasses
import json
import math
import struct
from pathlib import Path

import pytest
import torch

from curiosity.serialization import safe_load
from generative.iaf.train import IAFTrainConfig, build_model, load_model, train

TINY = {"latent_dim": 8, "channels": 4, "hidden": 16, "context_dim": 4, "iaf_width": 8, "free_bits_groups": 4}


def _write_fake_mnist(directory: Path, n_train: int = 64, n_test: int = 32) -> Path:
    """Uncompressed IDX files of random strokes-like images (enough for the loader)."""
    directory.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = (torch.rand(n, 28, 28, generator=generator) * 255).to(torch.uint8)
        labels = torch.randint(0, 10, (n,), generator=generator).to(torch.uint8)
        (directory / f"{prefix}-images-idx3-ubyte").write_bytes(
            struct.pack(">IIII", 0x803, n, 28, 28) + images.numpy().tobytes()
        )
        label_file = directory / f"{prefix}-labels-idx1-ubyte"
        label_file.write_bytes(struct.pack(">II", 0x801, n) + labels.numpy().tobytes())
    return directory


def _config(tmp_path: Path, **kwargs) -> IAFTrainConfig:
    fields = {
        **TINY, "mnist_dir": str(_write_fake_mnist(tmp_path / "mnist")), "out_dir": str(tmp_path / "run"),
        "batch_size": 16, "eval_samples": 4, "monitor_images": 16, "progress": False,
    }
    return IAFTrainConfig(**{**fields, **kwargs})


def test_train_writes_outputs_and_resumes(tmp_path):
    config = _config(tmp_path, epochs=1, free_bits=0.1)
    metrics = train(config)
    run = tmp_path / "run"
    for name in ("samples.png", "reconstructions.png", "metrics.json", "checkpoint.pt"):
        assert (run / name).is_file(), name
    assert metrics["epochs"] == 1 and metrics["test_nll"] == pytest.approx(-metrics["test_log_px"])
    assert metrics["test_nll"] > 0 and metrics["eval_samples"] == 4
    state = safe_load(run / "checkpoint.pt")  # weights_only: plain data
    assert state["epoch"] == 1 and state["step"] == 4
    resumed = train(dataclasses.replace(config, epochs=2))  # continues from epoch 1
    assert [h["epoch"] for h in resumed["history"]] == [1, 2]
    assert resumed["history"][0] == metrics["history"][0]
    again = train(dataclasses.replace(config, epochs=2))  # nothing left to train
    assert again["history"] == resumed["history"]
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 2
    model = load_model(run / "checkpoint.pt")
    reference = build_model(state["config"])
    reference.load_state_dict(safe_load(run / "checkpoint.pt")["ema"])
    images = torch.rand(2, 28, 28)
    assert model.encode(images).shape == (2, 8)
    torch.testing.assert_close(model.encode(images), reference.encode(images))


def test_mid_epoch_checkpoint_resumes_exactly(tmp_path, monkeypatch):
    """A run killed after a mid-epoch checkpoint and resumed ends with the same weights as a straight run."""
    straight = _config(tmp_path / "a", epochs=1, eval_samples=0)
    train(straight)
    reference = safe_load(tmp_path / "a" / "run" / "checkpoint.pt")

    from generative.iaf import train as train_iaf

    calls = {"n": 0}
    real_update = train_iaf._update_ema

    def crash_after_two_steps(*args):
        real_update(*args)
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the third step: after the checkpoint written at the second

    monkeypatch.setattr(train_iaf, "_update_ema", crash_after_two_steps)
    interrupted = _config(tmp_path / "b", epochs=1, eval_samples=0, checkpoint_minutes=1e-9)
    with pytest.raises(KeyboardInterrupt):
        train(interrupted)
    partial = safe_load(tmp_path / "b" / "run" / "checkpoint.pt")
    assert partial["epoch"] == 0 and partial["partial"]["next_batch"] == 2
    monkeypatch.setattr(train_iaf, "_update_ema", real_update)
    train(dataclasses.replace(interrupted, checkpoint_minutes=0.0))
    resumed = safe_load(tmp_path / "b" / "run" / "checkpoint.pt")
    assert resumed["step"] == reference["step"] == 4 and resumed["partial"] is None
    for key, value in reference["model"].items():
        torch.testing.assert_close(resumed["model"][key], value, msg=key)
    assert resumed["history"][0]["train_elbo"] == pytest.approx(reference["history"][0]["train_elbo"])


def test_resume_with_other_model_settings_raises(tmp_path):
    train(_config(tmp_path, epochs=1, eval_samples=0))
    with pytest.raises(ValueError, match="different model settings"):
        train(_config(tmp_path, epochs=1, eval_samples=0, posterior="diagonal"))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"lr_final": 1.0}, "lr_final <= lr"),
        ({"ema_decay": 1.0}, "ema_decay must be in"),
        ({"free_bits": -1.0}, "free_bits must be >= 0"),
        ({"free_bits_groups": 3}, "free_bits_groups must divide latent_dim"),
        ({"train_images": 0}, r"train_images must be >= 1 \(None: all images\), got 0"),
        ({"train_images": -10}, "train_images must be >= 1"),  # would silently drop the last 10
        ({"test_images": 0}, "test_images must be >= 1"),
        ({"posterior": "maf"}, "posterior must be one of"),
        ({"iaf_depth": 0}, "iaf_depth must be >= 1"),
        ({"device": "cuda:x"}, r"device must be 'auto' \(CUDA when available, else CPU\), .* got 'cuda:x'"),
    ],
)
def test_bad_config_raises(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        train(_config(tmp_path, epochs=1, **kwargs))


def test_benchmark_smoke(tmp_path, monkeypatch):
    from benchmarks.generative import iaf_mnist

    monkeypatch.setenv("MNIST_DIR", str(_write_fake_mnist(tmp_path / "mnist")))
    monkeypatch.setattr(iaf_mnist, "MODELS", {k: {**v, **TINY} for k, v in iaf_mnist.MODELS.items()})
    config = iaf_mnist.IAFBenchmarkConfig(
        epochs=1, importance_samples=3, checkpoint_dir=str(tmp_path / "ckpt"),
        results_dir=str(tmp_path / "res"), device="cpu",
    )
    assert iaf_mnist.model_config("iaf", config).device == "cpu"
    summary = iaf_mnist.run(config)
    for key in ("nll_diagonal", "nll_iaf", "importance_samples", "minutes_each", "epochs"):
        assert key in summary
    res = tmp_path / "res"
    assert json.loads((res / "iaf_mnist.json").read_text())["importance_samples"] == 3
    assert (res / "iaf_mnist.md").read_text().startswith("# VAE with inverse autoregressive flow")
    assert (res / "iaf_mnist_iaf_samples.png").is_file()
    assert iaf_mnist.run(config)["nll_iaf"] == summary["nll_iaf"]  # finished models are reused


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_run_started_on_cuda_resumes_on_the_cpu(tmp_path):
    first = train(_config(tmp_path, epochs=1, device="cuda"))
    resumed = train(_config(tmp_path, epochs=2, device="cpu"))
    assert resumed["epochs"] == 2 and resumed["history"][0] == first["history"][0]
    assert math.isfinite(resumed["test_nll"])
