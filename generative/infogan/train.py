"""Train InfoGAN on MNIST: ``python -m generative.infogan.train --help``.

Each iteration follows the original trainer (openai/InfoGAN ``infogan_trainer.py``): one Adam step of
D and Q on ``BCE(D(real), 1) + BCE(D(G(z, c)), 0) - lambda * L_I``, then one Adam step of G on the
non-saturating ``BCE(D(G(z, c)), 1) - lambda * L_I``. Both steps use the same fake batch (the original
draws a second one for the G step; reusing it saves one generator pass). With ``generator_mi=False`` the
generator's step drops its ``L_I`` term (Q still learns to read the codes): an ablation showing that the
generator must be pushed to keep the codes recoverable.

Everything needed to resume exactly (weights, optimisers, the latent sampler's state, the data order,
history, elapsed time) is checkpointed atomically to ``out_dir/checkpoint.pt`` every
``checkpoint_every`` iterations; rerunning the same command continues from there (and ``--iterations``
larger than before trains longer; the checkpoint holds CPU tensors, so a run may move between devices).
``--device`` picks where it trains (default ``auto``: CUDA when available). Latent traversals are written as
``out_dir/traversal_c{j}.png``.

References:
    Chen et al., "InfoGAN", NeurIPS 2016 (https://arxiv.org/abs/1606.03657), section 5 and appendix C.1.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
import tyro
from tqdm import tqdm

from curiosity.runtime import configure_torch, resolve_device
from curiosity.serialization import atomic_save, safe_load, to_cpu
from generative.data.mnist import load_mnist
from generative.infogan import InfoGAN, LatentSample, LatentSpec, MIBound, mutual_information_bound
from generative.infogan.figures import save_traversals

CHECKPOINT_NAME = "checkpoint.pt"
# Config fields that fix the model's shapes: a checkpoint is only resumed when they agree.
ARCHITECTURE_FIELDS = ("noise", "categorical", "continuous", "channels", "hidden", "q_hidden",
                       "continuous_std")
HISTORY_KEYS = ("d_loss", "g_loss", "mi_categorical", "mi_continuous", "d_real", "d_fake")


@dataclass
class InfoGANConfig:
    """Training InfoGAN on MNIST (defaults: the paper's MNIST experiment)."""

    out_dir: Path = Path("runs/infogan")
    """Directory for checkpoint.pt and the traversal PNGs traversal_c{j}.png."""
    iterations: int = 5000
    """Total number of (D/Q step, G step) iterations (the original: 50 epochs x 100 updates)."""
    batch_size: int = 128
    """Images (and latent samples) per step."""
    noise: int = 62
    """Incompressible noise dimensions, U(-1, 1)."""
    categorical: tuple[int, ...] = (10,)
    """Number of values of each categorical code (one code with 10 values for MNIST)."""
    continuous: int = 2
    """Number of continuous codes, U(-1, 1)."""
    lr_discriminator: float = 2e-4
    """Adam learning rate of the discriminator and the Q head."""
    lr_generator: float = 1e-3
    """Adam learning rate of the generator."""
    beta1: float = 0.5
    """Adam beta1 for both optimisers."""
    beta2: float = 0.999
    """Adam beta2 for both optimisers."""
    lambda_categorical: float = 1.0
    """Weight lambda of the categorical codes' mutual-information term."""
    lambda_continuous: float = 1.0
    """Weight lambda of the continuous codes' mutual-information term (1 in the original MNIST run)."""
    generator_mi: bool = True
    """Include the MI term in the generator's loss; False is the ablation (Q alone maximises L_I)."""
    continuous_std: Literal["fixed", "learned"] = "fixed"
    """Q's Gaussian std on continuous codes: fixed at fixed_std (the original) or learned."""
    fixed_std: float = 1.0
    """The standard deviation used when continuous_std is fixed."""
    channels: int = 64
    """Base convolution width of G and D (64 in the paper)."""
    hidden: int = 1024
    """Dense width of G and of the D/Q trunk (1024 in the paper)."""
    q_hidden: int = 128
    """Hidden width of the Q head (128 in the paper)."""
    leak: float = 0.01
    """Leaky ReLU slope of D/Q (0.01 in the original code)."""
    seed: int = 0
    """Seed of the initial weights, the latent samples and the data order."""
    train_images: int | None = None
    """Use only the first N training images (None: all 60,000); for quick tests."""
    mnist_dir: str | None = None
    """Directory of the MNIST IDX files (None: the default search, see generative.data.mnist)."""
    checkpoint_every: int = 250
    """Write the checkpoint and the traversal figures every this many iterations (and at the end)."""
    resume: bool = True
    """Continue from out_dir/checkpoint.pt when it exists."""
    figures: bool = True
    """Write the latent-traversal PNGs."""
    progress: bool = True
    """Show a tqdm progress bar."""
    threads: int | None = None
    """Torch intra-op threads (None: $TORCH_THREADS, else all cores)."""
    device: str = "auto"
    """Where to train: auto (CUDA when available, else CPU), cpu, cuda or cuda:N."""

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad hyperparameter."""
        positive = {"iterations": self.iterations, "checkpoint_every": self.checkpoint_every}
        positive |= {"lr_discriminator": self.lr_discriminator, "lr_generator": self.lr_generator}
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"{name} must be > 0, got {value}")
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be >= 2 (batch norm needs a batch), got {self.batch_size}")
        for name, value in (("beta1", self.beta1), ("beta2", self.beta2)):
            if not 0 <= value < 1:
                raise ValueError(f"{name} must be in [0, 1), got {value}")
        for name, value in (
            ("lambda_categorical", self.lambda_categorical),
            ("lambda_continuous", self.lambda_continuous),
        ):
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        if self.train_images is not None and self.train_images < self.batch_size:
            raise ValueError(
                f"train_images must be >= batch_size ({self.batch_size}), got {self.train_images}"
            )
        resolve_device(self.device)

    def spec(self) -> LatentSpec:
        """The latent spec these settings describe."""
        return LatentSpec(self.noise, self.categorical, self.continuous)

    def build_model(self) -> InfoGAN:
        """A freshly initialised model with these settings (seeded by ``seed``)."""
        torch.manual_seed(self.seed)
        return InfoGAN(
            self.spec(),
            self.channels,
            self.hidden,
            self.q_hidden,
            self.leak,
            self.continuous_std,
            self.fixed_std,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain values only (safe for ``weights_only`` checkpoints and JSON)."""
        out = dataclasses.asdict(self)
        out["out_dir"] = str(self.out_dir)
        out["categorical"] = list(self.categorical)
        return out


class EpochSampler:
    """Minibatch indices from a fresh permutation each epoch, a pure function of (seed, iteration).

    Resuming at iteration ``t`` therefore yields exactly the batches an uninterrupted run would.
    """

    def __init__(self, n: int, batch_size: int, seed: int) -> None:
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self._cache: tuple[int, torch.Tensor] | None = None

    def _perm(self, epoch: int) -> torch.Tensor:
        if self._cache is None or self._cache[0] != epoch:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._cache = (epoch, torch.randperm(self.n, generator=generator))
        return self._cache[1]

    def indices(self, iteration: int) -> torch.Tensor:
        """``(batch_size,)`` int64 indices of the batch used at ``iteration``."""
        chunks, start, need = [], iteration * self.batch_size, self.batch_size
        while need:
            epoch, offset = divmod(start, self.n)
            chunk = self._perm(epoch)[offset : offset + need]
            chunks.append(chunk)
            start, need = start + len(chunk), need - len(chunk)
        return torch.cat(chunks)


def weighted_info(bound: MIBound, config: InfoGANConfig) -> torch.Tensor:
    """``lambda_categorical * sum(categorical terms) + lambda_continuous * sum(continuous terms)``."""
    return (
        config.lambda_categorical * bound.categorical.sum()
        + config.lambda_continuous * bound.continuous.sum()
    )


def train_step(
    model: InfoGAN,
    opt_d: torch.optim.Optimizer,
    opt_g: torch.optim.Optimizer,
    real: torch.Tensor,
    latent: LatentSample,
    config: InfoGANConfig,
) -> dict[str, float]:
    """One InfoGAN iteration: a D/Q step then a G step (Chen et al. 2016, equation 5).

    Args:
        model: the model (in training mode).
        opt_d: optimiser of ``model.discriminator`` (trunk, D head and Q head).
        opt_g: optimiser of ``model.generator``.
        real: ``(batch, 1, 28, 28)`` real images in [0, 1].
        latent: the batch's latent sample (its codes are the targets of Q).
        config: lambdas and the ``generator_mi`` switch.

    Returns:
        Scalars: ``d_loss``, ``g_loss`` (GAN parts), ``mi_categorical`` and ``mi_continuous`` (the L_I
        terms summed over codes, measured in the D/Q step), ``d_real`` and ``d_fake`` (mean D outputs).
    """
    latent = latent.to(real.device)  # Q's targets, where its outputs are
    fake = model.generate(latent)
    # D/Q step: min_D,Q  BCE(D(x), 1) + BCE(D(G(z, c)), 0) - lambda L_I(G, Q)
    d_real, _ = model.discriminate(real)
    d_fake, q_fake = model.discriminate(fake.detach())
    bound = mutual_information_bound(q_fake, latent, model.spec)
    d_loss = F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
    d_loss = d_loss + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
    opt_d.zero_grad(set_to_none=True)
    (d_loss - weighted_info(bound, config)).backward()
    opt_d.step()
    # G step: min_G  BCE(D(G(z, c)), 1) - lambda L_I(G, Q)   (non-saturating GAN loss)
    model.discriminator.requires_grad_(False)
    try:
        g_logits, q_gen = model.discriminate(fake)
        g_loss = F.binary_cross_entropy_with_logits(g_logits, torch.ones_like(g_logits))
        g_total = g_loss
        if config.generator_mi:
            g_total = g_total - weighted_info(mutual_information_bound(q_gen, latent, model.spec), config)
        opt_g.zero_grad(set_to_none=True)
        g_total.backward()
        opt_g.step()
    finally:
        model.discriminator.requires_grad_(True)
    return {
        "d_loss": d_loss.item(),
        "g_loss": g_loss.item(),
        "mi_categorical": bound.categorical.sum().item(),
        "mi_continuous": bound.continuous.sum().item(),
        "d_real": torch.sigmoid(d_real).mean().item(),
        "d_fake": torch.sigmoid(d_fake).mean().item(),
    }


def make_optimizers(model: InfoGAN, config: InfoGANConfig) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam for D/Q (``lr_discriminator``) and for G (``lr_generator``), betas ``(beta1, beta2)``."""
    betas = (config.beta1, config.beta2)
    opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=config.lr_discriminator, betas=betas)
    opt_g = torch.optim.Adam(model.generator.parameters(), lr=config.lr_generator, betas=betas)
    return opt_d, opt_g


def load_model(path: str | Path) -> InfoGAN:
    """Rebuild a trained :class:`InfoGAN` from a checkpoint written by :func:`train`."""
    state = safe_load(path)
    config = InfoGANConfig(**{**state["config"], "out_dir": Path(state["config"]["out_dir"])})
    config.categorical = tuple(config.categorical)
    model = config.build_model()
    model.load_state_dict(state["model"])
    return model


def _check_resumable(saved: dict[str, Any], config: InfoGANConfig) -> None:
    current = config.to_dict()
    for name in ARCHITECTURE_FIELDS:
        if saved[name] != current[name]:
            raise ValueError(
                f"checkpoint in {config.out_dir} was trained with {name}={saved[name]!r}, "
                f"not {current[name]!r}; use another out_dir or resume=False"
            )


def _summary(history: dict[str, list[float]], last: int = 100) -> dict[str, float]:
    return {k: sum(v[-last:]) / max(1, len(v[-last:])) for k, v in history.items()}


def train(config: InfoGANConfig) -> dict[str, Any]:
    """Train (or resume training) InfoGAN on MNIST.

    Args:
        config: the settings; see :class:`InfoGANConfig`.

    Returns:
        A dict with ``iterations`` (done), ``train_seconds`` (wall time of all sessions),
        ``cpu_seconds`` (process CPU time of all sessions; None when resumed from a checkpoint that did
        not record it), ``seconds_per_iteration``, ``final`` (each history metric averaged over the last 100
        iterations: ``d_loss``, ``g_loss``, ``mi_categorical``, ``mi_continuous``, ``d_real``,
        ``d_fake``), ``history`` (per-iteration lists), ``checkpoint`` (path), ``figures`` (PNG paths)
        and ``model`` (the trained :class:`InfoGAN`, in training mode).

    Raises:
        ValueError: a bad hyperparameter, or a checkpoint of a different architecture in ``out_dir``.
    """
    config.validate()
    configure_torch(config.threads)
    device = resolve_device(config.device)
    model = config.build_model().to(device)  # initialised on the CPU: the same weights on every device
    opt_d, opt_g = make_optimizers(model, config)
    latent_rng = torch.Generator().manual_seed(config.seed + 12345)
    history: dict[str, list[float]] = {k: [] for k in HISTORY_KEYS}
    start, elapsed, cpu = 0, 0.0, 0.0  # wall and process-CPU seconds of all sessions
    path = Path(config.out_dir) / CHECKPOINT_NAME
    if config.resume and path.is_file():
        state = safe_load(path)
        _check_resumable(state["config"], config)
        model.load_state_dict(state["model"])
        opt_d.load_state_dict(state["opt_d"])
        opt_g.load_state_dict(state["opt_g"])
        latent_rng.set_state(state["latent_rng"])
        history, start, elapsed = state["history"], state["iteration"], state["elapsed_s"]
        cpu = state.get("cpu_s", math.nan)  # checkpoints before cpu_s was recorded: unknown

    images, _ = load_mnist("train", config.mnist_dir)
    if config.train_images is not None:
        images = images[: config.train_images]
    images = images.to(device)
    sampler = EpochSampler(len(images), config.batch_size, config.seed)

    def checkpoint(iteration: int) -> list[Path]:
        atomic_save(
            to_cpu({
                "format": "infogan-v1",
                "iteration": iteration,
                "elapsed_s": elapsed,
                "cpu_s": cpu,
                "config": config.to_dict(),
                "model": model.state_dict(),
                "opt_d": opt_d.state_dict(),
                "opt_g": opt_g.state_dict(),
                "latent_rng": latent_rng.get_state(),
                "history": history,
            }),
            path,
        )
        return save_traversals(model, config.out_dir, seed=config.seed) if config.figures else []

    figures: list[Path] = []
    model.train()
    bar = tqdm(total=config.iterations, initial=min(start, config.iterations), disable=not config.progress)
    tic, cpu_tic = time.perf_counter(), time.process_time()
    for it in range(start, config.iterations):
        real = images[sampler.indices(it)].unsqueeze(1).float() / 255.0
        latent = model.spec.sample(config.batch_size, latent_rng)  # drawn on the CPU
        for key, value in train_step(model, opt_d, opt_g, real, latent, config).items():
            history[key].append(value)
        if not all(math.isfinite(v[-1]) for v in history.values()):
            raise FloatingPointError(f"non-finite loss at iteration {it}: {_summary(history, 1)}")
        bar.update(1)
        if (it + 1) % 25 == 0:
            recent = _summary(history, 25)
            bar.set_postfix(
                d=f"{recent['d_loss']:.3f}",
                g=f"{recent['g_loss']:.3f}",
                mi_cat=f"{recent['mi_categorical']:.3f}",
                mi_cont=f"{recent['mi_continuous']:.3f}",
            )
        if (it + 1) % config.checkpoint_every == 0 or it + 1 == config.iterations:
            elapsed += time.perf_counter() - tic
            cpu += time.process_time() - cpu_tic
            tic, cpu_tic = time.perf_counter(), time.process_time()
            figures = checkpoint(it + 1)
    bar.close()
    done = max(start, config.iterations)
    if start >= config.iterations and config.figures:
        figures = save_traversals(model, config.out_dir, seed=config.seed)
    return {
        "iterations": done,
        "train_seconds": elapsed,
        "cpu_seconds": cpu if math.isfinite(cpu) else None,  # JSON has no NaN
        "seconds_per_iteration": elapsed / max(1, done),
        "final": _summary(history),
        "history": history,
        "checkpoint": str(path),
        "figures": [str(p) for p in figures],
        "model": model,
    }


def main() -> None:
    """Command-line entry point (``curiosity infogan train``)."""
    config = tyro.cli(InfoGANConfig)
    configure_torch(config.threads)
    result = train(config)
    final = ", ".join(f"{k}={v:.4f}" for k, v in result["final"].items())
    print(f"trained {result['iterations']} iterations in {result['train_seconds'] / 60:.1f} min; {final}")
    print(f"checkpoint: {result['checkpoint']}; figures: {', '.join(result['figures'])}")


if __name__ == "__main__":
    main()
