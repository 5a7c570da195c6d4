"""Tests of InfoGAN: the MI bound against torch.distributions, shapes, validation, a short MNIST run."""

from __future__ import annotations

import functools
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.distributions import Categorical, Normal

from benchmarks.generative import infogan_mnist
from benchmarks.generative.infogan_mnist import cluster_error
from curiosity.serialization import safe_load
from generative.infogan import InfoGAN, LatentSpec, mutual_information_bound, split_q_params, to_images
from generative.infogan.figures import save_traversals
from generative.infogan.train import EpochSampler, InfoGANConfig, load_model, main, train

TINY = dict(channels=8, hidden=64, q_hidden=32)


def tiny_model(spec: LatentSpec | None = None, **kwargs) -> InfoGAN:
    torch.manual_seed(0)
    return InfoGAN(spec or LatentSpec(noise=5, categorical=(10,), continuous=2), **TINY, **kwargs)


# -- the mutual-information bound (oracle: torch.distributions) ------------------------------------------


def test_categorical_term_is_log_k_minus_cross_entropy():
    spec = LatentSpec(noise=3, categorical=(10, 4), continuous=0)
    codes = spec.sample(64, torch.Generator().manual_seed(1))
    params = torch.randn(64, spec.q_output_dim(False), generator=torch.Generator().manual_seed(2))
    bound = mutual_information_bound(split_q_params(params, spec), codes, spec)
    expected_10 = math.log(10) + Categorical(logits=params[:, :10]).log_prob(codes.categorical[:, 0]).mean()
    expected_4 = math.log(4) + Categorical(logits=params[:, 10:]).log_prob(codes.categorical[:, 1]).mean()
    torch.testing.assert_close(bound.categorical, torch.stack([expected_10, expected_4]))
    torch.testing.assert_close(bound.total, expected_10 + expected_4)
    assert bound.continuous.shape == (0,)


def test_continuous_term_is_gaussian_log_likelihood_with_fixed_std():
    spec = LatentSpec(noise=3, categorical=(), continuous=3)
    codes = spec.sample(50, torch.Generator().manual_seed(3))
    means = torch.randn(50, 3)
    bound = mutual_information_bound(split_q_params(means, spec, "fixed", fixed_std=1.0), codes, spec)
    expected = Normal(means, 1.0).log_prob(codes.continuous).mean(0) + math.log(2)  # + H(U(-1, 1))
    torch.testing.assert_close(bound.continuous, expected)
    torch.testing.assert_close(bound.total, expected.sum())


def test_continuous_term_with_learned_std():
    spec = LatentSpec(noise=0, categorical=(3,), continuous=2)
    codes = spec.sample(40, torch.Generator().manual_seed(4))
    params = torch.randn(40, spec.q_output_dim(True))
    q = split_q_params(params, spec, "learned")
    std = torch.exp(0.5 * params[:, 5:])
    torch.testing.assert_close(q.std, std)
    bound = mutual_information_bound(q, codes, spec)
    expected = Normal(params[:, 3:5], std).log_prob(codes.continuous).mean(0) + math.log(2)
    torch.testing.assert_close(bound.continuous, expected)


def test_perfect_categorical_prediction_reaches_entropy():
    spec = LatentSpec(noise=1, categorical=(10,), continuous=0)
    codes = spec.sample(32)
    logits = 100.0 * torch.nn.functional.one_hot(codes.categorical[:, 0], 10).float()
    bound = mutual_information_bound(split_q_params(logits, spec), codes, spec)
    assert bound.total.item() == pytest.approx(math.log(10), abs=1e-4)
    assert spec.entropy == pytest.approx(math.log(10))


# -- latent spec, model shapes, encode -------------------------------------------------------------------


