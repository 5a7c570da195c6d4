"""Scoring an ensemble from its members' test probabilities, against counts worked out by hand."""

import pytest
import torch

from benchmarks.generative import ensemble_scoring


def test_ensemble_scores_the_mean_of_the_members_probabilities():
    """Three members, four test images: worked out by hand. Image 0 is wrong in two members of three (a
    majority vote would miss it) but right on the mean; image 2 is wrong on the mean."""
    labels = torch.tensor([0, 1, 2, 0])
    probs = [
        torch.tensor([[0.4, 0.6, 0.0], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.9, 0.05, 0.05]]),
        torch.tensor([[0.4, 0.6, 0.0], [0.5, 0.2, 0.3], [0.0, 0.6, 0.4], [0.7, 0.2, 0.1]]),
        torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.8, 0.1, 0.1]]),
    ]
    members, ensemble = ensemble_scoring.ensemble_errors(probs, labels)
    assert members == [0.25, 0.75, 0.5] and ensemble == 0.25
    # the first two members' mean: images 0 (0.6 on class 1) and 2 (0.45 on class 1) are wrong
    assert ensemble_scoring.errors_as_members_join(probs, labels) == [0.25, 0.5, 0.25]
    with pytest.raises(ValueError, match=r"probs must be one or more \(n, K\) tensors with n = 4"):
        ensemble_scoring.ensemble_errors([probs[0], probs[1][:3]], labels)
    with pytest.raises(ValueError, match="got shapes \\[\\]"):
        ensemble_scoring.ensemble_errors([], labels)


def test_confusion_counts_true_against_predicted_classes():
    """Against a count over the images one by one."""
    gen = torch.Generator().manual_seed(0)
    probs, labels = torch.rand(200, 4, generator=gen), torch.randint(0, 4, (200,), generator=gen)
    expected = [[0] * 4 for _ in range(4)]
    for p, y in zip(probs.tolist(), labels.tolist(), strict=True):
        expected[y][max(range(4), key=p.__getitem__)] += 1
    assert ensemble_scoring.confusion(probs, labels) == expected


def _png_width(path) -> int:
    """The width in pixels, from the PNG's IHDR chunk (bytes 16-20, big-endian)."""
    return int.from_bytes(path.read_bytes()[16:20], "big")


def test_the_errors_figure_puts_a_blank_column_only_after_labelled_images(tmp_path):
    """Per-member draws show no labelled images: the missed test images then start at the left edge. One
    labelled image per class adds two columns (the image and the blank one), 0.45 in each at 120 dpi."""
    k = 10
    probs = torch.full((k, k), 0.0).index_fill_(1, torch.tensor([0]), 1.0)  # every image called a 0
    labels, images = torch.arange(k), torch.rand(k, 784)
    widths = []
    for per_class in (0, 1):
        path = tmp_path / f"{per_class}.png"
        ensemble_scoring.plot_labelled_and_missed(path, images[: k * per_class], labels[: k * per_class],
                                                  images, probs, labels, shown=3)  # fmt: skip
        widths.append(_png_width(path))
    assert widths[1] - widths[0] == pytest.approx(2 * 0.45 * 120, abs=1)
