"""Frame encoders (frames in, feature vectors out) and the world model over their latents.

The encoders feed exploration bonuses; :mod:`generative.encoders.world_model` learns BNN latent dynamics
and imagines rollouts on top of any of them.

Every encoder is a :class:`~generative.encoders.base.StateEncoder`: frames ``(B, *frame_shape)`` in,
``(B, feature_dim)`` out; :mod:`generative.encoders.base` describes the frame adapter they share.

Encoders:

| name | class | features | trainable (``train_step``) |
| --- | --- | --- | --- |
| ``vae`` / ``ae`` | :class:`FrameVAE` | latent mean of a conv VAE (or plain autoencoder) for frames | yes |
| ``iaf-vae`` | :class:`IAFVAEEncoder` | ``IAFVAE.encode``: the posterior's base mean ``mu0`` | yes |
| ``infogan`` | :class:`InfoGANEncoder` | InfoGAN's Q: code probabilities and means | yes (GAN) |
| ``gan`` | :class:`GANDiscriminatorEncoder` | improved-GAN discriminator's last hidden layer | yes (GAN) |

Training. :meth:`StateEncoder.train_step` takes one optimiser step on a minibatch of raw frames; the
optimisers live in the encoder and are saved in its ``state_dict`` (``get_extra_state``), so a bonus that
saves its encoder resumes exactly. :func:`collect_frames` gathers frames with a random policy and
:func:`pretrain_encoder` fits an encoder on them. *Online* training is the bonus's business
(:class:`curiosity.encoded.EncodedBonus` with ``encoder_updates="online"`` calls ``train_step`` on its pool
of recent frames at each training); a pretrained, frozen encoder is the default and keeps the latent
space still under the bonus's dynamics model.

References:
    Kingma and Welling, "Auto-Encoding Variational Bayes", ICLR 2014 (the VAE).
    Kingma et al., "Improved Variational Inference with Inverse Autoregressive Flow", NeurIPS 2016.
    Chen et al., "InfoGAN", NeurIPS 2016. Salimans et al., "Improved Techniques for Training GANs", 2016.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from curiosity.validation import check_int
from generative.encoders.adapters import GANDiscriminatorEncoder, IAFVAEEncoder, InfoGANEncoder
from generative.encoders.base import StateEncoder
from generative.encoders.frame_vae import FrameVAE

__all__ = [
    "ENCODERS", "FrameVAE", "GANDiscriminatorEncoder", "IAFVAEEncoder", "InfoGANEncoder", "StateEncoder",
    "collect_frames", "make_encoder", "pretrain_encoder",
]

#: name -> (class, fixed keyword arguments)
ENCODERS: dict[str, tuple[type[StateEncoder], dict[str, Any]]] = {
    "vae": (FrameVAE, {}),
    "ae": (FrameVAE, {"variational": False}),
    "iaf-vae": (IAFVAEEncoder, {}),
    "infogan": (InfoGANEncoder, {}),
    "gan": (GANDiscriminatorEncoder, {}),
}


def make_encoder(name: str, frame_shape: Sequence[int], **kwargs: Any) -> StateEncoder:
    """Build the encoder called ``name`` (:data:`ENCODERS`) for frames of ``frame_shape``.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; choose one of {', '.join(ENCODERS)}")
    cls, fixed = ENCODERS[name]
    return cls(frame_shape, **{**fixed, **kwargs})


def collect_frames(env: gym.Env | str, n_frames: int, seed: int = 0, **make_kwargs: Any) -> np.ndarray:
    """Observations of a uniformly random policy, ``(n_frames, *observation_shape)`` in their dtype.

    Args:
        env: an environment with image observations, or its id (``gym.make(env, **make_kwargs)``; the
            toolkit's pixel ids need ``import envs`` first).
        n_frames: number of observations (resets included, each episode's first frame too).
        seed: seeds the first reset and the action sampling.

    Raises:
        ValueError: ``n_frames`` < 1 or observations that are not images.
    """
    n_frames = check_int("n_frames", n_frames)
    own = isinstance(env, str)
    env = gym.make(env, **make_kwargs) if own else env
    shape = env.observation_space.shape
    if shape is None or len(shape) < 2:
        raise ValueError(f"collect_frames needs image observations, got space {env.observation_space}")
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    frames = np.empty((n_frames, *shape), dtype=env.observation_space.dtype)
    for i in range(n_frames):
        frames[i] = obs
        obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            obs, _ = env.reset()
    if own:
        env.close()
    return frames


def pretrain_encoder(
    encoder: StateEncoder,
    frames: np.ndarray | torch.Tensor,
    steps: int = 500,
    batch_size: int = 64,
    seed: int = 0,
) -> list[dict[str, float]]:
    """Fit ``encoder`` on frames: ``steps`` calls of ``train_step`` on minibatches drawn uniformly.

    Args:
        encoder: a trainable :class:`StateEncoder`.
        frames: ``(N, *frame_shape)`` frames (e.g. from :func:`collect_frames`).
        steps: number of minibatch steps.
        batch_size: frames per step.
        seed: seeds the minibatch draws.

    Returns:
        The metrics of every step.
    """
    steps, batch_size = check_int("steps", steps), check_int("batch_size", batch_size)
    frames = torch.as_tensor(np.asarray(frames)) if not isinstance(frames, torch.Tensor) else frames
    generator = torch.Generator().manual_seed(seed)
    history = []
    for _ in range(steps):
        idx = torch.randint(0, len(frames), (min(batch_size, len(frames)),), generator=generator)
        history.append(encoder.train_step(frames[idx]))
    encoder.eval()
    return history
