"""Train the semi-supervised improved GAN (K+1 classifier + feature-matching generator) on MNIST or CIFAR-10.

Usage::

    python -m generative.gan.train --epochs 300 --labels-per-class 10 --checkpoint-dir checkpoints/gan

Checkpoints are written atomically after every epoch (CPU tensors: a run started on a GPU resumes on a CPU and
back) and a rerun with the same arguments resumes. ``--device`` picks where it trains (default ``auto``: CUDA
when available). ``train(config)`` returns the test error (fraction) and the per-epoch history.

References:
    Salimans et al. "Improved Techniques for Training GANs", NeurIPS 2016; openai/improved-gan.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from tqdm.auto import tqdm

from curiosity.runtime import configure_torch, resolve_device
from curiosity.serialization import atomic_save, safe_load, to_cpu
from generative.gan.models import (
    CifarDiscriminator,
    CifarGenerator,
    Discriminator,
    Generator,
    MnistDiscriminator,
    MnistGenerator,
)
from generative.gan.semisup import (
    LabelDraw,
    SemiSupervisedGAN,
    check_label_choice,
    labelled_batches,
    linear_decay_lr,
    select_labelled,
    unlabelled_batches,
)

__all__ = ["TrainGanConfig", "build_models", "load_dataset", "main", "save_sample_grid", "train"]

# fields that may change between a run and its resumption
_RESUME_FREE = {
    "progress",
    "threads",
    "checkpoint_dir",
    "sample_png",
    "data_dir",
    "eval_every",
    "resume",
    "ensemble_size",
    "device",  # checkpoints hold CPU tensors: a run may move between devices
    "epochs",  # training may be extended (the learning-rate schedule then follows the new total)
}


@dataclass
class TrainGanConfig:
    """Semi-supervised improved-GAN training (defaults: the paper's MNIST run with 100 labels)."""

    dataset: Literal["mnist", "cifar10"] = "mnist"
    """Data set (CIFAR-10 needs the python batches, downloaded when possible)."""
    labels_per_class: int | None = None
    """Labelled examples per class (default: 10 for MNIST, 400 for CIFAR-10)."""
    seed: int = 0
    """Seed of the model initialisation and training randomness (member k of an ensemble uses seed + k)."""
    label_seed: int | None = None
    """Seed choosing the labelled examples (default: seed)."""
    label_draw: LabelDraw = "torch"
    """How label_seed shuffles the training set: torch (randperm) or numpy (RandomState.permutation, the
    paper's code's --seed_data draw)."""
    epochs: int = 300
    """Training epochs (paper: 300 for MNIST)."""
    iterations_per_epoch: int | None = None
    """Iterations per epoch (default: one pass over the unlabelled set, 600 for MNIST)."""
    batch_size: int = 100
    """Size of each of the labelled, unlabelled and generated batches."""
    lr: float | None = None
    """Adam learning rate (default: 0.003 for MNIST, 0.0003 for CIFAR-10)."""
    beta1: float = 0.5
    """Adam beta1."""
    adam_eps: float = 1e-4
    """Adam epsilon (their Theano Adam: 1e-8 inside the square root, about 1e-4 outside)."""
    lr_decay_fraction: float = 0.0
    """Decay the learning rate linearly to 0 over this final fraction of training (0: constant)."""
    unlabelled_weight: float = 1.0
    """Weight of the unsupervised (real/fake) loss in the discriminator objective."""
    generator_loss: Literal["feature_matching", "standard", "minimax"] = "feature_matching"
    """Generator objective: feature matching (paper), the standard non-saturating loss, or the minimax
    log(1 - D(G(z))) of their minibatch-discrimination trainers."""
    generator_steps: int = 1
    """Generator updates per discriminator update (their minibatch-discrimination trainers: 3)."""
    minibatch_kernels: int = 0
    """Minibatch-discrimination kernels B on the discriminator features (0: off; their CIFAR model: 100)."""
    minibatch_kernel_dim: int = 5
    """Minibatch-discrimination kernel dimension C."""
    real_label_smoothing: float = 1.0
    """One-sided label smoothing: target of 'real' for real data (1: off)."""
    historical_averaging: float = 0.0
    """Weight of the historical-averaging cost on both players (0: off)."""
    average_decay: float = 0.9999
    """Decay of the moving average of the discriminator's parameters used for testing (their code:
    0.9999 per iteration; 0: test the raw discriminator)."""
    generator_norm: Literal["batch", "virtual"] = "batch"
    """Normalisation in the generator: batch norm (paper's code) or virtual batch norm."""
    ensemble_size: int = 1
    """Train this many models (seeds seed..seed+N-1, same labels) and average their probabilities."""
    train_subset: int | None = None
    """Use only the first N training images as unlabelled data (for quick tests)."""
    test_subset: int | None = None
    """Evaluate on only the first N test images (for quick tests)."""
    eval_every: int = 1
    """Evaluate the test error every this many epochs (and at the end)."""
    checkpoint_dir: Path | None = Path("checkpoints/gan")
    """Where checkpoints go (one file per ensemble member); None disables checkpointing."""
    resume: bool = True
    """Resume from a checkpoint in checkpoint_dir when there is one."""
    sample_png: Path | None = None
    """Write a 10x10 grid of generated samples here at the end (default: checkpoint_dir/samples.png)."""
    data_dir: Path | None = None
    """Directory of the data files (default: the loader's default)."""
    threads: int | None = None
    """Torch threads (default: $TORCH_THREADS, else all cores)."""
    device: str = "auto"
    """Where to train: auto (CUDA when available, else CPU), cpu, cuda or cuda:N."""
    progress: bool = True
    """Show a progress bar."""

    def resolved(self) -> TrainGanConfig:
        """A copy with the dataset-dependent defaults filled in and every value checked.

        Raises:
            ValueError: a value out of range.
        """
        mnist = self.dataset == "mnist"
        cfg = dataclasses.replace(
            self,
            labels_per_class=self.labels_per_class
            if self.labels_per_class is not None
            else (10 if mnist else 400),
            lr=self.lr if self.lr is not None else (0.003 if mnist else 0.0003),
            label_seed=self.label_seed if self.label_seed is not None else self.seed,
            # paths given as strings (from Python rather than the command line) are paths all the same
            **{name: Path(getattr(self, name)) for name in ("checkpoint_dir", "sample_png", "data_dir")
               if getattr(self, name) is not None},
        )
        for name in (
            "labels_per_class",
            "epochs",
            "batch_size",
            "ensemble_size",
            "eval_every",
            "generator_steps",
        ):
            if getattr(cfg, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(cfg, name)!r}")
        for name in ("iterations_per_epoch", "train_subset", "test_subset"):
            if getattr(cfg, name) is not None and getattr(cfg, name) < 1:
                raise ValueError(f"{name} must be >= 1 or None, got {getattr(cfg, name)!r}")
        if not 0.0 <= cfg.lr_decay_fraction <= 1.0:
            raise ValueError(f"lr_decay_fraction must be in [0, 1], got {cfg.lr_decay_fraction!r}")
        check_label_choice(cfg.label_seed, cfg.label_draw)
        if cfg.dataset not in ("mnist", "cifar10"):
            raise ValueError(f"dataset must be 'mnist' or 'cifar10', got {cfg.dataset!r}")
        resolve_device(cfg.device)  # an unknown or absent device is named before any work
        return cfg


def load_dataset(cfg: TrainGanConfig, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Float images as the models take them (MNIST: ``(N, 784)`` in [0, 1]; CIFAR-10: ``(N, 3, 32, 32)`` in
    [-1, 1]) and int64 labels."""
    if cfg.dataset == "mnist":
        from generative.data.mnist import load_mnist

        images, labels = load_mnist(split, cfg.data_dir)
        images = images.reshape(len(images), -1).float() / 255.0
    else:
        from generative.data.cifar10 import load_cifar10

        images, labels = load_cifar10(split, cfg.data_dir)
        images = images.float() / 127.5 - 1.0
    subset = cfg.train_subset if split == "train" else cfg.test_subset
    if subset is not None:
        images, labels = images[:subset], labels[:subset]
    return images, labels


def build_models(cfg: TrainGanConfig) -> tuple[Discriminator, Generator]:
    """The discriminator and generator for ``cfg.dataset``."""
    if cfg.dataset == "mnist":
        return (
            MnistDiscriminator(
                minibatch_kernels=cfg.minibatch_kernels, minibatch_kernel_dim=cfg.minibatch_kernel_dim
            ),
            MnistGenerator(norm=cfg.generator_norm, n_ref=cfg.batch_size),
        )
    return (
        CifarDiscriminator(
            minibatch_kernels=cfg.minibatch_kernels, minibatch_kernel_dim=cfg.minibatch_kernel_dim
        ),
        CifarGenerator(norm=cfg.generator_norm, n_ref=cfg.batch_size),
    )


def _config_record(cfg: TrainGanConfig) -> dict:
    return {
        k: (str(v) if isinstance(v, Path) else v)
        for k, v in dataclasses.asdict(cfg).items()
        if k not in _RESUME_FREE
    }


def _same_config(saved: dict, current: dict) -> bool:
    """Whether a checkpoint's config record is ``current``'s; a field it lacks (one added since it was
    written) counts as that field's default, which it was trained with."""
    defaults = {f.name: f.default for f in dataclasses.fields(TrainGanConfig)}
    return all(
        saved.get(k, defaults.get(k)) == current.get(k, defaults.get(k))
        for k in saved.keys() | current.keys()
    )


def _error(model: Discriminator, images: torch.Tensor, labels: torch.Tensor) -> float:
    return (model.predict(images) != labels).float().mean().item()


def save_sample_grid(generator: Generator, path: Path, n: int = 10, seed: int = 0) -> Path:
    """Save an ``n x n`` grid of generated images as a PNG (grey for 784-pixel images, RGB otherwise)."""
    import matplotlib.image

    with torch.no_grad():
        imgs = generator.sample(n * n, torch.Generator().manual_seed(seed)).cpu()
    if imgs.dim() == 2:  # MNIST (N, 784) in [0, 1]
        side = math.isqrt(imgs.shape[1])
        imgs = imgs.view(-1, 1, side, side).repeat(1, 3, 1, 1)
    else:  # (N, 3, H, W) in [-1, 1]
        imgs = (imgs + 1.0) / 2.0
    c, h, w = imgs.shape[1:]
    grid = imgs.view(n, n, c, h, w).permute(0, 3, 1, 4, 2).reshape(n * h, n * w, c)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    matplotlib.image.imsave(path, np.clip(grid.numpy(), 0.0, 1.0))
    return path


def _train_member(
    cfg: TrainGanConfig, member: int, data: tuple[torch.Tensor, ...], labelled: torch.Tensor
) -> tuple[SemiSupervisedGAN, dict]:
    x_train, y_train, x_test, y_test = data
    seed = cfg.seed + member
    device = x_train.device
    torch.manual_seed(seed)  # also seeds CUDA's generator (the noise layers draw there)
    D, G = (model.to(device) for model in build_models(cfg))  # initialised on the CPU: the same everywhere
    gan = SemiSupervisedGAN(
        D,
        G,
        lr=cfg.lr,
        beta1=cfg.beta1,
        adam_eps=cfg.adam_eps,
        unlabelled_weight=cfg.unlabelled_weight,
        generator_loss=cfg.generator_loss,
        generator_steps=cfg.generator_steps,
        real_label_smoothing=cfg.real_label_smoothing,
        historical_averaging=cfg.historical_averaging,
        average_decay=cfg.average_decay,
    )
    n_iter = cfg.iterations_per_epoch or len(x_train) // cfg.batch_size
    total = cfg.epochs * n_iter
    record = {"config": _config_record(cfg), "member": member, "epoch": 0, "history": [], "seconds": 0.0}
    ckpt = cfg.checkpoint_dir / f"member{member}.pt" if cfg.checkpoint_dir is not None else None
    if ckpt is not None and cfg.resume and ckpt.is_file():
        state = safe_load(ckpt)
        if not _same_config(state["record"]["config"], record["config"]):
            raise ValueError(
                f"{ckpt} was written with a different configuration; "
                "use another checkpoint_dir or --no-resume"
            )
        saved_labelled = state.get("labelled")  # absent in checkpoints older than this check
        if saved_labelled is not None and not torch.equal(saved_labelled, labelled.cpu()):
            raise ValueError(
                f"{ckpt} was trained on other labelled examples than label_seed={cfg.label_seed} "
                f"({cfg.label_draw} draw) chooses here (a different torch or numpy version draws another "
                "subset); use another checkpoint_dir or --no-resume"
            )
        gan.load_state_dict(state["gan"])
        torch.set_rng_state(state["rng"])
        if device.type == "cuda" and "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"], device)
        record = state["record"]
    else:
        # data-dependent init on 500 images drawn by the model seed (deviation: their code takes the first 500
        # of the --seed_data-shuffled training set, the same images for every --seed)
        gan.initialize(x_train[torch.randperm(len(x_train))[:500]])
    x_lab, y_lab = x_train[labelled], y_train[labelled]
    bar = tqdm(
        total=total,
        initial=record["epoch"] * n_iter,
        disable=not cfg.progress,
        desc=f"gan[{member}]",
        dynamic_ncols=True,
    )
    for epoch in range(record["epoch"], cfg.epochs):
        start = time.perf_counter()
        order = torch.Generator().manual_seed(seed * 100_003 + epoch)
        lab_idx = labelled_batches(len(labelled), cfg.batch_size, n_iter, order)
        unl, unl2 = _cycle(len(x_train), cfg.batch_size, order), _cycle(len(x_train), cfg.batch_size, order)
        sums: dict[str, float] = {}
        for t in range(n_iter):
            gan.set_lr(linear_decay_lr(cfg.lr, epoch * n_iter + t, total, cfg.lr_decay_fraction))
            out = gan.step(x_lab[lab_idx[t]], y_lab[lab_idx[t]], x_train[next(unl)], x_train[next(unl2)])
            for k, v in out.items():
                sums[k] = sums.get(k, 0.0) + v
            bar.update(1)
        entry = {k: v / n_iter for k, v in sums.items()} | {"epoch": epoch + 1}
        entry["seconds"] = time.perf_counter() - start
        if (epoch + 1) % cfg.eval_every == 0 or epoch + 1 == cfg.epochs:
            entry["test_error"] = _error(gan.classifier, x_test, y_test)
            if gan.D_average is not None:
                entry["test_error_raw"] = _error(D, x_test, y_test)  # without the parameter average
        bar.set_postfix({k: f"{entry[k]:.4f}" for k in ("loss_lab", "loss_unl", "test_error") if k in entry})
        if cfg.progress:
            bar.write(
                f"[gan {member}] epoch {epoch + 1}/{cfg.epochs} "
                + " ".join(f"{k}={v:.4g}" for k, v in entry.items() if k != "epoch")
            )
        record["history"].append(entry)
        record["epoch"], record["seconds"] = epoch + 1, record["seconds"] + entry["seconds"]
        if ckpt is not None:
            state = {"gan": gan.state_dict(), "rng": torch.get_rng_state(), "record": record}
            state["labelled"] = labelled.cpu()  # the subset, checked on resume
            if device.type == "cuda":
                state["cuda_rng"] = torch.cuda.get_rng_state(device)
            atomic_save(to_cpu(state), ckpt)
    bar.close()
    return gan, record


