"""Feature builders: chunked no-grad passes, chunk sizes, ``encoder_arch``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces
from torch import nn

from curiosity.networks import (
    ACTIVATION_BYTES,
    MAX_CHUNK_ROWS,
    check_encoder_arch,
    image_encoder,
    in_chunks,
    rows_per_chunk,
)

FRAMES = spaces.Box(0, 255, (3, 64, 64), np.uint8)


def test_in_chunks_gives_one_pass_outputs_and_chunks_only_without_gradients() -> None:
    torch.manual_seed(0)
    net = image_encoder(FRAMES, 8, arch="universe")
    x = torch.randint(0, 256, (10, 3, 64, 64), dtype=torch.uint8)
    sizes = []

    def fn(chunk: torch.Tensor) -> torch.Tensor:
        sizes.append(len(chunk))
        return net(chunk)

    with torch.no_grad():
        whole = net(x)
        chunked = in_chunks(fn, 4, x)
    assert sizes == [4, 4, 2]
    torch.testing.assert_close(chunked, whole, rtol=1e-5, atol=1e-6)
    sizes.clear()
    in_chunks(fn, 4, x).sum().backward()  # with gradients: one pass, whose graph reaches the weights
    assert sizes == [10] and net[-1].weight.grad is not None


def test_rows_per_chunk_counts_the_largest_activation_of_any_layer() -> None:
    # ICM's convolutions on 64x64 frames: the first makes 32 x 32 x 32 floats a row (128 KiB)
    universe = image_encoder(FRAMES, 8, arch="universe")
    assert rows_per_chunk(universe, FRAMES.shape) == ACTIVATION_BYTES // (4 * 32 * 32 * 32) == 64
    # the Nature DQN's largest array is the frame itself (3 x 64 x 64), its first layer makes 32 x 15 x 15
    assert rows_per_chunk(image_encoder(FRAMES, 8, arch="nature"), FRAMES.shape) == ACTIVATION_BYTES // (
        4 * 3 * 64 * 64
    )
    wide = nn.Sequential(nn.Linear(4, 2**21), nn.ReLU(), nn.Linear(2**21, 1))  # 8 MiB a row: one row
    assert rows_per_chunk(wide, (4,)) == 1
    assert rows_per_chunk(nn.Linear(4, 256), (4,)) == MAX_CHUNK_ROWS  # small rows: a training minibatch


def test_encoder_arch_names_are_checked() -> None:
    assert [check_encoder_arch(a) for a in ("paper", "nature", "universe")] == ["paper", "nature", "universe"]
    with pytest.raises(ValueError, match="encoder_arch must be 'paper', 'nature' or 'universe', got 'mnih'"):
        check_encoder_arch("mnih")
