"""Semi-supervised GAN training: a K+1 discriminator/classifier and a generator trained by feature matching.

One iteration (their ``train_mnist_feature_matching.py``): an Adam step of the discriminator on
``supervised_loss(labelled) + unlabelled_weight * unsupervised_loss(unlabelled, fake)``, then an Adam
step of the generator on feature matching against a second, independently shuffled unlabelled batch.

References:
    Salimans et al. "Improved Techniques for Training GANs", NeurIPS 2016, section 5.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from generative.gan.layers import data_dependent_init
from generative.gan.losses import (
    HistoricalAverage,
    feature_matching_loss,
    generator_minimax_loss,
    generator_nonsaturating_loss,
    supervised_loss,
    unsupervised_loss,
)
from generative.gan.models import Discriminator, Generator

__all__ = [
    "SemiSupervisedGAN",
    "labelled_batches",
    "linear_decay_lr",
    "select_labelled",
    "unlabelled_batches",
]

GeneratorLoss = Literal["feature_matching", "standard", "minimax"]


class SemiSupervisedGAN:
    """Holds a discriminator, a generator and their optimisers; one call of :meth:`step` is one iteration.

    Args:
        discriminator: a :class:`Discriminator` (K logits; the fake logit is fixed at 0).
        generator: a :class:`Generator`.
        lr: Adam learning rate of both players (their MNIST code: 0.003).
        beta1: Adam's first-moment decay (0.5).
        beta2: Adam's second-moment decay (0.999).
        adam_eps: Adam's epsilon. Their Theano Adam divides by ``sqrt(v_hat + 1e-8)``, i.e. an effective
            epsilon of 1e-4 on ``sqrt(v_hat)``, which is the default here (torch's default is 1e-8).
        unlabelled_weight: weight of the unsupervised loss in the discriminator's objective (1).
        generator_loss: ``"feature_matching"`` (the paper's semi-supervised choice), ``"standard"`` (the
            non-saturating ``-log D(G(z))``) or ``"minimax"`` (``log(1 - D(G(z)))``, the loss of their
            minibatch-discrimination trainers, ``train_cifar_minibatch_discrimination.py``).
        generator_steps: generator updates per discriminator update (their minibatch-discrimination
            trainers: 3; their feature-matching ones: 1), each on a fresh fake batch.
        real_label_smoothing: one-sided label smoothing: the target of "real" for real data (1 = off).
        historical_averaging: weight of the historical-averaging cost on both players (0 = off).
        average_decay: decay of the exponential moving average of the discriminator's parameters that
            :attr:`classifier` evaluates with (their code tests with such an average, ``1 - 1e-4`` per
            iteration, which smooths out the adversarial game's oscillations); 0 turns it off. Deviation:
            their average starts from zeros (``disc_param_avg = 0 * p``), ours from the initialised
            parameters, so its first epochs differ (neither start is a trained network); the start's weight
            after ``n`` iterations is ``average_decay ** n``: 0.03 after 60 MNIST epochs, 0.0007 after 120.

    Raises:
        ValueError: a hyperparameter out of range.
    """

    def __init__(
        self,
        discriminator: Discriminator,
        generator: Generator,
        *,
        lr: float = 0.003,
        beta1: float = 0.5,
        beta2: float = 0.999,
        adam_eps: float = 1e-4,
        unlabelled_weight: float = 1.0,
        generator_loss: GeneratorLoss = "feature_matching",
        generator_steps: int = 1,
        real_label_smoothing: float = 1.0,
        historical_averaging: float = 0.0,
        average_decay: float = 0.9999,
    ) -> None:
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError(f"beta1 and beta2 must be in [0, 1), got {beta1!r}, {beta2!r}")
        if not adam_eps > 0:
            raise ValueError(f"adam_eps must be > 0, got {adam_eps!r}")
        if unlabelled_weight < 0:
            raise ValueError(f"unlabelled_weight must be >= 0, got {unlabelled_weight!r}")
        if generator_loss not in ("feature_matching", "standard", "minimax"):
            raise ValueError(
                f"generator_loss must be 'feature_matching', 'standard' or 'minimax', got {generator_loss!r}"
            )
        if not (isinstance(generator_steps, int) and generator_steps >= 1):
            raise ValueError(f"generator_steps must be an integer >= 1, got {generator_steps!r}")
        if not 0.0 < real_label_smoothing <= 1.0:
            raise ValueError(
                f"real_label_smoothing must be in (0, 1] (1 disables it), got {real_label_smoothing!r}"
            )
        if historical_averaging < 0:
            raise ValueError(
                f"historical_averaging must be >= 0 (0 disables it), got {historical_averaging!r}"
            )
        if not 0.0 <= average_decay < 1.0:
            raise ValueError(f"average_decay must be in [0, 1) (0 disables it), got {average_decay!r}")
        self.D, self.G = discriminator, generator
        self.D_average = (
            AveragedModel(discriminator, multi_avg_fn=get_ema_multi_avg_fn(average_decay))
            if average_decay > 0
            else None
        )
        self.base_lr = lr
        self.unlabelled_weight, self.generator_loss = unlabelled_weight, generator_loss
        self.generator_steps = generator_steps
        self.real_target = real_label_smoothing
        d_params = [p for p in self.D.parameters() if p.requires_grad]
        self.g_params = [p for p in self.G.parameters() if p.requires_grad]
        self.opt_d = torch.optim.Adam(d_params, lr=lr, betas=(beta1, beta2), eps=adam_eps)
        self.opt_g = torch.optim.Adam(self.g_params, lr=lr, betas=(beta1, beta2), eps=adam_eps)
        self.hist_d = HistoricalAverage(d_params, historical_averaging) if historical_averaging else None
        self.hist_g = HistoricalAverage(self.g_params, historical_averaging) if historical_averaging else None
        self.initialized = False

    def initialize(self, images: torch.Tensor, generator: torch.Generator | None = None) -> None:
        """Data-dependent initialisation of the weight-normalised layers (their code: 500 training images).

        Args:
            images: ``(n, ...)`` float images as the discriminator takes them.
            generator: random source for the generator's noise.
        """
        self.D.train()
        self.G.train()
        data_dependent_init(self.D, images)
        data_dependent_init(self.G, self.G.sample_noise(len(images), generator))
        if self.D_average is not None:  # the average starts from the initialised parameters
            self.D_average.n_averaged.zero_()
            self.D_average.update_parameters(self.D)
        self.initialized = True
        if self.hist_d is not None:  # restart the histories from the initialised parameters
            self.hist_d = HistoricalAverage(self.hist_d.params, self.hist_d.weight)
            self.hist_g = HistoricalAverage(self.hist_g.params, self.hist_g.weight)

    @property
    def classifier(self) -> Discriminator:
        """The discriminator to classify with: its parameter average when there is one, else itself."""
        return self.D if self.D_average is None else self.D_average.module

    def set_lr(self, lr: float) -> None:
        """Set both optimisers' learning rate."""
        for opt in (self.opt_d, self.opt_g):
            for group in opt.param_groups:
                group["lr"] = lr

    def _d_logits(self, *batches: torch.Tensor) -> list[torch.Tensor]:
        if self.D.batch_dependent:  # minibatch discrimination must not mix real and fake batches
            return [self.D(b) for b in batches]
        return list(self.D(torch.cat(batches)).split([len(b) for b in batches]))

    def discriminator_step(
        self, x_lab: torch.Tensor, y_lab: torch.Tensor, x_unl: torch.Tensor
    ) -> dict[str, float]:
        """One discriminator update.

        Args:
            x_lab: ``(n_lab, ...)`` labelled images; y_lab: ``(n_lab,)`` their classes.
            x_unl: ``(n_unl, ...)`` unlabelled images (as many fake images are generated).

        Returns:
            ``{"loss_lab", "loss_unl", "train_err"}`` (train error on the labelled batch).
        """
        with torch.no_grad():
            fake = self.G.sample(len(x_unl))
        logits_lab, logits_unl, logits_fake = self._d_logits(x_lab, x_unl, fake)
        loss_lab = supervised_loss(logits_lab, y_lab)
        loss_unl = unsupervised_loss(logits_unl, logits_fake, real_target=self.real_target)
        loss = loss_lab + self.unlabelled_weight * loss_unl
        if self.hist_d is not None:
            loss = loss + self.hist_d.penalty()
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        if self.D_average is not None:
            self.D_average.update_parameters(self.D)
        if self.hist_d is not None:
            self.hist_d.update()
        err = (logits_lab.argmax(dim=1) != y_lab).float().mean()
        return {"loss_lab": loss_lab.item(), "loss_unl": loss_unl.item(), "train_err": err.item()}

    def generator_step(self, x_unl: torch.Tensor) -> dict[str, float]:
        """One generator update (feature matching against ``x_unl``, or the standard or minimax loss).

        Only the generator's parameters receive gradients (the discriminator's are not accumulated).

        Returns:
            ``{"loss_gen"}``.
        """
        fake = self.G.sample(len(x_unl))
        if self.generator_loss == "feature_matching":
            with torch.no_grad():
                feats_real = self.D.features(x_unl)
            loss = feature_matching_loss(feats_real, self.D.features(fake))
        elif self.generator_loss == "standard":
            loss = generator_nonsaturating_loss(self.D(fake))
        else:
            loss = generator_minimax_loss(self.D(fake))
        if self.hist_g is not None:
            loss = loss + self.hist_g.penalty()
        grads = torch.autograd.grad(loss, self.g_params)
        for p, g in zip(self.g_params, grads, strict=True):
            p.grad = g
        self.opt_g.step()
        if self.hist_g is not None:
            self.hist_g.update()
        return {"loss_gen": loss.item()}

    def step(
        self, x_lab: torch.Tensor, y_lab: torch.Tensor, x_unl: torch.Tensor, x_unl2: torch.Tensor
    ) -> dict[str, float]:
        """One iteration: :meth:`discriminator_step` then ``generator_steps`` calls of :meth:`generator_step`
        (in training mode; ``loss_gen`` is their mean)."""
        if not self.initialized:
            raise RuntimeError("call initialize(images) once before training (data-dependent initialisation)")
        self.D.train()
        self.G.train()
        out = self.discriminator_step(x_lab, y_lab, x_unl)
        losses = [self.generator_step(x_unl2)["loss_gen"] for _ in range(self.generator_steps)]
        return out | {"loss_gen": sum(losses) / len(losses)}

    def state_dict(self) -> dict:
        """Plain dicts of tensors and numbers (loads with ``weights_only=True``)."""
        state = {
            "discriminator": self.D.state_dict(),
            "generator": self.G.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "initialized": self.initialized,
        }
        if self.D_average is not None:
            state["discriminator_average"] = self.D_average.state_dict()
        if self.hist_d is not None:
            state["hist_d"], state["hist_g"] = self.hist_d.state_dict(), self.hist_g.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`'s output."""
        self.D.load_state_dict(state["discriminator"])
        self.G.load_state_dict(state["generator"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.initialized = bool(state["initialized"])
        if self.D_average is not None:
            self.D_average.load_state_dict(state["discriminator_average"])
        if self.hist_d is not None:
            self.hist_d.load_state_dict(state["hist_d"])
            self.hist_g.load_state_dict(state["hist_g"])


#: how :func:`select_labelled` shuffles the training set before taking the first examples of each class
LabelDraw = Literal["torch", "numpy"]
LABEL_DRAWS: tuple[LabelDraw, ...] = ("torch", "numpy")


def check_label_choice(seed: int, draw: str, prefix: str = "label") -> None:
    """Name a bad label seed or draw (as ``<prefix>_seed``/``<prefix>_draw``) before any work is done.

    Raises:
        ValueError: ``seed`` < 0, or ``draw`` not in :data:`LABEL_DRAWS`.
    """
    if seed < 0:
        raise ValueError(f"{prefix}_seed must be >= 0, got {seed!r}")
    if draw not in LABEL_DRAWS:
        raise ValueError(f"{prefix}_draw must be one of {LABEL_DRAWS}, got {draw!r}")


def select_labelled(
    labels: torch.Tensor, per_class: int, seed: int, draw: LabelDraw = "torch"
) -> torch.Tensor:
    """Indices of ``per_class`` examples of each class, chosen by ``seed`` (shuffled once, first of each).

    Args:
        labels: ``(N,)`` int64 class labels.
        per_class: labelled examples per class (>= 1).
        seed: random seed of the choice (>= 0).
        draw: the shuffle: ``"torch"`` (``torch.randperm``, this toolkit's default) or ``"numpy"``
            (``np.random.RandomState(seed).permutation``: the draw of openai/improved-gan's
            ``train_mnist_feature_matching.py``, whose ``--seed_data`` is ``seed``; theirs shuffles MNIST's
            60,000 training images in file order, as ``labels`` is here).

    Returns:
        ``(per_class * n_classes,)`` int64 indices, sorted by class (in shuffled order within a class).

    Raises:
        ValueError: ``per_class`` < 1 or larger than a class, ``seed`` < 0, an unknown ``draw``.
    """
    if per_class < 1:
        raise ValueError(f"per_class must be >= 1, got {per_class!r}")
    check_label_choice(seed, draw)
    if draw == "torch":
        perm = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    else:
        perm = torch.from_numpy(np.random.RandomState(seed).permutation(len(labels)))
    chosen = []
    for c in labels.unique().tolist():
        idx = perm[labels[perm] == c]
        if len(idx) < per_class:
            raise ValueError(f"class {c} has only {len(idx)} examples, fewer than per_class={per_class}")
        chosen.append(idx[:per_class])
    return torch.cat(chosen)


def labelled_batches(
    n_labelled: int, batch_size: int, n_batches: int, generator: torch.Generator
) -> torch.Tensor:
    """Batches of labelled indices from concatenated random permutations (their scheme).

    Returns:
        ``(n_batches, batch_size)`` int64 indices into the labelled set.
    """
    total = n_batches * batch_size
    reps = -(-total // n_labelled)
    flat = torch.cat([torch.randperm(n_labelled, generator=generator) for _ in range(reps)])
    return flat[:total].view(n_batches, batch_size)


def unlabelled_batches(n: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Index batches of one shuffled pass over ``n`` examples (the last incomplete batch is dropped)."""
    perm = torch.randperm(n, generator=generator)
    for i in range(n // batch_size):
        yield perm[i * batch_size : (i + 1) * batch_size]


def linear_decay_lr(base_lr: float, iteration: int, total: int, decay_fraction: float) -> float:
    """Constant ``base_lr``, then linear decay to 0 over the last ``decay_fraction`` of ``total`` steps."""
    if decay_fraction <= 0:
        return base_lr
    start = total * (1.0 - decay_fraction)
    if iteration < start:
        return base_lr
    return base_lr * max(0.0, (total - iteration) / (total - start))
