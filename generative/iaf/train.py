"""Train a VAE with a diagonal or IAF posterior on dynamically binarised MNIST.

``python -m generative.iaf.train --posterior iaf --epochs 50`` (``--help`` lists every option).

Training images are re-binarised (a Bernoulli sample of the intensities) every time a batch is drawn;
the test set is binarised once with a fixed seed (both on the CPU, so a seed binarises alike on every
device). ``--device`` picks where it trains (default ``auto``: CUDA when available). Checkpoints (CPU
tensors: a run may move between devices) are written atomically after every epoch and every
``checkpoint_minutes`` within one; a rerun of the same command resumes exactly where the last one stopped.
At the end the (Polyak-averaged) model is scored on the test set: single-sample ELBO and the
importance-weighted ``log p(x)`` with ``eval_samples`` samples, and ``samples.png`` / ``reconstructions.png``
are written to ``out_dir``.

Deviations from the paper's MNIST model (the ``problem = 'mnist'`` settings of openai/iaf's Theano
``train.py``: a ResNet VAE, ``depths=[2, 2]`` with 64 channels and ELU, ``kl_min=0.25`` free bits, Adamax with
``alpha=0.002, beta1=0.1``, minibatches of 16, trained until it converges on a GPU), chosen to fit a CPU:
a plain conv encoder/decoder by default (``res_blocks=0``), Adam at 1e-3 with cosine decay to 1e-4,
minibatches of 100, a KL warm-up instead of free bits (``free_bits=0``; the option exists), Polyak-averaged
weights, and a fixed number of epochs. The benchmark's gap to the paper's nats (about 4 to 5) is measured with
these, not with the original protocol.

References:
    Kingma et al. Improved Variational Inference with Inverse Autoregressive Flow. NeurIPS 2016.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any, Literal

import torch
import tyro
from tqdm import tqdm

from curiosity.runtime import configure_torch, resolve_device
from curiosity.serialization import atomic_save, safe_load, to_cpu
from generative.data.mnist import load_mnist
from generative.iaf.vae import IAFVAE

# Config fields that define the network: a checkpoint is only resumed when these match.
MODEL_FIELDS = (
    "posterior", "latent_dim", "channels", "res_blocks", "hidden", "context_dim", "iaf_depth", "iaf_width",
    "iaf_hidden_layers", "sigmoid_bias",
)


@dataclasses.dataclass
class IAFTrainConfig:
    """Train a VAE (diagonal or IAF posterior) on dynamically binarised MNIST."""

    posterior: Literal["diagonal", "iaf"] = "iaf"
    """Posterior family: 'diagonal' (baseline) or 'iaf'."""
    latent_dim: int = 32
    """Latent dimensions (paper: 32)."""
    channels: int = 32
    """Channels of the first conv stage of encoder and decoder (the second has twice as many)."""
    res_blocks: int = 0
    """Residual blocks per conv stage (slow on CPU: each one roughly doubles a stage's cost)."""
    hidden: int = 450
    """Width of the dense layers of encoder and decoder."""
    context_dim: int = 64
    """Width of the context h passed from the encoder to every IAF step."""
    iaf_depth: int = 2
    """Number of IAF steps (paper: 2 to 8)."""
    iaf_width: int = 320
    """Hidden width of each step's MADE (paper: 320 or 1920)."""
    iaf_hidden_layers: int = 1
    """Hidden layers of each step's MADE."""
    sigmoid_bias: float = 2.0
    """Initial bias of the gate pre-activation s (sigmoid(2) = 0.88: each step starts near the identity)."""
    epochs: int = 50
    """Passes over the 60,000 training images. A rerun with more epochs continues a finished run (the
    cosine learning-rate schedule is then stretched to the new length)."""
    batch_size: int = 100
    """Images per gradient step."""
    lr: float = 1e-3
    """Adam learning rate at the start."""
    lr_final: float = 1e-4
    """Learning rate reached at the last epoch (cosine decay per step)."""
    grad_clip: float = 100.0
    """Clip the gradient norm to this value (0: no clipping)."""
    ema_decay: float = 0.999
    """Polyak (exponential moving) average of the weights used for evaluation (0: off)."""
    kl_warmup_epochs: float = 5.0
    """Epochs over which the KL weight rises linearly from 0 to 1 (0: no warm-up)."""
    free_bits: float = 0.0
    """Free bits lambda in nats per group (0: plain ELBO)."""
    free_bits_groups: int = 32
    """Number of contiguous groups the latent dims are split into for free bits (divides latent_dim)."""
    eval_samples: int = 128
    """Importance samples for the final test log p(x) (paper: 128; 0 skips it)."""
    eval_max_batch: int = 2000
    """Most images decoded at once during importance sampling (bounds memory)."""
    monitor_images: int = 2000
    """Test images whose single-sample ELBO is logged after every epoch (0: none)."""
    train_images: int | None = None
    """Use only the first N training images (smoke tests); None: all 60,000."""
    test_images: int | None = None
    """Use only the first N test images; None: all 10,000."""
    test_binarization_seed: int = 0
    """Seed of the one-off binarisation of the test set."""
    seed: int = 0
    """Seed of initialisation, shuffling and training binarisation."""
    mnist_dir: str | None = None
    """Directory with the MNIST IDX files (default: generative.data.mnist.default_mnist_dir())."""
    out_dir: str = "runs/iaf"
    """Where samples.png, reconstructions.png and metrics.json go."""
    checkpoint: str | None = None
    """Checkpoint file (default: <out_dir>/checkpoint.pt); resumed when it exists."""
    checkpoint_minutes: float = 5.0
    """Also checkpoint mid-epoch every this many minutes (0: only at epoch ends)."""
    progress: bool = True
    """Show tqdm progress bars."""
    device: str = "auto"
    """Where to train: auto (CUDA when available, else CPU), cpu, cuda or cuda:N."""


def check_config(config: IAFTrainConfig) -> None:
    """Raise ``ValueError`` naming the first bad training hyperparameter."""
    for name in ("epochs", "batch_size", "eval_max_batch"):
        value = getattr(config, name)
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    if not config.lr > 0 or not 0 < config.lr_final <= config.lr:
        raise ValueError(
            f"need lr > 0 and 0 < lr_final <= lr, got lr={config.lr}, lr_final={config.lr_final}"
        )
    if not 0 <= config.ema_decay < 1:
        raise ValueError(f"ema_decay must be in [0, 1), got {config.ema_decay}")
    for name in (
        "grad_clip", "kl_warmup_epochs", "checkpoint_minutes", "free_bits", "eval_samples", "monitor_images"
    ):
        if getattr(config, name) < 0:
            raise ValueError(f"{name} must be >= 0, got {getattr(config, name)}")
    for name in ("train_images", "test_images"):
        value = getattr(config, name)
        if value is not None and value < 1:
            raise ValueError(f"{name} must be >= 1 (None: all images), got {value}")
    if config.free_bits_groups < 1 or config.latent_dim % config.free_bits_groups:
        raise ValueError(
            f"free_bits_groups must divide latent_dim={config.latent_dim}, got {config.free_bits_groups}"
        )
    resolve_device(config.device)


def build_model(config: IAFTrainConfig | dict[str, Any]) -> IAFVAE:
    """The :class:`IAFVAE` described by a config (or its ``dataclasses.asdict``)."""
    fields = config if isinstance(config, dict) else dataclasses.asdict(config)
    return IAFVAE(image_size=28, **{k: fields[k] for k in MODEL_FIELDS})


def load_model(path: str | Path, averaged: bool = True) -> IAFVAE:
    """Rebuild a trained model from a checkpoint (e.g. to use :meth:`IAFVAE.encode` as a state encoder).

    Args:
        path: a checkpoint written by :func:`train`.
        averaged: load the Polyak-averaged weights (what is evaluated) rather than the raw ones.

    Returns:
        The model in eval mode.
    """
    state = safe_load(path)
    model = build_model(state["config"])
    model.load_state_dict(state["ema" if averaged else "model"])
    return model.eval()


def load_data(config: IAFTrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Training intensities ``(N, 1, 28, 28)`` in [0, 1] and the once-binarised test set, same shape."""
    train = load_mnist("train", config.mnist_dir)[0][: config.train_images]
    test = load_mnist("test", config.mnist_dir)[0][: config.test_images]
    generator = torch.Generator().manual_seed(config.test_binarization_seed)
    test = torch.bernoulli(test.float().div(255).unsqueeze(1), generator=generator)
    return train.float().div(255).unsqueeze(1), test


def learning_rate(config: IAFTrainConfig, step: int, total_steps: int) -> float:
    """Cosine decay from ``lr`` to ``lr_final`` over ``total_steps``."""
    progress = min(step / max(total_steps, 1), 1.0)
    return config.lr_final + 0.5 * (config.lr - config.lr_final) * (1 + math.cos(math.pi * progress))


@torch.no_grad()
def evaluate_elbo(model: IAFVAE, images: torch.Tensor, batch_size: int = 500) -> float:
    """Mean single-sample ELBO (nats) over binary ``images`` ``(N, 1, 28, 28)``."""
    return torch.cat([model.elbo(b) for b in images.split(batch_size)]).mean().item()


@torch.no_grad()
def evaluate_log_px(
    model: IAFVAE, images: torch.Tensor, samples: int, batch_size: int = 100, max_batch: int = 2000,
    progress: bool = False, seed: int = 0,
) -> float:
    """Mean importance-weighted ``log p(x)`` (nats) over binary ``images`` ``(N, 1, 28, 28)``."""
    state = torch.get_rng_state()
    torch.manual_seed(seed)
    try:
        chunks = images.split(batch_size)
        values = [model.log_px(b, samples, max_batch) for b in tqdm(chunks, "log p(x)", disable=not progress)]
    finally:
        torch.set_rng_state(state)
    return torch.cat(values).mean().item()


def save_images(images: torch.Tensor, path: Path, rows: int) -> None:
    """Tile ``(N, 1, S, S)`` images in ``[0, 1]`` into a ``rows``-row grid PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n, _, s, _ = images.shape
    cols = math.ceil(n / rows)
    grid = torch.ones(rows * (s + 2), cols * (s + 2))
    for i, img in enumerate(images[:, 0]):
        r, c = divmod(i, cols)
        grid[r * (s + 2) + 1 : r * (s + 2) + 1 + s, c * (s + 2) + 1 : c * (s + 2) + 1 + s] = img
    path.parent.mkdir(parents=True, exist_ok=True)
    plt.imsave(path, grid.numpy(), cmap="gray", vmin=0, vmax=1)


def _resume(path: Path, config: IAFTrainConfig, model, ema, optimizer) -> dict[str, Any]:
    state = safe_load(path)
    saved = state["config"]
    changed = [k for k in MODEL_FIELDS if saved[k] != getattr(config, k)]
    if changed:
        raise ValueError(
            f"checkpoint {path} was made with different model settings ({', '.join(changed)}); "
            "use another --checkpoint or the same settings"
        )
    model.load_state_dict(state["model"])
    ema.load_state_dict(state["ema"])
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["torch_rng"])
    device = next(model.parameters()).device
    if device.type == "cuda" and "cuda_rng" in state:  # the reparameterisation noise is drawn there
        torch.cuda.set_rng_state(state["cuda_rng"], device)
    return state


def train(config: IAFTrainConfig) -> dict[str, Any]:
    """Train (or resume) and evaluate; returns the metrics also written to ``<out_dir>/metrics.json``.

    Returns:
        ``{"posterior", "epochs", "train_seconds", "seconds_per_epoch", "train_cpu_seconds",
        "cpu_seconds_per_epoch", "test_elbo", "test_log_px", "test_nll", "eval_samples", "eval_seconds",
        "history": [per-epoch dicts]}`` (nats; ``test_nll`` = ``-test_log_px``, None when
        ``eval_samples == 0``; CPU seconds are this process's, a contention-free measure of cost).

    Raises:
        ValueError: a bad hyperparameter, or a checkpoint made with other model settings.
    """
    check_config(config)
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    model = build_model(config).to(device)  # initialised on the CPU: the same weights on every device
    ema = copy.deepcopy(model).requires_grad_(False)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    out_dir = Path(config.out_dir)
    ckpt = Path(config.checkpoint) if config.checkpoint else out_dir / "checkpoint.pt"
    train_x, test_x = load_data(config)  # training images stay on the CPU, binarised there batch by batch
    test_x = test_x.to(device)
    steps_per_epoch = math.ceil(len(train_x) / config.batch_size)
    total_steps, warmup_steps = steps_per_epoch * config.epochs, config.kl_warmup_epochs * steps_per_epoch
    data_rng = torch.Generator().manual_seed(config.seed + 1)
    # Run state; "partial" describes an epoch interrupted by a mid-epoch checkpoint (None between epochs).
    run: dict[str, Any] = {
        "epoch": 0, "step": 0, "history": [], "train_seconds": 0.0, "train_cpu_seconds": 0.0, "partial": None,
    }
    if ckpt.is_file():
        state = _resume(ckpt, config, model, ema, optimizer)
        run.update({k: state[k] for k in run if k in state})
        data_rng.set_state(state["data_rng"])

    def save() -> None:
        state = {
            "config": dataclasses.asdict(config), "model": model.state_dict(), "ema": ema.state_dict(),
            "optimizer": optimizer.state_dict(), "torch_rng": torch.get_rng_state(),
            "data_rng": data_rng.get_state(), **run,
        }
        if device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(device)
        atomic_save(to_cpu(state), ckpt)

    last_save = time.time()
    while run["epoch"] < config.epochs:
        part = run["partial"] or {
            "perm": torch.randperm(len(train_x), generator=data_rng), "next_batch": 0,
            "totals": torch.zeros(3), "seconds": 0.0, "cpu_seconds": 0.0,
        }
        run["partial"] = None
        wall0, cpu0 = time.time(), time.process_time()
        model.train()
        batches = part["perm"].split(config.batch_size)
        bar = tqdm(range(part["next_batch"], len(batches)), f"epoch {run['epoch'] + 1}/{config.epochs}",
                   disable=not config.progress, leave=False)
        for b in bar:
            x = torch.bernoulli(train_x[batches[b]], generator=data_rng).to(device)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(config, run["step"], total_steps)
            kl_weight = min(1.0, run["step"] / warmup_steps) if warmup_steps else 1.0
            out = model.loss(x, kl_weight, config.free_bits, config.free_bits_groups)
            optimizer.zero_grad(set_to_none=True)
            out["loss"].backward()
            if config.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            _update_ema(ema, model, config.ema_decay, run["step"])
            run["step"] += 1
            step_totals = [out["elbo"].detach().cpu(), out["kl"].detach().cpu(), torch.tensor(1.0)]
            part["totals"] += torch.stack(step_totals)
            bar.set_postfix(elbo=f"{out['elbo'].item():.2f}", kl=f"{out['kl'].item():.2f}")
            if config.checkpoint_minutes and time.time() - last_save > 60 * config.checkpoint_minutes:
                run["partial"] = {
                    **part, "next_batch": b + 1, "seconds": part["seconds"] + time.time() - wall0,
                    "cpu_seconds": part["cpu_seconds"] + time.process_time() - cpu0,
                }
                save()
                run["partial"], last_save = None, time.time()
        wall, cpu = part["seconds"] + time.time() - wall0, part["cpu_seconds"] + time.process_time() - cpu0
        run["epoch"] += 1
        run["train_seconds"] += wall
        run["train_cpu_seconds"] += cpu
        totals = part["totals"]
        record = {
            "epoch": run["epoch"], "train_elbo": (totals[0] / totals[2]).item(),
            "kl": (totals[1] / totals[2]).item(), "seconds": wall, "cpu_seconds": cpu,
        }
        if config.monitor_images:
            ema.eval()
            record["test_elbo"] = evaluate_elbo(ema, test_x[: config.monitor_images])
        run["history"].append(record)
        tqdm.write(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in record.items()}))
        save()
        last_save = time.time()
    return _finish(config, ema, test_x, run, out_dir)