def test_latent_layout_and_traversal():
    spec = LatentSpec(noise=62, categorical=(10,), continuous=2)
    assert spec.dim == 74 and spec.q_output_dim(False) == 12 and spec.q_output_dim(True) == 14
    sample = spec.sample(16)
    z = spec.join(sample)
    assert z.shape == (16, 74)
    assert sample.noise.abs().max() <= 1 and sample.continuous.abs().max() <= 1
    torch.testing.assert_close(z[:, 62:72].argmax(1), sample.categorical[:, 0])
    torch.testing.assert_close(z[:, 72:], sample.continuous)
    grid = spec.traversal(1, torch.linspace(-2, 2, 9), torch.zeros(62))
    assert grid.noise.shape == (90, 62) and grid.categorical.shape == (90, 1)
    assert grid.categorical[:, 0].tolist() == [r for r in range(10) for _ in range(9)]
    torch.testing.assert_close(grid.continuous[:9, 1], torch.linspace(-2, 2, 9))
    assert (grid.continuous[:, 0] == 0).all()


@pytest.mark.parametrize(
    "spec", [LatentSpec(5, (10,), 2), LatentSpec(4, (3, 5), 1), LatentSpec(0, (), 3), LatentSpec(2, (7,), 0)]
)
def test_encode_shapes(spec):
    model = tiny_model(spec)
    model.train()
    images = torch.randint(0, 256, (13, 28, 28), dtype=torch.uint8)
    codes = model.encode(images, batch_size=5)
    assert len(codes.probs) == spec.n_categorical
    for probs, k in zip(codes.probs, spec.categorical, strict=True):
        assert probs.shape == (13, k)
        torch.testing.assert_close(probs.sum(1), torch.ones(13))
    assert codes.labels.shape == (13, spec.n_categorical) and codes.labels.dtype == torch.int64
    assert codes.means.shape == (13, spec.continuous)
    assert codes.features().shape == (13, sum(spec.categorical) + spec.continuous)
    assert model.training  # flag restored
    # evaluation mode: an image's codes do not depend on its batch; float (B, 1, 28, 28) input accepted
    alone = model.encode(images[:1].unsqueeze(1).float() / 255)
    torch.testing.assert_close(alone.means, codes.means[:1])


