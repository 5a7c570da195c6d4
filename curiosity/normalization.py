"""Running statistics and the normalisers built on them.

Computing is separate from updating: ``normalize`` is pure, ``update`` moves the statistics.
(``curiosity`` does not depend on Stable-Baselines3, so this mirrors SB3's ``RunningMeanStd``.)
"""

from __future__ import annotations

from typing import Any

import torch

#: float64 elements converted at a time by :meth:`RunningMeanStd.update` (8 MiB)
_CHUNK_ELEMENTS = 2**20


class RunningMeanStd:
    """Mean and variance of a stream of batches (parallel algorithm of Chan et al.), in float64.

    Args:
        shape: shape of one sample.
        epsilon: initial pseudo-count, keeps the first normalisation finite.
        device: where the statistics live (default: the CPU); batches are moved there.
    """

    def __init__(
        self, shape: tuple[int, ...] = (), epsilon: float = 1e-4, device: torch.device | str | None = None
    ) -> None:
        self.mean = torch.zeros(shape, dtype=torch.float64, device=device)
        self.var = torch.ones(shape, dtype=torch.float64, device=device)
        self.count = torch.tensor(float(epsilon), dtype=torch.float64, device=device)

    def update(self, batch: torch.Tensor) -> None:
        """Fold a batch ``(n, *shape)`` into the statistics."""
        batch = torch.as_tensor(batch)
        rows = max(1, _CHUNK_ELEMENTS // max(1, batch[0].numel() if len(batch) else 1))
        for chunk in batch.split(rows):  # float64 copies of a chunk at a time (frames stay small)
            self._update(chunk.to(self.mean.device, torch.float64))

    def _update(self, batch: torch.Tensor) -> None:
        if batch.shape[0] == 0:
            return
        # two passes: torch.var along the batch axis is several times slower on the CPU
        b_mean, n = batch.mean(0), batch.shape[0]
        b_var = (batch - b_mean).square_().mean(0)
        delta = b_mean - self.mean
        total = self.count + n
        self.mean = self.mean + delta * n / total
        m2 = self.var * self.count + b_var * n + delta.pow(2) * self.count * n / total
        self.var = m2 / total
        self.count = total

    @property
    def std(self) -> torch.Tensor:
        return self.var.sqrt()

    def normalize(self, x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
        """``(x - mean) / std`` in ``x``'s dtype; does not touch the statistics."""
        mean, std = self.mean.to(x.device, x.dtype), self.std.to(x.device, x.dtype)
        return (x - mean).div_(std + eps)  # in place: one allocation

    def state_dict(self) -> dict[str, Any]:
        return {"mean": self.mean.clone(), "var": self.var.clone(), "count": self.count.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if tuple(state["mean"].shape) != tuple(self.mean.shape):
            raise ValueError(f"statistics of shape {tuple(state['mean'].shape)} != {tuple(self.mean.shape)}")
        device = self.mean.device  # a state saved on another device is moved here
        self.mean, self.var, self.count = (state[k].to(device, copy=True) for k in ("mean", "var", "count"))
