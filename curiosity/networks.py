"""Feature builders shared by the prediction-error and count bonuses (RND, ICM, Disagreement, SimHash).

:func:`mlp` for flat vectors, :func:`image_encoder` for frames (a small default CNN; the image layouts are
those of :mod:`curiosity.images`), the ``encoder_arch`` families, and :func:`in_chunks` to run them over
large batches of frames without gradients.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from curiosity.images import ImagePreprocessor, default_scale


def mlp(
    in_dim: int, hidden_sizes: Sequence[int], out_dim: int, activation: type[nn.Module] = nn.ReLU
) -> nn.Sequential:
    """Fully connected network ``in_dim -> hidden_sizes... -> out_dim`` with a linear output.

    Args:
        in_dim: input width; inputs are ``(batch, in_dim)``.
        hidden_sizes: widths of the hidden layers (may be empty: a linear map).
        out_dim: output width; outputs are ``(batch, out_dim)``.
        activation: activation class placed after every hidden layer.
    """
    layers: list[nn.Module] = []
    width = in_dim
    for h in hidden_sizes:
        layers += [nn.Linear(width, h), activation()]
        width = h
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


def nature_cnn(in_channels: int, activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """Convolutions of the Nature DQN (Mnih et al., 2015): 8x8/4 32, 4x4/2 64, 3x3/1 64, flattened.

    Needs frames of at least 36 pixels on a side.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, 8, stride=4),
        activation(),
        nn.Conv2d(32, 64, 4, stride=2),
        activation(),
        nn.Conv2d(64, 64, 3, stride=1),
        activation(),
        nn.Flatten(),
    )


def universe_cnn(in_channels: int, activation: type[nn.Module] = nn.ELU, n_layers: int = 4) -> nn.Sequential:
    """The ICM feature head (Pathak et al., 2017): ``n_layers`` x (3x3 conv, stride 2, pad 1, 32), flattened.

    Works for any frame size (42x42 frames give 3x3x32 = 288 features).
    """
    layers: list[nn.Module] = []
    for i in range(n_layers):
        layers += [nn.Conv2d(in_channels if i == 0 else 32, 32, 3, stride=2, padding=1), activation()]
    return nn.Sequential(*layers, nn.Flatten())


#: ``encoder_arch`` of the bonuses besides ``"paper"`` (each bonus's own networks): ReLU throughout and
#: the Nature DQN convolutions for frames (rllte's default ``"mnih"`` encoder), or ELU throughout and ICM's
#: four stride-2 convolutions
ENCODER_ARCHS: dict[str, tuple[str, type[nn.Module]]] = {
    "nature": ("nature", nn.ReLU),
    "universe": ("universe", nn.ELU),
}


def check_encoder_arch(value: Any) -> str:
    """``value`` if it names a family of feature networks (``"paper"``, ``"nature"``, ``"universe"``)."""
    if not isinstance(value, str) or value not in ("paper", *ENCODER_ARCHS):
        raise ValueError(f"encoder_arch must be 'paper', 'nature' or 'universe', got {value!r}")
    return value


def encoder_keywords(encoder_arch: str, paper: tuple[str, type[nn.Module]]) -> dict[str, Any]:
    """The ``arch`` (of :func:`image_encoder`) and ``activation`` (of it and of :func:`mlp`) that
    ``encoder_arch`` names; ``paper`` for ``"paper"``."""
    arch, activation = paper if encoder_arch == "paper" else ENCODER_ARCHS[encoder_arch]
    return {"arch": arch, "activation": activation}


#: the largest activation one chunk of rows may make when a network runs without gradients (bytes), and
#: the most rows in a chunk (the bonuses' training minibatches: blocks the allocator is already reusing)
ACTIVATION_BYTES, MAX_CHUNK_ROWS = 8 * 2**20, 256


