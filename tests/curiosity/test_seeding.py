"""``seeded``: a reproducible CPU stream inside, the caller's streams untouched outside."""

import pytest
import torch

from curiosity.seeding import seeded

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def test_seeded_draws_a_fresh_generators_stream_and_restores_the_callers() -> None:
    torch.manual_seed(123)
    expected_after = torch.rand(3)  # what the caller would draw without the context
    torch.manual_seed(123)
    with seeded(7):
        inside = torch.rand(4)
    torch.testing.assert_close(inside, torch.rand(4, generator=torch.Generator().manual_seed(7)))
    torch.testing.assert_close(torch.rand(3), expected_after)


@needs_cuda
def test_seeded_leaves_the_cuda_generators_as_they_were() -> None:
    torch.cuda.manual_seed_all(5)
    before = torch.cuda.get_rng_state()
    with seeded(7):
        torch.rand(4)  # a CPU draw
    assert torch.equal(torch.cuda.get_rng_state(), before)  # torch.manual_seed would have reseeded it
    with seeded(7, cuda=True):
        drawn = torch.rand(4, device="cuda")
    assert torch.equal(torch.cuda.get_rng_state(), before)  # forked: restored
    torch.cuda.manual_seed(7)
    torch.testing.assert_close(drawn, torch.rand(4, device="cuda"))  # the GPU draw came from the seed
    torch.cuda.set_rng_state(before)
