"""Glue for runs on pixel observations: the policy class, and frame encoders built from their names.

:func:`agents.experiment.build` calls :func:`policy_for` (``CnnPolicy`` for image observations,
``MlpPolicy`` otherwise) and :func:`resolve_bonus_kwargs`, which replaces a *named* encoder in a bonus's
keyword arguments by a module pretrained on frames of a random policy, so that a suite or the command line
can ask for ``bonus="vime-latent", bonus_kwargs={"encoder": "vae"}`` with JSON-friendly settings only:

| key | meaning | default |
| --- | --- | --- |
| ``encoder`` | a name of :data:`generative.encoders.ENCODERS`: ``vae``, ``ae``, ``iaf-vae``, ... | |
| ``encoder_kwargs`` | keyword arguments of the encoder | ``{}`` |
| ``pretrain_frames`` | random-policy frames collected from a fresh copy of the task | 2000 |
| ``pretrain_steps`` | ``train_step`` calls on them (0: an untrained encoder) | 500 |
| ``pretrain_batch_size`` | frames per step | 64 |

The frames come from ``gym.make(env_id, **env_kwargs)`` seeded with ``seed + 10_000`` (not the training env's
stream).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from generative.encoders import ENCODERS, StateEncoder, collect_frames, make_encoder, pretrain_encoder

#: keys of ``bonus_kwargs`` consumed here (the rest go to the bonus)
ENCODER_KEYS = ("encoder", "encoder_kwargs", "pretrain_frames", "pretrain_steps", "pretrain_batch_size")
#: offset of the seed of the pretraining frames
PRETRAIN_SEED_OFFSET = 10_000


def is_image_space(space: spaces.Space) -> bool:
    """A ``Box`` with more than one axis (the convention of :mod:`curiosity.images`)."""
    return isinstance(space, spaces.Box) and len(space.shape) > 1


def policy_for(observation_space: spaces.Space) -> str:
    """``"CnnPolicy"`` for image observations, ``"MlpPolicy"`` otherwise."""
    return "CnnPolicy" if is_image_space(observation_space) else "MlpPolicy"


def resolve_bonus_kwargs(
    env_id: str, bonus_kwargs: dict[str, Any] | None, seed: int = 0, env_kwargs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``bonus_kwargs`` with a named ``encoder`` replaced by a pretrained module (unchanged otherwise).

    Args:
        env_id: the task; its observations must be images when an encoder is named.
        bonus_kwargs: the bonus's keyword arguments, possibly with the keys of :data:`ENCODER_KEYS`.
        seed: the run's seed (the encoder's weights and its pretraining data derive from it).
        env_kwargs: keyword arguments of ``gym.make`` for the pretraining frames (as for training).

    Returns:
        New keyword arguments for the bonus: ``encoder`` is a ``torch.nn.Module``, the other
        :data:`ENCODER_KEYS` are removed.

    Raises:
        ValueError: an unknown encoder name, encoder settings without an encoder name, or a task without
            image observations.
    """
    kwargs = dict(bonus_kwargs or {})
    name = kwargs.get("encoder")
    if not isinstance(name, str):
        stray = [k for k in ENCODER_KEYS[1:] if k in kwargs]
        if stray:
            raise ValueError(f"bonus_kwargs {stray} need bonus_kwargs['encoder'] to name an encoder")
        return kwargs
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r} in bonus_kwargs; choose one of {', '.join(ENCODERS)}")
    settings = {k: kwargs.pop(k) for k in ENCODER_KEYS if k in kwargs}
    kwargs["encoder"] = build_encoder(
        env_id,
        name,
        seed=seed,
        encoder_kwargs=settings.get("encoder_kwargs"),
        frames=int(settings.get("pretrain_frames", 2000)),
        steps=int(settings.get("pretrain_steps", 500)),
        batch_size=int(settings.get("pretrain_batch_size", 64)),
        env_kwargs=env_kwargs,
    )
    return kwargs


def build_encoder(
    env_id: str,
    name: str,
    seed: int = 0,
    encoder_kwargs: dict[str, Any] | None = None,
    frames: int = 2000,
    steps: int = 500,
    batch_size: int = 64,
    env_kwargs: dict[str, Any] | None = None,
) -> StateEncoder:
    """An encoder for ``env_id``'s frames, pretrained on ``frames`` random-policy observations.

    ``env_kwargs`` go to ``gym.make``, so that the frames match the training env's (e.g. ``frame_stack``).

    Raises:
        ValueError: the task's observations are not images.
    """
    env = gym.make(env_id, **(env_kwargs or {}))
    try:
        if not is_image_space(env.observation_space):
            raise ValueError(
                f"an encoder needs image observations, but {env_id} has {env.observation_space}: use a pixel "
                "task (e.g. PixelSparseMountainCar-v0)"
            )
        shape = env.observation_space.shape
        # stacked frames: the encoder encodes each frame and concatenates the features
        stack = (env_kwargs or {}).get("frame_stack", 1)
        encoder = make_encoder(name, shape, **{"seed": seed, "frame_stack": stack, **(encoder_kwargs or {})})
        if steps > 0:
            data = collect_frames(env, frames, seed=seed + PRETRAIN_SEED_OFFSET)
            pretrain_encoder(encoder, np.asarray(data), steps=steps, batch_size=batch_size, seed=seed)
    finally:
        env.close()
    return encoder.eval()
