"""VIME: the information an agent gains about the environment's dynamics, as a reward bonus.

A Bayesian neural network (:mod:`curiosity.bnn`) models ``p(s' | s, a)``. The bonus for a transition
is the KL divergence between the model's posterior after an update on that transition and before it
(:mod:`curiosity.infogain`), normalised by the mean of the last ``median_window`` batch medians and
scaled by ``eta``: ``r' = r + eta * KL / mean(last medians)``. The model is trained by maximising the
ELBO on minibatches from a FIFO pool of past transitions.

References:
    Houthooft, Chen, Duan, Schulman, De Turck and Abbeel, "VIME: Variational Information Maximizing
    Exploration", NIPS 2016.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any, Literal

import numpy as np
import torch
from gymnasium import spaces

from curiosity.base import IntrinsicBonus
from curiosity.bnn import BNN
from curiosity.bnn_training import ELBOTrainer, supports
from curiosity.infogain import exact_kl, second_order_kl
from curiosity.normalization import RunningMeanStd
from curiosity.pool import RingPool
from curiosity.seeding import seeded
from curiosity.validation import check_int, check_state_keys

# Standardised model inputs are clipped to this range (as SB3's VecNormalize clips observations): a
# feature that has been constant so far would otherwise be divided by ~0 when it first changes.
_CLIP_STANDARDISED = 10.0


class VIME(IntrinsicBonus):
    """Information-gain exploration bonus.

    Args:
        observation_space: flat ``Box`` observations.
        action_space: ``Box`` or ``Discrete`` actions.
        eta: bonus scale (the paper: 1e-4 to 1e-3 depending on the task).
        hidden_sizes: BNN hidden layers (the paper: ``(32,)``; ``(64, 64)`` for Hopper).
        prior_std: BNN prior standard deviation (0.5).
        init_sigma: initial posterior standard deviation (0.5).
        likelihood_std: fixed standard deviation of the Gaussian likelihood (5.0).
        learning_rate: Adam learning rate for the ELBO (1e-4).
        n_updates: minibatch updates per :meth:`train` call (500).
        batch_size: minibatch size of those updates (10).
        n_train_samples: Monte Carlo weight samples in the ELBO (10).
        kl_batches: the KL term of the ELBO is divided by this (the original hard-coded 5).
        pool_size: capacity of the FIFO transition pool (100,000).
        min_pool_size: :meth:`train` does nothing until the pool holds this many transitions (500).
        estimator: ``"second_order"`` (batched, the paper's) or ``"exact"`` (KL after a real update,
            one transition at a time).
        lam: step size ``lambda`` of the hypothetical update (0.01).
        n_bonus_samples: Monte Carlo weight samples in the bonus gradient (10).
        exact_steps: update steps of the ``"exact"`` estimator (1).
        normalize: divide by the mean of the last ``median_window`` batch medians (the paper: on).
        median_window: number of batch medians kept (10).
        clip_max: raw KL values are clipped to ``[0, clip_max]`` before normalising (1000).
        seed: seeds the BNN's initial weights and all its noise; ``None`` draws one.
        fast_training: train with the hand-derived ELBO gradient and a flat Adam update
            (:mod:`curiosity.bnn_training`: the same maths, several times faster on small batches);
            ``False`` uses autograd and ``torch.optim.Adam`` (the reference). Checkpoints are the same
            either way; an optimiser the fast path does not reproduce (e.g. with weight decay, set after
            construction) is trained on the reference path.
        device: where the BNN, its pool and statistics live (``"auto"``: CUDA when available, else CPU;
            see :class:`curiosity.base.IntrinsicBonus`). The noise is drawn on the CPU either way, so a
            seed gives the same bonuses on every device (to float rounding).

    Raises:
        TypeError: unsupported spaces (image observations need an encoder in front of the BNN).
        ValueError: a hyperparameter out of range, naming it.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        eta: float = 1e-3,
        hidden_sizes: Sequence[int] = (32,),
        prior_std: float = 0.5,
        init_sigma: float = 0.5,
        likelihood_std: float = 5.0,
        learning_rate: float = 1e-4,
        n_updates: int = 500,
        batch_size: int = 10,
        n_train_samples: int = 10,
        kl_batches: float = 5.0,
        pool_size: int = 100_000,
        min_pool_size: int = 500,
        estimator: Literal["second_order", "exact"] = "second_order",
        lam: float = 0.01,
        n_bonus_samples: int = 10,
        exact_steps: int = 1,
        normalize: bool = True,
        median_window: int = 10,
        clip_max: float = 1000.0,
        seed: int | None = None,
        fast_training: bool = True,
        device: str | torch.device = "auto",
    ) -> None:
        super().__init__(observation_space, action_space, eta=eta, device=device)
        _check_positive(learning_rate=learning_rate, lam=lam, kl_batches=kl_batches, clip_max=clip_max)
        _check_positive_int(
            n_updates=n_updates,
            batch_size=batch_size,
            n_train_samples=n_train_samples,
            pool_size=pool_size,
            n_bonus_samples=n_bonus_samples,
            exact_steps=exact_steps,
            median_window=median_window,
        )
        min_pool_size = check_int("min_pool_size", min_pool_size, minimum=0)
        if estimator not in ("second_order", "exact"):
            raise ValueError(f"estimator must be 'second_order' or 'exact', got {estimator!r}")
        self.n_updates, self.batch_size, self.n_train_samples = n_updates, batch_size, n_train_samples
        self.kl_batches, self.min_pool_size = float(kl_batches), int(min_pool_size)
        self.estimator, self.lam, self.exact_steps = estimator, float(lam), exact_steps
        self.n_bonus_samples, self.clip_max = n_bonus_samples, float(clip_max)
        self.normalize_bonus = normalize
        self.medians: deque[float] = deque(maxlen=int(median_window))

        seed, self._noise_seed = (int(x) for x in np.random.SeedSequence(seed).generate_state(2))
        self.generator = torch.Generator().manual_seed(seed)  # training: minibatches and weight noise
        self.trainings = 0  # train() calls that updated the model
        with seeded(seed):
            self.bnn = BNN(
                self.obs_dim + self.action_dim,
                self.obs_dim,
                hidden_sizes,
                prior_std=prior_std,
                init_sigma=init_sigma,
                likelihood_std=likelihood_std,
            ).to(self.device)
        self.optimizer = torch.optim.Adam(self.bnn.parameters(), lr=learning_rate)
        self.fast_training = bool(fast_training)
        self.pool = RingPool.for_transitions(pool_size, (self.obs_dim,), self.action_dim, device=self.device)
        # standardisation statistics over every transition ever added (the original's running statistics)
        self.obs_stats = RunningMeanStd((self.obs_dim,), device=self.device)
        self.action_stats = RunningMeanStd((self.action_dim,), device=self.device)

    # -- bonus ------------------------------------------------------------------------------------------
    def compute(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
        """Raw information gain per transition, ``(batch,)``, clipped to ``[0, clip_max]``.

        A pure function of the model and the batch: the Monte Carlo noise is drawn from a generator
        seeded anew from ``(seed, number of trainings)``, so repeated calls between two trainings agree and
        nothing is moved. A batch whose values would not be finite is answered with zeros and a warning.
        """
        inputs, targets = self._model_io(*self.check_batch(obs, actions, next_obs))
        noise = torch.Generator().manual_seed(self._noise_seed + self.trainings)
        if self.estimator == "second_order":
            kl = second_order_kl(self.bnn, inputs, targets, self.lam, self.n_bonus_samples, noise)
        else:
            kl = exact_kl(self.bnn, inputs, targets, self.lam, self.n_bonus_samples, self.exact_steps, noise)
        if not torch.isfinite(kl).all():
            warnings.warn("VIME: non-finite information gain; this batch's bonuses set to 0", stacklevel=2)
            return np.zeros(len(kl), dtype=np.float32)
        return kl.clamp(0.0, self.clip_max).cpu().numpy().astype(np.float32)

    def normalize(self, bonus: np.ndarray, update: bool = True) -> np.ndarray:
        """Divide by the mean of the last batch medians.

        ``update=True`` (a training batch, the paper's rule) first stores this batch's median in the queue;
        ``update=False`` (step time, evaluation) uses the stored medians only, and gives 0 before any is
        stored: a bonus must not be divided by a scale that includes its own median.
        """
        if not self.normalize_bonus or len(bonus) == 0:
            return bonus
        if update:
            self.medians.append(float(np.median(bonus)))
        if not self.medians:
            return np.zeros_like(bonus)
        scale = float(np.mean(self.medians))
        return bonus / scale if scale > 0 else np.zeros_like(bonus)

    # -- learning ---------------------------------------------------------------------------------------
    def add(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> None:
        """Store complete transitions in the FIFO pool (and its running statistics)."""
        obs_t, actions_t, next_obs_t = self.check_batch(obs, actions, next_obs)
        obs_t, next_obs_t = obs_t.reshape(len(obs_t), -1), next_obs_t.reshape(len(obs_t), -1)
        self.pool.add(obs=obs_t, actions=actions_t, next_obs=next_obs_t)
        self.obs_stats.update(torch.cat([obs_t, next_obs_t]))
        self.action_stats.update(actions_t)

    def train(self) -> dict[str, float]:
        """``n_updates`` Adam steps on the negative ELBO over pool minibatches.

        Does nothing (returns ``{}``) until the pool holds ``min_pool_size`` transitions. A minibatch
        whose loss is not finite is skipped with a warning. Returns mean ``loss``, ``kl`` and
        ``log_likelihood`` over the updates.
        """
        if len(self.pool) < max(self.min_pool_size, 1):
            return {}
        inputs, targets = self._minibatches()
        totals: dict[str, float] = {}
        done = 0
        fast = self.fast_training and supports(self.optimizer)
        with ELBOTrainer(self.bnn, self.optimizer, self.kl_batches) if fast else nullcontext() as trainer:
            for x, target in zip(inputs, targets, strict=True):
                noise = self.bnn.sample_noise(self.n_train_samples, self.batch_size, self.generator)
                parts = trainer.step(x, target, noise) if fast else self._autograd_step(x, target, noise)
                if not math.isfinite(parts["loss"]):
                    warnings.warn("VIME: non-finite ELBO on a minibatch; update skipped", stacklevel=2)
                    continue
                for key, value in parts.items():
                    totals[key] = totals.get(key, 0.0) + value
                done += 1
        if not done:
            return {}
        self.trainings += 1
        return {key: value / done for key, value in totals.items()}

    def _minibatches(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every update's standardised minibatch, ``(n_updates, batch_size, ·)`` inputs and targets.

        Drawn at once (uniformly, with replacement): neither the pool nor its statistics change during
        :meth:`train`, and one gather and standardisation beats ``n_updates`` small ones.
        """
        idx = self.pool.sample_indices((self.n_updates * self.batch_size,), self.generator)
        rows = (self.pool.get(name, idx) for name in ("obs", "actions", "next_obs"))
        inputs, targets = self._model_io(*rows)
        shape = (self.n_updates, self.batch_size)
        return inputs.view(*shape, -1), targets.view(*shape, -1)

    def _autograd_step(
        self, x: torch.Tensor, target: torch.Tensor, noise: list[torch.Tensor]
    ) -> dict[str, float]:
        """The reference update: autograd through :meth:`BNN.loss`, then ``torch.optim.Adam``."""
        loss, parts = self.bnn.loss(x, target, self.n_train_samples, self.kl_batches, noise=noise)
        if torch.isfinite(loss):
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        return parts

    def _model_io(
        self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Standardised model inputs ``[obs, action]`` and targets ``next_obs`` (pool statistics)."""
        clip = _CLIP_STANDARDISED
        obs_n = self.obs_stats.normalize(obs.reshape(len(obs), -1)).clamp(-clip, clip)
        next_n = self.obs_stats.normalize(next_obs.reshape(len(obs), -1)).clamp(-clip, clip)
        act_n = self.action_stats.normalize(actions).clamp(-clip, clip)
        return torch.cat([obs_n, act_n], dim=1), next_n

    # -- persistence ------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Weights, optimiser, pool and its statistics, median queue, RNG state and ``eta``."""
        return {
            "bnn": self.bnn.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "pool": self.pool.state_dict(),
            "obs_stats": self.obs_stats.state_dict(),
            "action_stats": self.action_stats.state_dict(),
            "medians": torch.tensor(list(self.medians), dtype=torch.float64),
            "generator": self.generator.get_state(),
            "noise_seed": self._noise_seed,
            "trainings": self.trainings,
            "eta": self.eta,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output; afterwards the bonus continues exactly as it would have.

        Raises:
            ValueError: the state lacks VIME's keys (e.g. it was saved by another bonus).
        """
        keys = ("bnn", "optimizer", "pool", "obs_stats", "action_stats", "medians", "generator", "noise_seed")
        keys += ("trainings", "eta")
        check_state_keys("VIME", state, keys)
        self.bnn.load_state_dict(state["bnn"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.pool.load_state_dict(state["pool"])
        self.obs_stats.load_state_dict(state["obs_stats"])
        self.action_stats.load_state_dict(state["action_stats"])
        self.medians.clear()
        self.medians.extend(float(m) for m in state["medians"])
        self.generator.set_state(state["generator"])
        self._noise_seed, self.trainings = int(state["noise_seed"]), int(state["trainings"])
        self._restore_eta(state["eta"])


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
        if not (number and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _check_positive_int(**values: int) -> None:
    for name, value in values.items():
        check_int(name, value)  # an int (NaN, inf, 2.5 and 4.0 are refused by name)
