"""The report's curve helpers against hand-computed values."""

import numpy as np
import pytest

from benchmarks.sweep.figures import mean_curve, trailing_mean


def test_curve_helpers_against_hand_computed_values():
    assert trailing_mean(np.array([1.0, 2.0, 3.0, 4.0]), 2) == pytest.approx([1.0, 1.5, 2.5, 3.5])
    assert trailing_mean(np.array([1.0, 2.0, 3.0]), 10) == pytest.approx([1.0, 1.5, 2.0])
    # two seeds 2 apart: mean in the middle; the 95% half-width t(0.975, 1) * s / sqrt(2) = 12.7 (s = sqrt(2))
    # is wider than the seeds, so the band is clipped to them
    two_seeds = [(np.array([0.0, 10.0]), np.array([0.0, 10.0])),
                 (np.array([0.0, 5.0, 12.0]), np.array([2.0, 7.0, 14.0]))]
    grid, mean, low, high = mean_curve(two_seeds, grid_points=3)
    assert grid == pytest.approx([0.0, 5.0, 10.0])  # up to the shortest curve's end: no extrapolation
    assert mean == pytest.approx([1.0, 6.0, 11.0])
    assert low == pytest.approx([0.0, 5.0, 10.0]) and high == pytest.approx([2.0, 7.0, 12.0])
    # 20 seeds, 10 at 0 and 10 at 2: the interval 1 +- t(0.975, 19) * 1.026 / sqrt(20) lies inside the range
    curves = [(np.array([0.0, 1.0]), np.full(2, 2.0 * (i % 2))) for i in range(20)]
    _, mean, low, high = mean_curve(curves, grid_points=2)
    half = 2.0930241 * np.sqrt(20 / 19) / np.sqrt(20)
    assert low == pytest.approx([1 - half] * 2) and high == pytest.approx([1 + half] * 2)
    grid, mean, low, high = mean_curve([(np.array([0.0, 4.0]), np.array([1.0, 3.0]))], grid_points=3)
    assert mean == pytest.approx([1.0, 2.0, 3.0])
    assert low == pytest.approx(mean) and high == pytest.approx(mean)
