"""The transition pool: a batch wraps around its end like a FIFO."""

from __future__ import annotations

import torch

from curiosity.pool import RingPool


def test_ring_pool_add_wraps_a_batch_around_its_end_like_a_fifo() -> None:
    pool = RingPool(5, {"x": ((2,), torch.float32), "f": ((1, 2), torch.uint8)})
    fifo: list[float] = []
    for start, n in ((0, 3), (3, 4), (7, 2), (9, 7)):  # the second and fourth batches cross the end
        values = torch.arange(start, start + n, dtype=torch.float32)
        pool.add(x=values[:, None].expand(n, 2), f=values.reshape(n, 1, 1).expand(n, 1, 2))
        fifo = (fifo + values.tolist())[-5:]
        newest_first = [(pool.position - 1 - i) % 5 for i in range(len(pool))]
        assert pool.data["x"][newest_first, 0].tolist() == fifo[::-1]
        assert pool.data["f"][newest_first, 0, 1].tolist() == fifo[::-1]
    assert pool.data["f"].dtype == torch.uint8 and len(pool) == 5
