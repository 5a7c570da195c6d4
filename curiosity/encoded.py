"""Any flat-vector bonus on top of an image encoder: frames -> features -> bonus.

:class:`EncodedBonus` maps ``obs`` and ``next_obs`` frames through an encoder (any ``torch.nn.Module``
from ``(batch, *obs_shape)`` to ``(batch, ...)`` features, flattened) and hands the latent transitions
``(z, a, z')`` to an inner bonus built for vectors of that width. With VIME inside, the BNN models the
latent dynamics ``p(z' | z, a)`` and the bonus is the information gained about them (:class:`LatentVIME`,
registered as ``"vime-latent"``). ``curiosity`` never imports :mod:`generative`: the encoder is handed in
(see ``generative.encoders`` for pretrained VAE / IAF-VAE / InfoGAN / GAN encoders).

Encoder modes:

* ``"frozen"`` (default): the encoder is never trained here; pretrain it first. The latent space then
  stays fixed under the inner bonus's model and its running statistics.
* ``"online"``: recent ``next_obs`` frames are kept in a bounded pool and every :meth:`EncodedBonus.train`
  first runs ``encoder_steps`` calls of ``encoder.train_step(frames)`` (the encoder must have that method),
  for the first ``encoder_train_calls`` trainings (``None``: always), then trains the inner bonus. The
  inner bonus's already stored latents were encoded by older weights and go stale as the encoder moves:
  a finite ``encoder_train_calls`` (a warm-up) lets the latent space settle.

Frames are encoded in chunks of ``encode_batch_size``, from their stored dtype (``uint8`` frames are not
converted to float as a whole, which for a 5,000-step rollout of 64x64x3 frames would take 250 MB), and
each distinct frame of a batch once (a rollout's ``obs`` are mostly its ``next_obs`` shifted by a step).
The features of the last batch are kept, keyed by frame digest and valid while the encoder's weights are
unchanged (:func:`curiosity.digests.module_fingerprint`): the ``add`` that follows ``compute`` on the same
rollout, as in VIME's rollout mode, encodes nothing again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from curiosity.base import IntrinsicBonus, encode_actions
from curiosity.digests import module_fingerprint, unique_rows
from curiosity.direct import DIRECT_BONUSES, make_from
from curiosity.images import storage_dtype
from curiosity.pool import RingPool
from curiosity.seeding import resolve_seed
from curiosity.validation import check_int, check_state_keys

InnerFactory = Callable[[spaces.Box, spaces.Space], IntrinsicBonus]
EncoderMode = Literal["frozen", "online"]


class EncodedBonus(IntrinsicBonus):
    """A flat-vector bonus computed on encoder features of image observations.

    Args:
        observation_space: image observations (any ``Box``; vectors work too).
        action_space: ``Box`` or ``Discrete``.
        inner: the bonus on features: a name in :data:`curiosity.direct.DIRECT_BONUSES` (``"vime"``,
            ``"rnd"``, ...: any of :func:`curiosity.make_bonus` but ``"vime-latent"`` and the episodic
            ``"e3b"``, ``"ride"``, ``"ngu"``, which take an ``encoder`` themselves),
            a factory ``(latent_space, action_space) -> IntrinsicBonus``, or a bonus already built for
            ``Box(-inf, inf, (feature_dim,))`` observations.
        encoder: module mapping ``(batch, *obs_shape)`` to ``(batch, ...)`` features.
        inner_kwargs: keyword arguments of the inner bonus when ``inner`` is a name.
        eta: bonus scale ``r + eta * normalize(bonus)``; ``None`` takes the inner bonus's ``eta`` (its
            schedule too, if it has one; the inner bonus's own ``eta`` is not used otherwise).
        encoder_updates: ``"frozen"`` or ``"online"`` (see the module docstring).
        encoder_steps: ``train_step`` calls per :meth:`train` in online mode.
        encoder_batch_size: frames per ``train_step`` in online mode.
        encoder_train_calls: online mode trains the encoder during the first this many :meth:`train`
            calls, then freezes it (``None``: never freezes).
        frame_pool_size: capacity of the online mode's frame pool.
        encode_batch_size: frames per encoder forward pass.
        seed: seeds the frame sampling, and the inner bonus when built by name (unless its kwargs do).
        device: where the encoder and the online frame pool live, and the inner bonus when built by name
            (unless its kwargs say otherwise); ``"auto"``: CUDA when available. The encoder is moved there.

    Raises:
        TypeError: unsupported spaces, an ``encoder`` that is not a module, an online encoder without
            ``train_step``, an inner bonus that does not model flat vectors, or an episodic one.
        ValueError: a bad hyperparameter, or an inner bonus built for another feature width.
    """

    accepts_images = True

    def __init__(
        self,
        observation_space: spaces.Box,
        action_space: spaces.Space,
        inner: str | InnerFactory | IntrinsicBonus = "vime",
        *,
        encoder: nn.Module,
        inner_kwargs: dict[str, Any] | None = None,
        eta: float | None = None,
        encoder_updates: EncoderMode = "frozen",
        encoder_steps: int = 50,
        encoder_batch_size: int = 64,
        encoder_train_calls: int | None = None,
        frame_pool_size: int = 5_000,
        encode_batch_size: int = 256,
        seed: int | None = None,
        device: str | torch.device = "auto",
    ) -> None:
        super().__init__(observation_space, action_space, eta=0.0 if eta is None else eta, device=device)
        if not isinstance(encoder, nn.Module):
            raise TypeError(
                f"encoder must be a torch.nn.Module mapping frames to features, got {type(encoder).__name__} "
                "(build one with generative.encoders.make_encoder)"
            )
        if encoder_updates not in ("frozen", "online"):
            raise ValueError(f"encoder_updates must be 'frozen' or 'online', got {encoder_updates!r}")
        if encoder_updates == "online" and not callable(getattr(encoder, "train_step", None)):
            raise TypeError(
                f"encoder_updates='online' needs an encoder with train_step(frames) -> dict; "
                f"{type(encoder).__name__} has none (e.g. use generative.encoders.FrameVAE)"
            )
        if encoder_train_calls is not None:
            check_int("encoder_train_calls", encoder_train_calls, minimum=0)
        self.encoder = encoder.to(self.device).eval()
        self.encoder_updates = encoder_updates
        self.encoder_steps = check_int("encoder_steps", encoder_steps)
        self.encoder_batch_size = check_int("encoder_batch_size", encoder_batch_size)
        self.encoder_train_calls = encoder_train_calls
        self.encode_batch_size = check_int("encode_batch_size", encode_batch_size)
        self.seed = resolve_seed(seed)
        self.feature_dim = self._probe_feature_dim()
        self.latent_space = spaces.Box(-np.inf, np.inf, (self.feature_dim,), np.float32)
        self.inner = self._build_inner(inner, dict(inner_kwargs or {}))
        if eta is None:  # the inner bonus's eta, its schedule included
            self.eta = self.inner.eta_schedule if self.inner.eta_schedule is not None else self.inner.eta
        self.generator = torch.Generator().manual_seed(self.seed)
        self.pool: RingPool | None = None
        if encoder_updates == "online":
            dtype = storage_dtype(observation_space)
            frames = {"frames": (tuple(observation_space.shape), dtype)}
            self.pool = RingPool(frame_pool_size, frames, device=self.device)
        self.n_train_calls = 0
        # features of the last encoded batch: (encoder fingerprint, {frame digest: features})
        self._memo: tuple[bytes, dict[bytes, np.ndarray]] = (b"", {})

    def _probe_feature_dim(self) -> int:
        probe = np.zeros((1, *self.observation_space.shape), dtype=self.observation_space.dtype)
        with torch.no_grad():
            return int(self.encoder(torch.as_tensor(probe, device=self.device)).reshape(1, -1).shape[1])

    def _build_inner(
        self, inner: str | InnerFactory | IntrinsicBonus, kwargs: dict[str, Any]
    ) -> IntrinsicBonus:
        if isinstance(inner, str):
            kwargs = {"seed": self.seed, "device": self.device, **kwargs}
            bonus = make_from(DIRECT_BONUSES, inner, self.latent_space, self.action_space, **kwargs)
        elif kwargs:
            raise ValueError("inner_kwargs only apply when inner is given by name")
        elif isinstance(inner, IntrinsicBonus):
            bonus = inner
        elif callable(inner):
            bonus = inner(self.latent_space, self.action_space)
        else:
            raise TypeError(f"inner must be a bonus name, a factory or an IntrinsicBonus, got {inner!r}")
        if not isinstance(bonus, IntrinsicBonus):
            raise TypeError(f"the inner factory returned {type(bonus).__name__}, not an IntrinsicBonus")
        if getattr(bonus, "episodic", False):  # compute and add here take no episode ends (dones)
            raise TypeError(
                f"{type(bonus).__name__} is episodic: it needs each batch's episode ends (dones), which "
                f"EncodedBonus does not pass; give the encoder to {type(bonus).__name__} itself (encoder=...)"
            )
        if tuple(bonus.observation_space.shape) != (self.feature_dim,):
            raise ValueError(
                f"the inner bonus models observations of shape {bonus.observation_space.shape}, but the "
                f"encoder gives ({self.feature_dim},) features"
            )
        return bonus

    # -- maths ----------------------------------------------------------------------------------------
    def _check_frames(self, name: str, frames: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames)
        shape = tuple(self.observation_space.shape)
        if frames.shape[1:] != shape:
            raise ValueError(
                f"{name} must have shape (batch, {', '.join(map(str, shape))}), got {frames.shape}"
            )
        if frames.dtype.kind == "f" and not np.isfinite(frames).all():
            raise ValueError(f"{name} contains NaN or infinite values")
        return frames

    def encode(self, frames: np.ndarray) -> np.ndarray:
        """Flat features ``(batch, feature_dim)`` float32 of frames ``(batch, *obs_shape)``; no gradients.

        Raises:
            ValueError: wrong shape or non-finite values.
        """
        frames = self._check_frames("frames", frames)
        chunks = []
        with torch.no_grad():
            for start in range(0, len(frames), self.encode_batch_size):
                chunk = torch.as_tensor(frames[start : start + self.encode_batch_size], device=self.device)
                chunks.append(self.encoder(chunk).reshape(len(chunk), -1).float().cpu())
        if not chunks:
            return np.zeros((0, self.feature_dim), dtype=np.float32)
        return torch.cat(chunks).numpy().astype(np.float32)

    def _latent_batch(
        self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        obs = self._check_frames("obs", obs)
        next_obs = self._check_frames("next_obs", next_obs)
        actions = np.asarray(actions)
        if not len(obs) == len(next_obs) == len(actions):
            raise ValueError(
                f"batch sizes differ: obs {len(obs)}, actions {len(actions)}, next_obs {len(next_obs)}"
            )
        encode_actions(actions, self.action_space)  # validates the actions before any encoding
        z = self._encode_unique(np.concatenate([obs, next_obs]))
        return z[: len(obs)], actions, z[len(obs) :]

    def _encode_unique(self, frames: np.ndarray) -> np.ndarray:
        """:meth:`encode`, running the encoder once per distinct frame (in a rollout most ``obs`` rows are
        also ``next_obs`` rows) and not at all for frames of the previous batch when the encoder's weights
        have not changed since (``compute`` then ``add`` on one rollout)."""
        keys, first, inverse = unique_rows(frames)
        fingerprint = module_fingerprint(self.encoder)
        memo = self._memo[1] if self._memo[0] == fingerprint else {}
        latents = np.empty((len(keys), self.feature_dim), dtype=np.float32)
        missing = []
        for j, key in enumerate(keys):
            if key in memo:
                latents[j] = memo[key]
            else:
                missing.append(j)
        if missing:
            latents[missing] = self.encode(frames[first[missing]])
        self._memo = (fingerprint, dict(zip(keys, latents, strict=True)))
        return latents[inverse]

    # -- the contract ---------------------------------------------------------------------------------
    def compute(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
        """The inner bonus's raw value on the latent transitions ``(z, a, z')``, shape ``(batch,)``.

        Raises:
            ValueError: bad shapes, non-finite values or invalid actions.
        """
        return self.inner.compute(*self._latent_batch(obs, actions, next_obs))

    def normalize(self, bonus: np.ndarray, update: bool = True) -> np.ndarray:
        """The inner bonus's normalisation (``update=False`` moves no statistics)."""
        return self.inner.normalize(bonus, update=update)

    def add(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> None:
        """Store latent transitions in the inner bonus (and, online, the ``next_obs`` frames)."""
        latents = self._latent_batch(obs, actions, next_obs)
        self.inner.add(*latents)
        if self.pool is not None:
            self.pool.add(frames=torch.as_tensor(np.asarray(next_obs), device=self.device))

    def train(self) -> dict[str, float]:
        """Online: ``encoder_steps`` encoder updates on pooled frames (``encoder/*`` metrics); then the
        inner bonus's training (its metrics, unprefixed)."""
        metrics: dict[str, float] = {}
        if self._encoder_trains() and len(self.pool) > 0:
            metrics.update(self._train_encoder())
        metrics.update(self.inner.train())
        self.n_train_calls += 1
        return metrics

    def _encoder_trains(self) -> bool:
        limit = self.encoder_train_calls
        return self.pool is not None and (limit is None or self.n_train_calls < limit)

    def _train_encoder(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        self.encoder.train()
        try:
            for _ in range(self.encoder_steps):
                idx = self.pool.sample_indices((self.encoder_batch_size,), self.generator)
                for key, value in self.encoder.train_step(self.pool.get("frames", idx)).items():
                    totals[key] = totals.get(key, 0.0) + float(value)
        finally:
            self.encoder.eval()
        return {f"encoder/{key}": value / self.encoder_steps for key, value in totals.items()}

    def state_dict(self) -> dict[str, Any]:
        """Inner bonus, encoder weights (and whatever the encoder saves), frame pool, RNG, counters, eta."""
        state = {
            "inner": self.inner.state_dict(),
            "encoder": self.encoder.state_dict(),
            "generator": self.generator.get_state(),
            "n_train_calls": self.n_train_calls,
            "eta": self.eta,
        }
        if self.pool is not None:
            state["pool"] = self.pool.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        keys = ["inner", "encoder", "generator", "n_train_calls", "eta"] + (["pool"] if self.pool else [])
        check_state_keys("EncodedBonus", state, keys)
        self.inner.load_state_dict(state["inner"])
        self.encoder.load_state_dict(state["encoder"])
        self.encoder.eval()
        self.generator.set_state(state["generator"].clone())
        self.n_train_calls = int(state["n_train_calls"])
        self._restore_eta(state["eta"])
        if self.pool is not None:
            self.pool.load_state_dict(state["pool"])


class LatentVIME(EncodedBonus):
    """VIME on encoder features (registered as ``"vime-latent"``): the BNN models ``p(z' | z, a)``.

    Args:
        observation_space: image observations.
        action_space: ``Box`` or ``Discrete``.
        encoder: the frame encoder (required; e.g. a pretrained ``generative.encoders.FrameVAE``).
        eta: bonus scale (default: VIME's 1e-3).
        encoder_updates, encoder_steps, encoder_batch_size, encoder_train_calls, frame_pool_size,
            encode_batch_size: see :class:`EncodedBonus`.
        seed: seeds VIME and the frame sampling.
        device: where the encoder and VIME run (``"auto"``: CUDA when available).
        **vime_kwargs: keyword arguments of :class:`curiosity.vime.VIME` (``hidden_sizes``, ...).

    Raises:
        TypeError: no ``encoder`` given (``make_bonus("vime-latent", ...)`` needs ``encoder=``).

    References:
        Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
    """

    def __init__(
        self,
        observation_space: spaces.Box,
        action_space: spaces.Space,
        *,
        encoder: nn.Module | None = None,
        eta: float | None = None,
        encoder_updates: EncoderMode = "frozen",
        encoder_steps: int = 50,
        encoder_batch_size: int = 64,
        encoder_train_calls: int | None = None,
        frame_pool_size: int = 5_000,
        encode_batch_size: int = 256,
        seed: int | None = None,
        device: str | torch.device = "auto",
        **vime_kwargs: Any,
    ) -> None:
        if encoder is None:
            raise TypeError(
                "vime-latent needs encoder=<torch module mapping frames to features>, e.g. "
                "generative.encoders.make_encoder('vae', obs_shape) pretrained on frames; from the command "
                "line or a suite, bonus_kwargs={'encoder': 'vae'} builds one (agents.pixels)"
            )
        super().__init__(
            observation_space, action_space, "vime", encoder=encoder, inner_kwargs=vime_kwargs, eta=eta,
            encoder_updates=encoder_updates, encoder_steps=encoder_steps,
            encoder_batch_size=encoder_batch_size, encoder_train_calls=encoder_train_calls,
            frame_pool_size=frame_pool_size, encode_batch_size=encode_batch_size, seed=seed, device=device,
        )  # fmt: skip
