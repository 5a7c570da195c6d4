"""Image observations: which spaces are images, their layout, and the preprocessing every bonus applies.

Image convention (used by every bonus here):

* an observation space with more than one axis is an image: ``(H, W)`` (one channel), ``(H, W, C)``
  (channel-last) or ``(C, H, W)`` (channel-first);
* for 3-D shapes the channel axis is the smaller of the first and last axes (``(64, 64, 3)`` is
  channel-last, ``(4, 84, 84)`` channel-first); when they are equal pass ``channels_last`` explicitly;
* ``uint8`` frames are scaled by ``1/255`` to ``[0, 1]``; float frames are passed through unscaled
  (they are assumed to be in ``[0, 1]`` already).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from gymnasium import spaces
from torch import nn


def is_image_space(space: spaces.Box) -> bool:
    return len(space.shape) > 1


def image_layout(
    shape: Sequence[int], channels_last: bool | None = None
) -> tuple[bool, tuple[int, int, int]]:
    """Channel axis and ``(C, H, W)`` of an image observation shape (see the module docstring).

    Raises:
        ValueError: not a 2-D or 3-D shape, or a 3-D shape whose channel axis cannot be told.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) == 2:
        return False, (1, *shape)
    if len(shape) != 3:
        raise ValueError(f"image observations must have shape (H, W), (H, W, C) or (C, H, W), got {shape}")
    if channels_last is None:
        if shape[0] == shape[-1]:
            raise ValueError(
                f"cannot tell the channel axis of image shape {shape}: pass channels_last=True or False"
            )
        channels_last = shape[-1] < shape[0]
    if channels_last:
        return True, (shape[2], shape[0], shape[1])
    return False, shape  # type: ignore[return-value]


class ImagePreprocessor(nn.Module):
    """Frames ``(batch, *observation_shape)`` to float ``(batch, C, H, W)``, multiplied by ``scale``.

    Args:
        shape: one observation's shape, ``(H, W)``, ``(H, W, C)`` or ``(C, H, W)``.
        channels_last: channel axis; ``None`` infers it (the smaller of the first and last axes).
        scale: multiplier applied after the transpose (``1/255`` for ``uint8`` frames).
    """

    def __init__(self, shape: Sequence[int], channels_last: bool | None = None, scale: float = 1.0) -> None:
        super().__init__()
        self.shape = tuple(int(s) for s in shape)
        self.channels_last, self.out_shape = image_layout(self.shape, channels_last)
        self.scale = float(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fresh = x.dtype != torch.float32  # the conversion is a new tensor: scale it in place
        x = x.float()
        if len(self.shape) == 2:
            x = x.unsqueeze(1)
        elif self.channels_last:
            x = x.permute(0, 3, 1, 2)
        if self.scale == 1.0:
            return x
        return x.mul_(self.scale) if fresh else x * self.scale


def default_scale(space: spaces.Box) -> float:
    """``1/255`` for ``uint8`` frames, ``1`` otherwise."""
    return 1.0 / 255.0 if np.dtype(space.dtype) == np.uint8 else 1.0


def storage_dtype(space: spaces.Box) -> torch.dtype:
    """``torch.uint8`` for ``uint8`` spaces (frames stay one byte per pixel), ``torch.float32`` otherwise."""
    return torch.uint8 if np.dtype(space.dtype) == np.uint8 else torch.float32
