"""The transition pool: :class:`RingPool`, a bounded FIFO of per-transition fields that keeps frames in
their own dtype (``uint8`` frames stay one byte per pixel); VIME's transition pool is one too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from curiosity.validation import check_int, check_state_keys


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