def rows_per_chunk(module: nn.Module, input_shape: Sequence[int]) -> int:
    """Rows of one-row shape ``input_shape`` whose largest activation in ``module`` (float32, any layer)
    stays within :data:`ACTIVATION_BYTES`, at most :data:`MAX_CHUNK_ROWS`."""
    sizes = [int(np.prod(input_shape))]
    hooks = [m.register_forward_hook(lambda m, i, o: sizes.append(o.numel())) for m in module.modules()]
    try:
        with torch.no_grad():
            module(torch.zeros(1, *input_shape, device=module_device(module)))
    finally:
        for hook in hooks:
            hook.remove()
    return max(1, min(MAX_CHUNK_ROWS, ACTIVATION_BYTES // (4 * max(sizes))))


def in_chunks(fn: Callable[..., torch.Tensor], rows: int, *tensors: torch.Tensor) -> torch.Tensor:
    """``fn(*tensors)``, computed ``rows`` rows of each at a time when no gradient is recorded (on the CPU).

    A frame encoder's first activations are large (2,048 64x64 frames through 32 stride-2 filters: 268 MB),
    and blocks that size come as fresh pages of memory at every allocation (glibc serves blocks over at most
    32 MiB by ``mmap``, and smaller ones too once its thresholds are fixed), which on a CPU costs more than
    the arithmetic; chunks reuse the same memory. Rows are independent, so the result is that of one pass.
    CUDA's caching allocator has no such cost.
    """
    x = tensors[0]
    if torch.is_grad_enabled() or len(x) <= rows or x.is_cuda:
        return fn(*tensors)
    return torch.cat([fn(*parts) for parts in zip(*(t.split(rows) for t in tensors), strict=True)])


def image_encoder(
    observation_space: spaces.Box,
    features_dim: int,
    *,
    arch: str = "auto",
    activation: type[nn.Module] = nn.ReLU,
    channels_last: bool | None = None,
    scale: float | None = None,
) -> nn.Sequential:
    """The default CNN: preprocessing, convolutions, then a linear layer to ``features_dim``.

    Args:
        observation_space: image space, see :mod:`curiosity.images` for the accepted layouts.
        features_dim: output width; outputs are ``(batch, features_dim)``.
        arch: ``"nature"`` (:func:`nature_cnn`), ``"universe"`` (:func:`universe_cnn`), or ``"auto"``:
            Nature DQN for frames of at least 36 pixels on a side, otherwise the universe head.
        activation: activation class after every convolution.
        channels_last: channel axis, ``None`` to infer it.
        scale: input multiplier; ``None`` picks ``1/255`` for ``uint8`` spaces and 1 otherwise.

    Raises:
        ValueError: an unknown ``arch``, or frames too small for the Nature DQN convolutions.
    """
    pre = ImagePreprocessor(
        observation_space.shape, channels_last, default_scale(observation_space) if scale is None else scale
    )
    c, h, w = pre.out_shape
    if arch == "auto":
        arch = "nature" if min(h, w) >= 36 else "universe"
    if arch == "nature":
        if min(h, w) < 36:
            raise ValueError(f"arch='nature' needs frames of at least 36x36, got {h}x{w}: use 'universe'")
        convs = nature_cnn(c, activation)
    elif arch == "universe":
        convs = universe_cnn(c, activation)
    else:
        raise ValueError(f"arch must be 'auto', 'nature' or 'universe', got {arch!r}")
    with torch.no_grad():
        n_flat = convs(torch.zeros(1, c, h, w)).shape[1]
    return nn.Sequential(pre, convs, nn.Linear(n_flat, features_dim))


def module_device(module: nn.Module) -> torch.device:
    """The device of a module's first parameter or buffer (the CPU for a module that has none)."""
    for tensor in (*module.parameters(), *module.buffers()):
        return tensor.device
    return torch.device("cpu")


def flat_output_dim(module: nn.Module, input_shape: Sequence[int]) -> int:
    """Width of ``module(x).flatten(1)`` for inputs of one-sample shape ``input_shape``."""
    with torch.no_grad():
        return int(module(torch.zeros(1, *input_shape, device=module_device(module))).flatten(1).shape[1])


def orthogonal_init(module: nn.Module, gain: float = math.sqrt(2)) -> nn.Module:
    """Orthogonal weights (``gain``) and zero biases for every linear and conv layer, as in RND's code."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.orthogonal_(m.weight, gain)
            nn.init.zeros_(m.bias)
    return module
