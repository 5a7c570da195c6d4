"""Latent-traversal figures: what each continuous code controls, for each categorical value.

Uses matplotlib's object API with the Agg canvas (no pyplot, no global backend switch).
"""

from __future__ import annotations

from pathlib import Path

import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from generative.infogan.model import InfoGAN


def tile(images: torch.Tensor, rows: int, cols: int, pad: int = 2) -> torch.Tensor:
    """Row-major ``(rows * cols, 1, H, W)`` images -> one ``(rows * (H + pad), cols * (W + pad))`` grid."""
    _, _, h, w = images.shape
    grid = torch.ones(rows, cols, h + pad, w + pad)
    grid[:, :, :h, :w] = images.reshape(rows, cols, h, w)
    return grid.permute(0, 2, 1, 3).reshape(rows * (h + pad), cols * (w + pad))


@torch.no_grad()
def traversal_grid(model: InfoGAN, code: int, values: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Images of a traversal: rows the first categorical code's values, columns ``values`` of ``code``.

    Args:
        model: a trained model (the generator runs in evaluation mode; its flag is restored).
        code: index of the continuous code swept.
        values: ``(n_cols,)`` values of that code.
        noise: ``(spec.noise,)`` noise shared by every cell.

    Returns:
        ``(rows * n_cols, 1, 28, 28)`` images in [0, 1], row-major.
    """
    was_training = model.generator.training
    model.generator.eval()
    try:
        return model.generate(model.spec.traversal(code, values, noise)).cpu()
    finally:
        model.generator.train(was_training)


def save_traversals(
    model: InfoGAN,
    directory: str | Path,
    n_cols: int = 9,
    low: float = -2.0,
    high: float = 2.0,
    seed: int = 0,
) -> list[Path]:
    """Write one PNG per continuous code, ``traversal_c{j}.png``.

    Rows: the value of the first categorical code; columns: continuous code ``j`` swept linearly from
    ``low`` to ``high`` (the prior covers [-1, 1], so the outer columns extrapolate); the other codes at 0
    and one noise vector (drawn with ``seed``) shared by all cells.

    Returns:
        The written paths (empty when the spec has no continuous code).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    spec = model.spec
    noise = torch.rand(spec.noise, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    values = torch.linspace(low, high, n_cols)
    rows = spec.categorical[0] if spec.categorical else 1
    paths = []
    for j in range(spec.continuous):
        grid = tile(traversal_grid(model, j, values, noise), rows, n_cols)
        fig = Figure(figsize=(0.6 * n_cols + 1.0, 0.6 * rows + 0.8), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.imshow(grid.numpy(), cmap="gray", vmin=0, vmax=1)
        step = grid.shape[1] / n_cols
        ax.set_xticks(
            [step * (i + 0.5) for i in range(n_cols)], [f"{v:.1f}" for v in values.tolist()], fontsize=7
        )
        ax.set_yticks([grid.shape[0] / rows * (i + 0.5) for i in range(rows)], [str(i) for i in range(rows)])
        ax.set_xlabel(f"continuous code c{j}")
        ax.set_ylabel("categorical code value")
        fig.tight_layout()
        path = directory / f"traversal_c{j}.png"
        fig.savefig(path)
        paths.append(path)
    return paths
