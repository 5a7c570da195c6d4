"""Building blocks shared by the prediction-error and count bonuses (RND, ICM, Disagreement, SimHash).

* feature builders: :func:`mlp` for flat vectors, :func:`image_encoder` for frames (a small default CNN),
  and :func:`in_chunks` to run them over large batches of frames without gradients;
* :class:`RingPool`: a bounded FIFO of per-transition fields that keeps frames in their own dtype
  (``uint8`` frames stay one byte per pixel); VIME's transition pool is one too;
* argument checks and RNG helpers, so that every bonus validates and seeds the same way.

Image convention (used by every bonus here):

* an observation space with more than one axis is an image: ``(H, W)`` (one channel), ``(H, W, C)``
  (channel-last) or ``(C, H, W)`` (channel-first);
* for 3-D shapes the channel axis is the smaller of the first and last axes (``(64, 64, 3)`` is
  channel-last, ``(4, 84, 84)`` channel-first); when they are equal pass ``channels_last`` explicitly;
* ``uint8`` frames are scaled by ``1/255`` to ``[0, 1]``; float frames are passed through unscaled
  (they are assumed to be in ``[0, 1]`` already).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

# -- argument checks ---------------------------------------------------------------------------------


def check_int(name: str, value: Any, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` or raise a ``ValueError`` naming ``name`` and what is accepted."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_float(
    name: str,
    value: Any,
    low: float = 0.0,
    high: float = math.inf,
    *,
    low_inclusive: bool = False,
    high_inclusive: bool = True,
) -> float:
    """Return ``value`` as a finite-or-inf ``float`` in the given interval, else raise ``ValueError``."""
    left, right = ("[" if low_inclusive else "("), ("]" if high_inclusive and high != math.inf else ")")
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = not math.isnan(v) and (v >= low if low_inclusive else v > low)
        ok = ok and (v <= high if high_inclusive else v < high)
    if not ok:
        raise ValueError(f"{name} must be a number in {left}{low}, {high}{right}, got {value!r}")
    return float(value)


def check_sizes(name: str, value: Any) -> tuple[int, ...]:
    """Hidden layer widths: a (possibly empty) sequence of positive integers."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ValueError(f"{name} must be a sequence of positive integers, got {value!r}")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a sequence of positive integers, got {value!r}")
    return tuple(int(v) for v in value)


def check_encoder(encoder: Any) -> nn.Module | None:
    if encoder is not None and not isinstance(encoder, nn.Module):
        raise TypeError(f"encoder must be a torch.nn.Module or None, got {type(encoder).__name__}")
    return encoder


def check_state_keys(owner: str, state: dict[str, Any], keys: Sequence[str]) -> None:
    """Raise a ``ValueError`` listing the keys a state dict lacks."""
    if not isinstance(state, dict):
        raise TypeError(f"{owner} state must be a dict, got {type(state).__name__}")
    missing = [k for k in keys if k not in state]
    if missing:
        raise ValueError(f"{owner} state lacks {missing}; was it saved by a different bonus?")


# -- randomness ----------------------------------------------------------------------------------------


def resolve_seed(seed: int | None) -> int:
    """``seed`` itself, or a seed drawn from torch's global generator when ``None``."""
    if seed is None:
        return int(torch.randint(0, 2**31 - 1, ()).item())
    return check_int("seed", seed, minimum=0)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Context in which torch's global CPU generator is seeded with ``seed`` and restored afterwards.

    Used to initialise networks reproducibly without disturbing the caller's random stream.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


# -- feature builders ----------------------------------------------------------------------------------


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
        observation_space: image space, see the module docstring for the accepted layouts.
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


# -- storage ---------------------------------------------------------------------------------------


def row_digests(rows: np.ndarray) -> list[bytes]:
    """A 128-bit BLAKE2b digest of each row of ``rows`` (its bytes along the first axis).

    Equal rows (same dtype, same values) get equal digests; distinct rows collide with probability about
    ``2**-128``, so the digests can stand in for the rows as dictionary keys (frames of 24 kB become
    16-byte keys).
    """
    if np.ndim(rows) < 1:  # before ascontiguousarray, which turns a scalar into one row
        raise ValueError(f"rows must be an array with a leading batch axis, got a {np.ndim(rows)}-d array")
    rows = np.ascontiguousarray(rows)
    return [hashlib.blake2b(row.data, digest_size=16).digest() for row in rows]


def unique_rows(rows: np.ndarray) -> tuple[list[bytes], np.ndarray, np.ndarray]:
    """The distinct rows of ``rows``: ``(keys, first, inverse)``.

    ``keys`` are the digests (:func:`row_digests`) of the distinct rows in order of first occurrence,
    ``first[j]`` the index of the first row with ``keys[j]``, and ``inverse[i]`` the position in ``keys`` of
    row ``i`` (so ``rows[first][inverse]`` equals ``rows``).
    """
    digests = row_digests(rows)
    index: dict[bytes, int] = {}
    inverse = np.fromiter((index.setdefault(k, len(index)) for k in digests), np.int64, len(digests))
    first = np.zeros(len(index), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(digests))[::-1]  # the first occurrence of each distinct row
    return list(index), first, inverse


