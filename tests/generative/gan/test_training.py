"""Improved-GAN models, the semi-supervised trainer, the command, and the CIFAR-10 loader."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from curiosity.serialization import safe_load
from generative.data.cifar10 import load_cifar10
from generative.data.mnist import load_mnist
from generative.gan.models import CifarDiscriminator, CifarGenerator, MnistDiscriminator, MnistGenerator
from generative.gan.semisup import SemiSupervisedGAN, labelled_batches, linear_decay_lr, select_labelled
from generative.gan.train import TrainGanConfig, save_sample_grid, train


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    yield
    torch.set_num_threads(threads)


def test_mnist_models_shapes_and_features() -> None:
    torch.manual_seed(0)
    d, g = MnistDiscriminator(), MnistGenerator()
    z = g.sample_noise(7)
    x = g(z)
    assert z.shape == (7, 100) and x.shape == (7, 784) and 0 < x.min() and x.max() < 1
    assert d(x).shape == (7, 10) and d.features(x).shape == (7, 250)
    assert d(x.view(7, 1, 28, 28)).shape == (7, 10)
    assert d.predict(x).shape == (7,) and d.predict(x).dtype == torch.int64
    torch.testing.assert_close(d.predict_proba(x).sum(1), torch.ones(7))
    assert d.training  # predict restores the mode
    vg = MnistGenerator(norm="virtual", n_ref=16)
    out = vg(z)
    torch.testing.assert_close(vg(z[:3]), out[:3])  # virtual batch norm: independent of the batch


def test_semisupervised_mnist_learns_well_above_chance() -> None:
    """A few hundred steps of a reduced MNIST model with 100 labels: test accuracy far above 10%."""
    x, y = load_mnist("train")
    xt, yt = load_mnist("test")
    x = x.reshape(-1, 784).float() / 255
    xt, yt = xt[:2000].reshape(-1, 784).float() / 255, yt[:2000]
    torch.manual_seed(0)
    d, g = MnistDiscriminator(hidden=(256, 128, 128)), MnistGenerator(hidden=(128, 128))
    gan = SemiSupervisedGAN(d, g)
    with pytest.raises(RuntimeError, match="initialize"):
        gan.step(x[:2], y[:2], x[:2], x[:2])
    gan.initialize(x[:500])
    lab = select_labelled(y, 10, seed=0)
    assert len(lab) == 100 and torch.equal(torch.bincount(y[lab]), torch.full((10,), 10))
    order = torch.Generator().manual_seed(0)
    idx = labelled_batches(100, 50, 250, order)
    errs = []
    for t in range(250):
        u = torch.randint(0, len(x), (2, 50), generator=order)
        out = gan.step(x[lab[idx[t]]], y[lab[idx[t]]], x[u[0]], x[u[1]])
        errs.append(out["train_err"])
    accuracy = (d.predict(xt) == yt).float().mean().item()
    assert accuracy > 0.5, accuracy
    assert np.mean(errs[-50:]) < 0.2


def test_mnist_generator_output_layer_skips_data_init() -> None:
    d, g = MnistDiscriminator(hidden=(16, 8)), MnistGenerator(hidden=(8,))
    SemiSupervisedGAN(d, g).initialize(torch.rand(40, 784))
    out = g.net[-2]
    assert torch.equal(out.g, torch.ones(784)) and torch.equal(out.b, torch.zeros(784))
    assert not torch.equal(d.head.g, torch.ones(10))  # the discriminator is data-initialised


def test_classifier_is_the_moving_average_of_the_discriminator() -> None:
    """After steps t = 1..3, avg_t = decay * avg_{t-1} + (1 - decay) * theta_t, from avg_0 = theta_0."""
    torch.manual_seed(0)
    decay = 0.9
    d, g = MnistDiscriminator(hidden=(16, 8)), MnistGenerator(hidden=(8,))
    gan = SemiSupervisedGAN(d, g, average_decay=decay)
    x, y = torch.rand(20, 784), torch.arange(20) % 10
    gan.initialize(x)
    expected = {k: v.detach().clone() for k, v in d.named_parameters()}
    for _ in range(3):
        gan.step(x[:10], y[:10], x[10:], x[:10])
        expected = {k: decay * expected[k] + (1 - decay) * v.detach() for k, v in d.named_parameters()}
    averaged = dict(gan.classifier.named_parameters())
    for name, value in expected.items():
        torch.testing.assert_close(averaged[name], value, rtol=1e-5, atol=1e-6)
    assert not torch.equal(averaged["head.v"], d.head.v)
    assert SemiSupervisedGAN(d, g, average_decay=0.0).classifier is d
    with pytest.raises(ValueError, match="average_decay must be in"):
        SemiSupervisedGAN(d, g, average_decay=1.0)


@pytest.mark.parametrize("minibatch", [0, 8])
@pytest.mark.parametrize("norm", ["batch", "virtual"])
def test_cifar_models_one_training_step(minibatch: int, norm: str) -> None:
    torch.manual_seed(0)
    d = CifarDiscriminator(minibatch_kernels=minibatch, width=(8, 16))
    g = CifarGenerator(norm=norm, n_ref=6, width=32)
    x = torch.rand(6, 3, 32, 32) * 2 - 1
    assert g.sample(6).shape == (6, 3, 32, 32)
    logits, feats = d.forward_with_features(x)
    assert logits.shape == (6, 10) and feats.shape == (6, 16)
    assert d.batch_dependent == bool(minibatch)
    gan = SemiSupervisedGAN(d, g, lr=3e-4, historical_averaging=1e-3, real_label_smoothing=0.9)
    gan.initialize(x)
    before = [p.detach().clone() for p in list(d.parameters()) + list(g.parameters())]
    out = gan.step(x, torch.randint(0, 10, (6,)), x, x.flip(0))
    assert set(out) == {"loss_lab", "loss_unl", "train_err", "loss_gen"}
    assert all(np.isfinite(v) for v in out.values())
    after = [p for p in list(d.parameters()) + list(g.parameters())]
    moved = [not torch.equal(a, b) for a, b in zip(before, after, strict=True)]
    trainable = [p.requires_grad for p in after]
    assert all(m for m, t in zip(moved, trainable, strict=True) if t)


def test_standard_generator_loss_and_minibatch_on_mnist_model() -> None:
    torch.manual_seed(0)
    d, g = MnistDiscriminator(hidden=(32, 16), minibatch_kernels=4), MnistGenerator(hidden=(16,))
    gan = SemiSupervisedGAN(d, g, generator_loss="standard")
    x = torch.rand(10, 784)
    gan.initialize(x)
    out = gan.step(x, torch.randint(0, 10, (10,)), x, x)
    assert np.isfinite(out["loss_gen"])


def test_minimax_loss_with_three_generator_steps_per_discriminator_step() -> None:
    """Their minibatch-discrimination trainers: ``-softplus(l_gen)`` (never positive), three G updates."""
    torch.manual_seed(0)
    d, g = MnistDiscriminator(hidden=(32, 16), minibatch_kernels=4), MnistGenerator(hidden=(16,))
    gan = SemiSupervisedGAN(d, g, generator_loss="minimax", generator_steps=3)
    x = torch.rand(10, 784)
    gan.initialize(x)
    out = gan.step(x, torch.randint(0, 10, (10,)), x, x)
    assert out["loss_gen"] < 0.0
    steps = lambda opt: {int(s["step"]) for s in opt.state.values()}  # noqa: E731
    assert steps(gan.opt_g) == {3} and steps(gan.opt_d) == {1}


def test_bad_hyperparameters_raise() -> None:
    d, g = MnistDiscriminator(hidden=(8,)), MnistGenerator(hidden=(8,))
    with pytest.raises(ValueError, match="lr must be > 0"):
        SemiSupervisedGAN(d, g, lr=0.0)
    with pytest.raises(ValueError, match="generator_loss must be"):
        SemiSupervisedGAN(d, g, generator_loss="wasserstein")
    with pytest.raises(ValueError, match="real_label_smoothing must be in"):
        SemiSupervisedGAN(d, g, real_label_smoothing=0.0)
    with pytest.raises(ValueError, match="historical_averaging must be >= 0"):
        SemiSupervisedGAN(d, g, historical_averaging=-1.0)
    with pytest.raises(ValueError, match="adam_eps must be > 0"):
        SemiSupervisedGAN(d, g, adam_eps=0.0)
    with pytest.raises(ValueError, match="beta1 and beta2"):
        SemiSupervisedGAN(d, g, beta1=1.0)
    with pytest.raises(ValueError, match="minibatch_kernels must be >= 0"):
        MnistDiscriminator(minibatch_kernels=-1)
    with pytest.raises(ValueError, match="norm must be 'batch' or 'virtual'"):
        MnistGenerator(norm="layer")
    with pytest.raises(ValueError, match="hidden_dropout must be in"):
        CifarDiscriminator(hidden_dropout=1.0)
    with pytest.raises(ValueError, match="per_class must be >= 1"):
        select_labelled(torch.arange(10) % 2, 0, seed=0)
    with pytest.raises(ValueError, match="fewer than per_class"):
        select_labelled(torch.arange(10) % 2, 6, seed=0)
    with pytest.raises(ValueError, match="label_seed must be >= 0, got -1"):
        select_labelled(torch.arange(10) % 2, 1, seed=-1)
    with pytest.raises(ValueError, match=r"label_draw must be one of \('torch', 'numpy'\), got 'jax'"):
        select_labelled(torch.arange(10) % 2, 1, seed=0, draw="jax")
    with pytest.raises(ValueError, match="label_seed must be >= 0, got -2"):
        TrainGanConfig(label_seed=-2).resolved()
    with pytest.raises(ValueError, match=r"label_draw must be one of \('torch', 'numpy'\), got 'jax'"):
        TrainGanConfig(label_draw="jax").resolved()
    with pytest.raises(ValueError, match="lr_decay_fraction must be in"):
        TrainGanConfig(lr_decay_fraction=1.5).resolved()
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        TrainGanConfig(epochs=0).resolved()
    with pytest.raises(ValueError, match="generator_steps must be >= 1"):
        TrainGanConfig(generator_steps=0).resolved()
    with pytest.raises(ValueError, match="generator_steps must be an integer >= 1"):
        SemiSupervisedGAN(d, g, generator_steps=0)
    with pytest.raises(ValueError, match=r"device must be 'auto' \(CUDA when available, .* got 'gpu'"):
        TrainGanConfig(device="gpu").resolved()


def test_linear_decay_lr() -> None:
    assert linear_decay_lr(1.0, 10, 100, 0.0) == 1.0
    assert linear_decay_lr(1.0, 49, 100, 0.5) == 1.0
    assert linear_decay_lr(1.0, 75, 100, 0.5) == pytest.approx(0.5)
    assert linear_decay_lr(1.0, 100, 100, 0.5) == 0.0


def _tiny(tmp_path, **kw) -> TrainGanConfig:
    base = dict(
        epochs=2,
        iterations_per_epoch=3,
        batch_size=20,
        train_subset=1000,
        test_subset=200,
        checkpoint_dir=tmp_path / "ckpt",
        progress=False,
        threads=1,
        lr_decay_fraction=0.5,
    )
    return TrainGanConfig(**(base | kw))


def test_train_command_ensemble_resume_and_samples(tmp_path) -> None:
    result = train(_tiny(tmp_path, ensemble_size=2))
    assert 0.0 <= result["test_error"] <= 1.0 and len(result["test_error_per_model"]) == 2
    assert result["labels"] == 100 and len(result["history"]) == 2 and len(result["history"][0]) == 2
    assert (tmp_path / "ckpt" / "samples.png").is_file()
    state = safe_load(tmp_path / "ckpt" / "member0.pt")  # weights_only=True
    assert state["record"]["epoch"] == 2
    # resuming a finished run trains nothing and gives the same errors (its folder given as a string, as from
    # Python rather than the command line)
    again = train(_tiny(tmp_path, ensemble_size=2, checkpoint_dir=str(tmp_path / "ckpt")))
    assert again["test_error_per_model"] == result["test_error_per_model"]
    assert again["test_error"] == result["test_error"]
    with pytest.raises(ValueError, match="different configuration"):
        train(_tiny(tmp_path, lr=0.01))


def test_resume_matches_uninterrupted(tmp_path) -> None:
    """Stopping after epoch 1 and extending to 2 epochs gives exactly the uninterrupted run."""
    full = train(_tiny(tmp_path / "a", lr_decay_fraction=0.0, sample_png=tmp_path / "a.png"))
    train(_tiny(tmp_path / "b", epochs=1, lr_decay_fraction=0.0, sample_png=tmp_path / "b.png"))
    resumed = train(_tiny(tmp_path / "b", lr_decay_fraction=0.0, sample_png=tmp_path / "b.png"))
    strip = [{k: v for k, v in e.items() if k != "seconds"} for e in full["history"][0]]
    assert [{k: v for k, v in e.items() if k != "seconds"} for e in resumed["history"][0]] == strip
    assert resumed["test_error"] == full["test_error"]


def test_a_checkpoint_from_before_a_new_setting_resumes_at_its_default(tmp_path) -> None:
    """Checkpoints written before ``generator_steps`` existed (the 50-label ensemble's) lack it in their
    config record: they were trained with the default, so they resume with it and only with it."""
    from curiosity.serialization import atomic_save

    train(_tiny(tmp_path, epochs=1))
    path = tmp_path / "ckpt" / "member0.pt"
    state = safe_load(path)
    del state["record"]["config"]["generator_steps"]
    atomic_save(state, path)
    with pytest.raises(ValueError, match="different configuration"):
        train(_tiny(tmp_path, generator_steps=3))
    assert len(train(_tiny(tmp_path))["history"][0]) == 2


def test_sample_grid_layout(tmp_path) -> None:
    import matplotlib.image

    class Fixed(MnistGenerator):
        def sample(self, n, generator=None):
            return torch.arange(n).float().div(n).repeat_interleave(784).view(n, 784)

    path = save_sample_grid(Fixed(hidden=(4,)), tmp_path / "grid.png", n=3)
    img = matplotlib.image.imread(path)
    assert img.shape[:2] == (84, 84)
    assert img[0, 0, 0] == 0.0 and img[30, 1, 0] == pytest.approx(3 / 9, abs=1 / 255)
    assert img[1, 30, 0] == pytest.approx(1 / 9, abs=1 / 255)


def _write_fake_cifar(folder, n: int = 4) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        entry = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": list(range(n))}
        with open(folder / name, "wb") as f:
            pickle.dump(entry, f)


def test_cifar10_loader_reads_python_batches(tmp_path) -> None:
    _write_fake_cifar(tmp_path / "cifar-10-batches-py")
    x, y = load_cifar10("train", tmp_path, download=False)
    assert x.shape == (20, 3, 32, 32) and x.dtype == torch.uint8 and y.tolist() == list(range(4)) * 5
    xt, _ = load_cifar10("test", tmp_path, download=False)
    assert xt.shape == (4, 3, 32, 32)
    with pytest.raises(FileNotFoundError, match="download=False"):
        load_cifar10("train", tmp_path / "missing", download=False)
    with pytest.raises(ValueError, match="split must be"):
        load_cifar10("valid", tmp_path)


def test_cifar10_loader_refuses_code_in_pickles(tmp_path) -> None:
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    with open(folder / "test_batch", "wb") as f:
        pickle.dump({b"data": Evil(), b"labels": [0]}, f)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        load_cifar10("test", tmp_path, download=False)


def test_the_device_may_change_between_a_run_and_its_resumption(tmp_path) -> None:
    full = train(_tiny(tmp_path / "a", lr_decay_fraction=0.0, device="cpu"))
    assert full["test_probs_per_model"][0].shape == (200, 10) and full["test_labels"].shape == (200,)
    errors = (full["test_probs_per_model"][0].argmax(1) != full["test_labels"]).float().mean().item()
    assert errors == full["test_error_per_model"][0]
    train(_tiny(tmp_path / "b", epochs=1, lr_decay_fraction=0.0, device="cpu"))
    resumed = train(_tiny(tmp_path / "b", lr_decay_fraction=0.0, device="auto"))
    assert resumed["test_error"] == full["test_error"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_run_started_on_cuda_resumes_on_the_cpu(tmp_path) -> None:
    train(_tiny(tmp_path, epochs=1, device="cuda"))
    state = safe_load(tmp_path / "ckpt" / "member0.pt")
    assert "cuda_rng" in state and all(t.device.type == "cpu" for t in state["gan"]["discriminator"].values())
    resumed = train(_tiny(tmp_path, device="cpu"))
    assert len(resumed["history"][0]) == 2 and 0.0 <= resumed["test_error"] <= 1.0


def test_a_training_set_smaller_than_a_batch_is_refused(tmp_path) -> None:
    """Fewer training images than batch_size gave no unlabelled batch: a hang (or epochs of 0 steps)."""
    import signal

    def hang(*_):
        raise TimeoutError("train() hung on a training set smaller than a batch")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(60)
    try:
        # the first 18 MNIST training images hold every digit: one label per class can be drawn
        with pytest.raises(ValueError, match=r"batch_size=20 is larger than the 18 training images"):
            train(_tiny(tmp_path, train_subset=18, labels_per_class=1))
        with pytest.raises(ValueError, match=r"batch_size=20 is larger than the 18 training images"):
            train(_tiny(tmp_path, train_subset=18, labels_per_class=1, iterations_per_epoch=None))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_resume_refuses_another_labelled_subset(tmp_path, monkeypatch) -> None:
    """The labelled subset is redrawn from label_seed on resume; a different draw (e.g. another torch
    version's randperm) must not silently train on other labels than the checkpoint's."""
    import generative.gan.train as train_module

    train(_tiny(tmp_path, epochs=1))
    with monkeypatch.context() as patch:
        other_draw = lambda y, k, seed, draw: select_labelled(y, k, seed + 1, draw)  # noqa: E731
        patch.setattr(train_module, "select_labelled", other_draw)
        with pytest.raises(ValueError, match="other labelled examples"):
            train(_tiny(tmp_path))
    saved = safe_load(tmp_path / "ckpt" / "member0.pt")["labelled"]
    assert torch.equal(saved, select_labelled(load_mnist("train")[1][:1000], 10, 0))
    assert len(train(_tiny(tmp_path))["history"][0]) == 2  # the same subset resumes


def test_mnist_discriminator_refuses_unscaled_or_misshapen_images() -> None:
    """uint8 images in [0, 255] used to be classified silently as if they were in [0, 1]."""
    d = MnistDiscriminator(hidden=(8, 4))
    images, _ = load_mnist("test")
    with pytest.raises(TypeError, match=r"floats in \[0, 1\], got dtype torch.uint8"):
        d.predict(images[:5])
    with pytest.raises(ValueError, match=r"784 values each, got shape \(5, 100\)"):
        d(torch.rand(5, 100))
    assert d.predict(images[:5].float() / 255).shape == (5,)
    assert d(torch.rand(0, 784)).shape == (0, 10)


def _their_labelled_examples(labels: np.ndarray, count: int, seed_data: int) -> list[int]:
    """openai/improved-gan's ``train_mnist_feature_matching.py``, step by step: shuffle the training set with
    ``np.random.RandomState(seed_data).permutation``, keep the first ``count`` of each class j = 0..9 (here as
    indices into the unshuffled set, scanning the shuffled order one example at a time)."""
    inds = np.random.RandomState(seed_data).permutation(labels.shape[0])
    chosen = []
    for j in range(10):
        taken = 0
        for position in range(len(inds)):
            if taken == count:
                break
            if labels[inds[position]] == j:
                chosen.append(int(inds[position]))
                taken += 1
    return chosen


@pytest.mark.parametrize(("seed_data", "count"), [(1, 5), (1, 10), (7, 3)])
def test_the_numpy_draw_labels_the_examples_the_papers_code_labels(seed_data: int, count: int) -> None:
    labels = load_mnist("train")[1]
    expected = _their_labelled_examples(labels.numpy(), count, seed_data)
    assert select_labelled(labels, count, seed_data, draw="numpy").tolist() == expected
    assert select_labelled(labels, count, seed_data).tolist() != expected  # the default torch draw differs


def test_the_mnist_training_set_is_in_the_files_order() -> None:
    """Their draw permutes ``x_train + x_valid`` of their ``mnist.npz`` (MNIST's training file in its order):
    the same draw labels the same images only if our copy keeps that order (its first labels are known)."""
    assert load_mnist("train")[1][:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
