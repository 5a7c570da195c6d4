"""Scoring an ensemble of classifiers from their saved test-set class probabilities: each member's error, the
error of their mean probabilities (the ensemble of Salimans et al. 2016, table 1), the error as members join,
confusion matrices, and a figure of the test images the ensemble gets wrong beside the labelled ones.

Kept apart from the training command (``benchmarks.generative.semisup_mnist``, which saves each member's
probabilities and calls these), so that the scoring can be read and tested without the training.
"""

from __future__ import annotations

from pathlib import Path

import torch


def ensemble_errors(probs: list[torch.Tensor], labels: torch.Tensor) -> tuple[list[float], float]:
    """Each member's test error and the error of their averaged class probabilities (the paper's ensemble).

    Args:
        probs: one ``(n, K)`` tensor of class probabilities per member.
        labels: ``(n,)`` true classes.

    Returns:
        ``(member errors, ensemble error)``, fractions; the ensemble predicts the argmax of the members' mean
        probabilities.

    Raises:
        ValueError: no members, or probabilities that are not ``(n, K)`` for the ``n`` labels.
    """
    shapes = sorted({tuple(p.shape) for p in probs})
    if len(shapes) != 1 or len(shapes[0]) != 2 or shapes[0][0] != len(labels):
        raise ValueError(f"probs must be one or more (n, K) tensors with n = {len(labels)} (the labels), got "
                         f"shapes {shapes}")  # fmt: skip
    errors = [(p.argmax(1) != labels).double().mean().item() for p in probs]
    return errors, (mean_probs(probs).argmax(1) != labels).double().mean().item()


def errors_as_members_join(probs: list[torch.Tensor], labels: torch.Tensor) -> list[float]:
    """The test error of the ensemble of the first k members, for k = 1 .. len(probs): how many members it
    takes (a curve over one member order, not an average over orders)."""
    return [ensemble_errors(probs[:k], labels)[1] for k in range(1, len(probs) + 1)]


def mean_probs(probs: list[torch.Tensor]) -> torch.Tensor:
    """The ensemble's class probabilities: the members' mean, in float64."""
    return torch.stack([p.double() for p in probs]).mean(0)


def confusion(probs: torch.Tensor, labels: torch.Tensor) -> list[list[int]]:
    """Test images counted by true class (row) and predicted class (column: the argmax of ``probs``), to tell
    a whole cluster given the wrong class from errors spread over the classes."""
    k = probs.shape[1]
    return torch.bincount(labels * k + probs.argmax(1), minlength=k * k).view(k, k).tolist()


def plot_labelled_and_missed(path: Path, labelled_images: torch.Tensor, labelled_classes: torch.Tensor,
                              test_images: torch.Tensor, probs: torch.Tensor, labels: torch.Tensor,
                              shown: int = 12) -> str:  # fmt: skip
    """One row per class: its labelled training images, then the first ``shown`` test images of that class
    the ensemble gets wrong (in test-set order, each marked with the class it was given), to see whether the
    errors are a kind of digit the labels leave out. ``test_images[i]`` is the image of ``probs[i]`` and
    ``labels[i]``; images are flat 784-pixel rows in [0, 1]. Returns the file name."""
    from matplotlib.figure import Figure

    predicted = probs.argmax(1)
    k = probs.shape[1]
    per_class = len(labelled_classes) // k
    side = 28
    first_missed = per_class + 1 if per_class else 0  # a blank column between labelled and missed images
    canvas = torch.full((k * (side + 2), (first_missed + shown) * (side + 2)), 0.5)
    fig = Figure(figsize=(0.45 * (first_missed + shown) + 1.6, 0.45 * k + 0.8))
    ax = fig.add_subplot()

    def put(row: int, col: int, image: torch.Tensor) -> None:
        top, left = row * (side + 2) + 1, col * (side + 2) + 1
        canvas[top:top + side, left:left + side] = image.view(side, side)  # fmt: skip

    for c in range(k):
        for j, image in enumerate(labelled_images[labelled_classes == c]):
            put(c, j, image)
        wrong = ((labels == c) & (predicted != c)).nonzero().flatten()
        for j, i in enumerate(wrong[:shown].tolist()):
            put(c, first_missed + j, test_images[i])
            ax.text((first_missed + j) * (side + 2) + side, (c + 1) * (side + 2) - 2, str(int(predicted[i])),
                    color="red", fontsize=6, ha="right", va="bottom")  # fmt: skip
        n = int((labels == c).sum())
        ax.text(-4, c * (side + 2) + side / 2, f"{c}: {len(wrong)}/{n}", fontsize=7, ha="right", va="center")
    ax.imshow(canvas, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    title = "test images the ensemble gets wrong (red: its class)"
    ax.set_title(f"labelled ({per_class} per class) | {title}" if per_class else title, fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path.name