def module_fingerprint(module: nn.Module) -> bytes:
    """A digest of a module's parameters, buffers and training flag: it changes whenever its output may."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(bytes([module.training]))
    for tensor in (*module.parameters(), *module.buffers()):
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.digest()


def storage_dtype(space: spaces.Box) -> torch.dtype:
    """``torch.uint8`` for ``uint8`` spaces (frames stay one byte per pixel), ``torch.float32`` otherwise."""
    return torch.uint8 if np.dtype(space.dtype) == np.uint8 else torch.float32


class RingPool:
    """A bounded FIFO of transitions stored as named fields (oldest rows overwritten first).

    Memory is ``capacity x (sum of field sizes)`` elements, allocated once.

    Args:
        capacity: maximum number of rows kept.
        fields: ``{name: (shape of one row, dtype)}``.
        device: where the rows are stored (default: the CPU); added rows and indices are moved there.

    Raises:
        ValueError: a non-positive capacity.
    """

    def __init__(
        self,
        capacity: int,
        fields: dict[str, tuple[Sequence[int], torch.dtype]],
        device: torch.device | str | None = None,
    ) -> None:
        self.capacity = check_int("buffer_size", capacity)
        self.device = torch.device("cpu") if device is None else torch.device(device)
        self.data = {
            name: torch.zeros(self.capacity, *shape, dtype=dtype, device=self.device)
            for name, (shape, dtype) in fields.items()
        }
        self.position = 0
        self.size = 0

    @classmethod
    def for_transitions(
        cls,
        capacity: int,
        obs_shape: Sequence[int],
        action_dim: int,
        obs_dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> RingPool:
        """A pool of whole transitions: fields ``obs``, ``actions`` (encoded, float) and ``next_obs``.

        Each row is one ``(s, a, s')`` added as such, so no pair ever spans two episodes (the original
        VIME pool stored states in sequence and could pair the last state of an episode with the next
        episode's first).
        """
        obs_shape = tuple(obs_shape)
        return cls(capacity, {"obs": (obs_shape, obs_dtype), "actions": ((action_dim,), torch.float32),
                              "next_obs": (obs_shape, obs_dtype)}, device)

    def __len__(self) -> int:
        return self.size

    def add(self, **batch: torch.Tensor) -> None:
        """Append rows ``{name: (n, *shape)}`` (every field, same ``n``), cast to each field's dtype."""
        if set(batch) != set(self.data):
            raise ValueError(f"RingPool.add needs fields {sorted(self.data)}, got {sorted(batch)}")
        n = next(iter(batch.values())).shape[0]
        if n > self.capacity:  # only the newest `capacity` rows can survive
            batch = {k: v[n - self.capacity :] for k, v in batch.items()}
            n = self.capacity
        first = min(n, self.capacity - self.position)  # rows before the end wraps to the start
        for name, rows in batch.items():  # slices (cast and moved on copy): no index tensor to scatter
            self.data[name][self.position : self.position + first] = rows[:first]
            self.data[name][: n - first] = rows[first:]
        self.position = int((self.position + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)

    def sample_indices(self, shape: Sequence[int], generator: torch.Generator) -> torch.Tensor:
        """Uniform row indices of the given shape, drawn with replacement (on ``generator``'s device)."""
        if self.size == 0:
            raise RuntimeError("cannot sample from an empty pool: call add() first")
        return torch.randint(0, self.size, tuple(shape), generator=generator)

    def get(self, name: str, idx: torch.Tensor) -> torch.Tensor:
        """Rows ``idx`` of field ``name``, on the pool's device."""
        return self.data[name][idx.to(self.device)]

    def state_dict(self) -> dict[str, Any]:
        return {
            "data": {k: v[: self.size].clone() for k, v in self.data.items()},
            "position": self.position,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        check_state_keys("pool", state, ("data", "position"))
        sizes = {v.shape[0] for v in state["data"].values()}
        if set(state["data"]) != set(self.data) or len(sizes) != 1:
            raise ValueError(f"pool state has fields {sorted(state['data'])}, expected {sorted(self.data)}")
        size = sizes.pop()
        for name, rows in state["data"].items():
            if size > self.capacity or rows.shape[1:] != self.data[name].shape[1:]:
                raise ValueError(f"pool field {name!r} of shape {tuple(rows.shape)} does not fit this pool")
            self.data[name].zero_()
            self.data[name][:size] = rows
        self.size, self.position = size, int(state["position"])