def test_generate_and_gradients_reach_every_parameter():
    model = tiny_model()
    latent = model.spec.sample(8)
    images = model.generate(latent)
    assert images.shape == (8, 1, 28, 28) and images.min() >= 0 and images.max() <= 1
    logits, q = model.discriminate(images)
    assert logits.shape == (8,) and q.mean.shape == (8, 2) and q.logits[0].shape == (8, 10)
    (logits.sum() - mutual_information_bound(q, latent, model.spec).total).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_figures_and_cluster_error(tmp_path: Path):
    paths = save_traversals(tiny_model(), tmp_path, n_cols=5)
    assert [p.name for p in paths] == ["traversal_c0.png", "traversal_c1.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
    labels = np.array([0, 0, 1, 1, 2, 2, 2])
    error, mapping = cluster_error(np.array([2, 2, 0, 0, 1, 1, 0]), labels)
    assert error == pytest.approx(1 / 7) and mapping == {2: 0, 0: 1, 1: 2}


def test_epoch_sampler_covers_each_epoch_once():
    sampler = EpochSampler(10, 4, seed=0)
    first_epochs = torch.cat([sampler.indices(i) for i in range(5)])  # 20 indices = 2 epochs
    assert sorted(first_epochs[:10].tolist()) == list(range(10))
    assert sorted(first_epochs[10:].tolist()) == list(range(10))


# -- validation ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: LatentSpec(noise=-1), "noise must be >= 0"),
        (lambda: LatentSpec(categorical=(10, 1)), "categorical sizes must each be >= 2"),
        (lambda: LatentSpec(continuous=-2), "continuous must be >= 0"),
        (lambda: LatentSpec(categorical=(), continuous=0), "at least one code"),
        (lambda: LatentSpec().sample(0), "batch must be >= 1"),
        (lambda: InfoGAN(continuous_std="adaptive"), "continuous_std must be one of"),
        (lambda: InfoGAN(fixed_std=0.0), "fixed_std must be > 0"),
        (lambda: InfoGAN(channels=0), "channels must be >= 1"),
        (lambda: InfoGAN(leak=1.0), "leak"),
        (lambda: split_q_params(torch.zeros(4, 11), LatentSpec()), r"shape \(batch, 12\)"),
        (lambda: to_images(torch.zeros(2, 32, 32)), "images must have shape"),
        (lambda: to_images(torch.rand(2, 28, 28) * 255), r"float images must lie in \[0, 1\]"),  # unscaled
        (lambda: tiny_model().encode(torch.full((2, 28, 28), 200)),  # int64 pixel values
         r"must lie in \[0, 1\], got values in \[200"),
        (lambda: LatentSpec(categorical=(2.5,)), "sizes must be whole numbers: categorical got 2.5"),
        (lambda: LatentSpec(noise=62.0), "sizes must be whole numbers: noise got 62.0"),
        (lambda: LatentSpec().traversal(0, torch.zeros(3), torch.zeros(62), categorical_code=1),
         r"categorical_code must index a categorical code in \[0, 1\), got 1"),
        (lambda: LatentSpec().traversal(0, torch.zeros(3), torch.zeros(61)),
         r"noise must have shape \(62,\)"),
        (lambda: tiny_model().encode(torch.zeros(2, 28, 28), batch_size=0), "batch_size must be >= 1"),
        (lambda: cluster_error(np.zeros(3), np.zeros(4)), "equal-length"),
    ],
)
def test_bad_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("batch_size", 1, "batch_size must be >= 2"),
        ("iterations", 0, "iterations must be > 0"),
        ("lr_generator", 0.0, "lr_generator must be > 0"),
        ("beta1", 1.0, r"beta1 must be in \[0, 1\)"),
        ("lambda_categorical", -1.0, "lambda_categorical must be a finite number >= 0"),
        ("lambda_continuous", float("nan"), "lambda_continuous must be a finite number >= 0"),
        ("train_images", 10, "train_images must be >= batch_size"),
        ("checkpoint_every", 0, "checkpoint_every must be > 0"),
        ("device", "tpu", r"device must be 'auto' \(CUDA when available, else CPU\), .* got 'tpu'"),
    ],
)
def test_bad_config_raises(tmp_path: Path, field, value, match):
    config = InfoGANConfig(out_dir=tmp_path, progress=False)
    setattr(config, field, value)
    with pytest.raises(ValueError, match=match):
        train(config)


# -- training on MNIST -----------------------------------------------------------------------------------


def short_config(out_dir: Path | None = None, **kwargs) -> InfoGANConfig:
    base = dict(
        out_dir=out_dir, iterations=80, batch_size=32, train_images=2048, lr_discriminator=2e-3,
        lr_generator=2e-3, checkpoint_every=1000, figures=False, progress=False, resume=False, threads=1,
        **TINY,
    )  # fmt: skip
    return InfoGANConfig(**{**base, **kwargs})


def test_generator_mi_term_raises_the_bound(tmp_path: Path):
    """lambda = 1 with the generator's MI term: Q reads the codes far better than when G ignores L_I."""

    def final_bound(**kwargs) -> float:  # L_I of the categorical code, mean of the last 20 iterations
        return float(np.mean(train(short_config(**kwargs))["history"]["mi_categorical"][-20:]))

    with_mi = final_bound(out_dir=tmp_path / "on")
    without = final_bound(out_dir=tmp_path / "off", generator_mi=False)
    assert with_mi > 0.5, (with_mi, without)
    assert with_mi > without + 0.4, (with_mi, without)