def _update_ema(ema: IAFVAE, model: IAFVAE, decay: float, step: int) -> None:
    decay = min(decay, (1 + step) / (10 + step))  # short memory at the start
    with torch.no_grad():
        for e, p in zip(ema.parameters(), model.parameters(), strict=True):
            e.lerp_(p, 1 - decay)
        for e, b in zip(ema.buffers(), model.buffers(), strict=True):
            e.copy_(b)


def _finish(config: IAFTrainConfig, ema: IAFVAE, test_x: torch.Tensor, run: dict[str, Any], out_dir: Path
            ) -> dict[str, Any]:
    """Images, test ELBO and importance-weighted log p(x) of the averaged model; writes metrics.json."""
    ema.eval()
    torch.manual_seed(config.seed)
    samples = ema.sample(100, torch.Generator().manual_seed(config.seed)).cpu()
    save_images(samples, out_dir / "samples.png", 10)
    cols = min(10, len(test_x))
    rows = min(5, len(test_x) // cols)
    originals = test_x[: rows * cols]
    pairs = torch.stack([originals, ema.reconstruct(originals)]).view(2, rows, cols, 1, 28, 28).cpu()
    # a row of test images, then their reconstructions, and so on
    save_images(pairs.transpose(0, 1).reshape(-1, 1, 28, 28), out_dir / "reconstructions.png", 2 * rows)
    metrics: dict[str, Any] = {
        "posterior": config.posterior, "epochs": run["epoch"], "train_seconds": run["train_seconds"],
        "seconds_per_epoch": run["train_seconds"] / max(run["epoch"], 1),
        "train_cpu_seconds": run["train_cpu_seconds"],
        "cpu_seconds_per_epoch": run["train_cpu_seconds"] / max(run["epoch"], 1),
        "test_elbo": evaluate_elbo(ema, test_x),
        "test_log_px": None, "test_nll": None, "eval_samples": config.eval_samples, "eval_seconds": 0.0,
        "test_images": len(test_x), "history": run["history"],
    }
    if config.eval_samples:
        start, cpu = time.time(), time.process_time()
        log_px = evaluate_log_px(ema, test_x, config.eval_samples, max_batch=config.eval_max_batch,
                                 progress=config.progress, seed=config.seed)
        metrics.update(test_log_px=log_px, test_nll=-log_px, eval_seconds=time.time() - start,
                       eval_cpu_seconds=time.process_time() - cpu)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


def main() -> None:
    """Command-line entry point."""
    configure_torch()
    config = tyro.cli(IAFTrainConfig)
    metrics = train(config)
    print(json.dumps({k: v for k, v in metrics.items() if k != "history"}, indent=2))


if __name__ == "__main__":
    main()
