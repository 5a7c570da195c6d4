"""The inverse-dynamics model E3B and NGU share: built the same under one seed, trained by one loop."""

from __future__ import annotations

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from curiosity.inverse_dynamics import build_inverse_dynamics, train_inverse_dynamics
from curiosity.pool import RingPool

OBS, ACTIONS = spaces.Box(-1, 1, (5,), np.float32), spaces.Discrete(3)


def build(seed: int = 0):
    return build_inverse_dynamics(
        OBS, ACTIONS, 8, (16,), 16, None, seed=seed, device=torch.device("cpu"), learning_rate=1e-2,
        activation=nn.ReLU, arch="auto",
    )  # fmt: skip


def test_build_is_seeded_and_train_lowers_the_loss_on_a_fixed_pool() -> None:
    (a, width, _), (b, _, _) = build(), build()
    assert width == 8
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    model, _, optimizer = build()
    pool = RingPool.for_transitions(64, (5,), 3)
    obs = torch.randn(64, 5, generator=torch.Generator().manual_seed(1))
    actions = nn.functional.one_hot(torch.arange(64) % 3, 3).float()
    next_obs = obs + torch.nn.functional.pad(actions, (0, 2))  # the action moves one coordinate: learnable
    pool.add(obs=obs, actions=actions, next_obs=next_obs)
    generator = torch.Generator().manual_seed(0)
    first = train_inverse_dynamics(model, optimizer, pool, generator, 1, 64)
    last = [train_inverse_dynamics(model, optimizer, pool, generator, 5, 64) for _ in range(10)][-1]
    # from about chance (cross-entropy ln 3 of a uniform guess) to a small fraction of it
    assert abs(first - np.log(3)) < 0.5 and last < 0.2 * np.log(3)