def _cycle(n: int, batch_size: int, generator: torch.Generator):
    while True:
        yield from unlabelled_batches(n, batch_size, generator)


def train(config: TrainGanConfig) -> dict:
    """Train (or resume) the model(s) of ``config`` and evaluate on the test set.

    Returns:
        ``{"test_error", "test_error_per_model", "epochs", "labels", "seconds", "seconds_per_epoch",
        "history" (per member, per epoch), "sample_png", "test_probs_per_model" (CPU tensors
        ``(n_test, K)``), "test_labels"}``; errors are fractions.
    """
    cfg = config.resolved()
    configure_torch(cfg.threads)
    device = resolve_device(cfg.device)
    x_train, y_train = (t.to(device) for t in load_dataset(cfg, "train"))
    x_test, y_test = (t.to(device) for t in load_dataset(cfg, "test"))
    if len(x_train) < cfg.batch_size:  # no full unlabelled batch: an epoch would hang or train nothing
        raise ValueError(
            f"batch_size={cfg.batch_size} is larger than the {len(x_train)} training images "
            f"(train_subset={cfg.train_subset!r}); use a smaller batch_size or more images"
        )
    labelled = select_labelled(y_train.cpu(), cfg.labels_per_class, cfg.label_seed, cfg.label_draw)
    probs, errors, histories, seconds, gans, member_probs = None, [], [], 0.0, [], []
    for member in range(cfg.ensemble_size):
        gan, record = _train_member(cfg, member, (x_train, y_train, x_test, y_test), labelled)
        p = gan.classifier.predict_proba(x_test)
        member_probs.append(p.cpu())
        probs = p if probs is None else probs + p
        errors.append((p.argmax(1) != y_test).float().mean().item())
        histories.append(record["history"])
        seconds += record["seconds"]
        gans.append(gan)
    test_error = (probs.argmax(1) != y_test).float().mean().item()
    sample_png = cfg.sample_png or (cfg.checkpoint_dir / "samples.png" if cfg.checkpoint_dir else None)
    if sample_png is not None:
        save_sample_grid(gans[0].G, sample_png)
    return {
        "test_error": test_error,
        "test_error_per_model": errors,
        "epochs": cfg.epochs,
        "labels": len(labelled),
        "seconds": seconds,
        "seconds_per_epoch": seconds / (cfg.epochs * cfg.ensemble_size),
        "history": histories,
        "sample_png": str(sample_png) if sample_png else None,
        "test_probs_per_model": member_probs,
        "test_labels": y_test.cpu(),
    }


def main(config: TrainGanConfig | None = None) -> dict:
    """Command-line entry point (``python -m generative.gan.train --help``)."""
    if config is None:
        import tyro

        config = tyro.cli(TrainGanConfig)
    result = train(config)
    per = ", ".join(f"{e:.2%}" for e in result["test_error_per_model"])
    print(
        f"test error: {result['test_error']:.2%} (per model: {per}); {result['labels']} labels, "
        f"{result['seconds_per_epoch']:.1f} s/epoch"
    )
    return result


if __name__ == "__main__":
    main()
