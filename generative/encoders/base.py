"""The base class of state encoders and the frame adapter they share.

Every encoder is a :class:`StateEncoder`: a ``torch.nn.Module`` with ``feature_dim`` whose ``forward``
maps a batch of frames ``(B, *frame_shape)`` to ``(B, feature_dim)``. The generative models of this
package were built for MNIST (28x28, one channel); RL frames are e.g. 64x64x3 ``uint8``. The adapter
between them is shared by every encoder (:meth:`StateEncoder.frames_to_images`):

1. any dtype, divided by ``input_range`` (255: ``uint8`` frames, or float copies of them as the bonuses
   of :mod:`curiosity` pass them; use 1 for float frames already in ``[0, 1]``);
2. the layout of :func:`curiosity.images.image_layout` (``(H, W)``, ``(H, W, C)`` or ``(C, H, W)``);
3. ``frame_stack`` frames stacked along the channel axis are split and encoded *one by one*, and their
   features concatenated (``feature_dim = frame_stack * per-frame dimension``), so an encoder trained on
   single frames also encodes stacks;
4. each frame converted to grey (BT.601 luma) or kept RGB, as the model needs, and resized (bilinear,
   anti-aliased) to the model's square ``image_size``.

The encoders themselves are listed in :mod:`generative.encoders`.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from curiosity.digests import unique_rows
from curiosity.images import image_layout
from curiosity.networks import module_device
from curiosity.seeding import seeded
from curiosity.validation import check_int

#: BT.601 luma weights, for grey frames
LUMA = (0.299, 0.587, 0.114)


class StateEncoder(nn.Module):
    """Base class: frames ``(B, *frame_shape)`` to features ``(B, feature_dim)``.

    Subclasses set ``per_frame_dim`` and implement :meth:`encode_images` (and :meth:`train_step` when
    trainable); see the module docstring for the frame adapter.

    Args:
        frame_shape: one observation's shape, ``(H, W)``, ``(H, W, C)`` or ``(C, H, W)``.
        image_size: side of the square images the model takes.
        grayscale: the model takes one grey channel (``True``) or RGB (``False``).
        frame_stack: frames stacked along the channel axis of one observation.
        channels_last: channel axis of ``frame_shape``; ``None`` infers it.
        input_range: inputs are divided by this (255 for ``uint8`` pixel values).

    Raises:
        ValueError: a bad shape, or channels that do not split into ``frame_stack`` grey or RGB frames.
    """

    per_frame_dim: int

    def __init__(
        self,
        frame_shape: Sequence[int],
        image_size: int,
        grayscale: bool,
        frame_stack: int = 1,
        channels_last: bool | None = None,
        input_range: float = 255.0,
    ) -> None:
        super().__init__()
        self.frame_shape = tuple(int(s) for s in frame_shape)
        layout = image_layout(self.frame_shape, channels_last)
        self.channels_last, (channels, self.height, self.width) = layout
        self.frame_stack = check_int("frame_stack", frame_stack)
        self.image_size = check_int("image_size", image_size, minimum=4)
        if channels % self.frame_stack or channels // self.frame_stack not in (1, 3):
            raise ValueError(
                f"frame_shape {self.frame_shape} has {channels} channels: they must split into "
                f"frame_stack={self.frame_stack} grey (1) or RGB (3) frames"
            )
        if not input_range > 0:
            raise ValueError(f"input_range must be > 0, got {input_range!r}")
        self.frame_channels = channels // self.frame_stack
        self.grayscale, self.input_range = bool(grayscale), float(input_range)
        self.image_channels = 1 if self.grayscale else 3
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.generator = torch.Generator().manual_seed(0)  # subclasses reseed it

    @property
    def feature_dim(self) -> int:
        """Width of the output: ``frame_stack * per_frame_dim``."""
        return self.frame_stack * self.per_frame_dim

    # -- the adapter ------------------------------------------------------------------------------------
    def frames_to_images(self, frames: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Raw frames ``(B, *frame_shape)`` to model images ``(B * frame_stack, c, S, S)`` in ``[0, 1]``.

        The frames are moved to the encoder's device.

        Raises:
            ValueError: frames of another shape.
        """
        x = torch.as_tensor(np.asarray(frames)) if not isinstance(frames, torch.Tensor) else frames
        if tuple(x.shape[1:]) != self.frame_shape or x.dim() != len(self.frame_shape) + 1:
            raise ValueError(
                f"frames must have shape (batch, {', '.join(map(str, self.frame_shape))}), "
                f"got {tuple(x.shape)}"
            )
        x = x.to(module_device(self)).float() / self.input_range
        if x.dim() == 3:
            x = x.unsqueeze(1)
        elif self.channels_last:
            x = x.permute(0, 3, 1, 2)
        b = x.shape[0]
        x = x.reshape(b * self.frame_stack, self.frame_channels, self.height, self.width)
        return self.adapt_images(x)

    def adapt_images(self, x: torch.Tensor) -> torch.Tensor:
        """Single frames ``(N, 1 or 3, H, W)`` in ``[0, 1]`` to the model's ``(N, c, S, S)``."""
        if self.grayscale and x.shape[1] == 3:
            x = (x * x.new_tensor(LUMA).view(1, 3, 1, 1)).sum(1, keepdim=True)
        elif not self.grayscale and x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if x.shape[-2:] != (self.image_size, self.image_size):
            size = (self.image_size, self.image_size)
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
        return x.clamp(0.0, 1.0)

    def forward(self, frames: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Features ``(B, feature_dim)`` of raw frames ``(B, *frame_shape)`` (stacked frames concatenated).

        In evaluation mode without gradients each distinct frame is encoded once: consecutive stacked
        observations share all but one frame, so a rollout of ``frame_stack``-frame observations costs one
        encoding per step instead of ``frame_stack``.
        """
        images = self.frames_to_images(frames)
        if self.training or torch.is_grad_enabled() or self.frame_stack == 1:
            features = self.encode_images(images)
        else:
            _, first, inverse = unique_rows(images.reshape(len(images), -1).cpu().numpy())
            features = self.encode_images(images[torch.as_tensor(first)])[torch.as_tensor(inverse)]
        return features.reshape(-1, self.feature_dim)

    def encode_images(self, images: torch.Tensor) -> torch.Tensor:
        """Per-frame features ``(N, per_frame_dim)`` of model images ``(N, c, S, S)``."""
        raise NotImplementedError

    # -- training ---------------------------------------------------------------------------------------
    def train_step(self, frames: torch.Tensor | np.ndarray) -> dict[str, float]:
        """One optimiser step on a minibatch of raw frames ``(B, *frame_shape)``; returns scalar metrics.

        Raises:
            NotImplementedError: a frozen encoder.
        """
        raise NotImplementedError(f"{type(self).__name__} is not trainable")

    @contextlib.contextmanager
    def own_randomness(self) -> Iterator[None]:
        """Run the wrapped models' global-RNG noise (dropout-like layers, posterior samples) from a seed drawn
        from this encoder's generator, so that training is reproducible from the encoder's state alone."""
        seed = int(torch.randint(0, 2**62, (), generator=self.generator))
        with seeded(seed, cuda=True):
            yield

    def _step(self, name: str, loss: torch.Tensor) -> None:
        optimizer = self.optimizers[name]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def get_extra_state(self) -> dict[str, Any]:
        """The optimisers' states (and the noise generator's), saved with the weights by ``state_dict()``."""
        state: dict[str, Any] = {name: opt.state_dict() for name, opt in self.optimizers.items()}
        if isinstance(getattr(self, "generator", None), torch.Generator):
            state["rng"] = self.generator.get_state()
        return state

    def set_extra_state(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            if name == "rng" and isinstance(getattr(self, "generator", None), torch.Generator):
                self.generator.set_state(value.clone())
            elif name in self.optimizers:  # a copy: Adam would otherwise update the caller's tensors in place
                self.optimizers[name].load_state_dict(copy.deepcopy(value))