def test_resume_continues_exactly(tmp_path: Path):
    straight = train(short_config(tmp_path / "a", iterations=6, checkpoint_every=3, figures=True))
    assert (tmp_path / "a" / "traversal_c0.png").is_file()
    train(short_config(tmp_path / "b", iterations=3))
    resumed = train(short_config(tmp_path / "b", iterations=6, resume=True))
    assert resumed["history"]["d_loss"] == pytest.approx(straight["history"]["d_loss"])
    for key, value in straight["model"].state_dict().items():
        torch.testing.assert_close(resumed["model"].state_dict()[key], value)
    state = safe_load(tmp_path / "b" / "checkpoint.pt")  # weights_only load: plain data only
    assert state["iteration"] == 6
    loaded = load_model(tmp_path / "b" / "checkpoint.pt").state_dict()
    torch.testing.assert_close(
        loaded["generator.net.0.weight"], straight["model"].state_dict()["generator.net.0.weight"]
    )
    with pytest.raises(ValueError, match="trained with channels=8"):
        train(short_config(tmp_path / "b", iterations=9, resume=True, channels=4))


def test_command_smoke(tmp_path: Path, monkeypatch, capsys):
    argv = ["train_infogan", "--out-dir", str(tmp_path), "--iterations", "2", "--batch-size", "4"]
    argv += ["--train-images", "8", "--channels", "4", "--hidden", "8", "--q-hidden", "4", "--no-progress"]
    argv += ["--categorical", "3", "4", "--continuous", "1", "--threads", "1", "--device", "cpu"]
    monkeypatch.setattr(sys, "argv", argv)
    main()
    assert "trained 2 iterations" in capsys.readouterr().out
    assert (tmp_path / "checkpoint.pt").is_file() and (tmp_path / "traversal_c0.png").is_file()


def test_benchmark_smoke_and_skips_finished_seeds(tmp_path: Path, monkeypatch):
    argv = ["infogan_mnist", "--seeds", "3", "--iterations", "1", "--no-progress", "--threads", "1"]
    argv += ["--device", "cpu"]
    argv += ["--checkpoint-root", str(tmp_path / "ck"), "--results-dir", str(tmp_path / "res")]
    monkeypatch.setattr(sys, "argv", argv)
    tiny = functools.partial(InfoGANConfig, batch_size=8, train_images=64, channels=4, hidden=8, q_hidden=4)
    monkeypatch.setattr(
        infogan_mnist, "InfoGANConfig", tiny
    )  # the paper's model is too slow for a smoke test
    infogan_mnist.main()
    summary = json.loads((tmp_path / "res" / "infogan_mnist.json").read_text())
    assert summary["seeds"] == [3] and 0 <= summary["error_median"] <= 1
    assert len(summary["error_per_seed"]) == len(summary["minutes_per_seed"]) == 1
    assert (tmp_path / "res" / "infogan_mnist.md").is_file()
    assert (tmp_path / "res" / "infogan_mnist_traversal_c1.png").is_file()
    monkeypatch.setattr(infogan_mnist, "run_seed", lambda *_: pytest.fail("finished seed was rerun"))
    shutil.rmtree(tmp_path / "ck")  # checkpoints are local: a fresh clone summarises from the results alone
    infogan_mnist.main()
    summary = json.loads((tmp_path / "res" / "infogan_mnist.json").read_text())
    assert summary["figures"] == ["infogan_mnist_traversal_c0.png", "infogan_mnist_traversal_c1.png"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_run_started_on_cuda_resumes_on_the_cpu(tmp_path: Path):
    on_gpu = train(short_config(tmp_path, iterations=3, device="cuda"))
    assert next(on_gpu["model"].parameters()).device.type == "cuda"
    resumed = train(short_config(tmp_path, iterations=6, resume=True, device="cpu"))
    assert resumed["iterations"] == 6 and next(resumed["model"].parameters()).device.type == "cpu"
    assert resumed["history"]["d_loss"][:3] == on_gpu["history"]["d_loss"]
