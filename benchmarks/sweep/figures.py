"""The report's figures, from the finished runs' ``curve.csv`` and ``visitation.npz``.

Plots are drawn on matplotlib ``Figure`` objects with the Agg canvas (pyplot's global state is untouched).

Plots: ``found_{task}.png`` -- the fraction of seeds that have found the reward against steps, per method;
``curves_{task}.png`` -- extrinsic episode return against timesteps, each seed's curve smoothed by a
trailing mean over ``smooth`` episodes and interpolated on a common grid, mean over seeds with a 95%
confidence band (Student t); ``visitation_{task}.png`` -- state-visitation heatmaps (MountainCar position x
velocity) of the first 100k steps (where the runs kept them apart, else of the whole runs) summed over
seeds, one panel per method (no bonus and VIME first) on a shared colour scale, with the fraction of cells
visited, where runs wrote ``visitation.npz``.
"""

from __future__ import annotations

import csv
import logging
import math
import re
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from benchmarks.sweep.results import atomic_write
from benchmarks.sweep.stats import found_fraction

logger = logging.getLogger(__name__)


def warn_unreadable(path: Path, error: Exception) -> None:
    """Log that a run's file is left out of the report, and why."""
    logger.warning("%s is unreadable (%s: %s); left out", path, type(error).__name__, error)


def read_curve(path: Path, column: str = "episode_return") -> tuple[np.ndarray, np.ndarray]:
    """``(timesteps, column)`` arrays of a ``curve.csv``, in order of timesteps (empty arrays if it has no
    rows); ``column`` is one of its per-episode columns (``episode_return``, ``success``, ...)."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    timesteps = np.array([float(row["timesteps"]) for row in rows])
    values = np.array([float(row[column]) for row in rows])
    order = np.argsort(timesteps, kind="stable")
    return timesteps[order], values[order]


def trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` values at each index (fewer at the start)."""
    sums = np.cumsum(np.concatenate([[0.0], values]))
    index = np.arange(1, len(values) + 1)
    start = np.maximum(index - window, 0)
    return (sums[index] - sums[start]) / (index - start)


def mean_curve(curves: list[tuple[np.ndarray, np.ndarray]], grid_points: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Interpolate curves on a common grid (from the latest first point to the earliest last point, so no
    seed is extrapolated); return ``(grid, mean, low, high)``, the band being the 95% t-interval of the mean
    clipped to the seeds' own range at each point (with 3 seeds the interval alone reaches below a return
    of 0 that no seed can score; a single curve has an empty band)."""
    start = max(t[0] for t, _ in curves)
    stop = min(t[-1] for t, _ in curves)
    grid = np.linspace(start, max(stop, start), grid_points)
    values = np.stack([np.interp(grid, t, r) for t, r in curves])
    mean = values.mean(axis=0)
    n = len(curves)
    half = _t_critical(n - 1) * values.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.zeros_like(mean)
    band_low = np.maximum(mean - half, values.min(axis=0))
    return grid, mean, band_low, np.minimum(mean + half, values.max(axis=0))


def _t_critical(dof: int) -> float:
    try:
        from scipy import stats

        return float(stats.t.ppf(0.975, dof))
    except ImportError:
        return 1.959964


def plot_curves(out: Path, task: str, methods: dict[str, list[dict[str, Any]]], smooth: int,
                grid_points: int) -> list[str]:
    """``curves_{task}.png``; returns the file names written (none if no run has a curve)."""
    series = {}
    for method, records in methods.items():
        curves = []
        for record in records:
            path = out / "runs" / record["run_id"] / "curve.csv"
            if not path.exists():
                continue
            try:
                timesteps, returns = read_curve(path)
            except (OSError, ValueError, KeyError, TypeError, csv.Error) as error:
                warn_unreadable(path, error)
                continue
            if timesteps.size:
                curves.append((timesteps, trailing_mean(returns, smooth)))
        if curves:
            series[method] = (len(curves), *mean_curve(curves, grid_points))
    if not series:
        return []
    fig = _figure(figsize=(6.4, 4.2))
    ax = fig.subplots()
    for method, (n, grid, mean, band_low, band_high) in series.items():
        (line,) = ax.plot(grid, mean, label=f"{method} (n={n})")
        ax.fill_between(grid, band_low, band_high, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set(xlabel="timesteps", ylabel="episode return (extrinsic)",
           title=f"{task}: mean, 95% CI within the seeds' range")
    ax.legend()
    ax.grid(alpha=0.3)
    name = f"curves_{_safe(task)}.png"
    _save(fig, out / name)
    return [name]


def plot_found_fraction(out: Path, task: str, methods: dict[str, list[dict[str, Any]]],
                        grid_points: int) -> list[str]:
    """``found_{task}.png``: the fraction of each method's seeds that have found the reward against steps, on
    a log axis (first rewards spread over orders of magnitude); the grid holds every first reward exactly."""
    budget = max(int(r["job"]["total_timesteps"]) for records in methods.values() for r in records)
    firsts = [r["metrics"]["steps_to_first_success"] for records in methods.values() for r in records
              if r["metrics"].get("success") and r["metrics"].get("steps_to_first_success")]
    grid = np.unique(np.concatenate([np.geomspace(max(1.0, budget / 1e4), budget, grid_points), firsts]))
    fig = _figure(figsize=(6.4, 4.0))
    ax = fig.subplots()
    for method, records in methods.items():
        ax.step(grid, found_fraction(records, grid), where="post", label=f"{method} (n={len(records)})")
    ax.set(xlabel="timesteps", ylabel="fraction of seeds that found the reward", ylim=(-0.02, 1.02),
           xscale="log", title=f"{task}: first reward")
    ax.legend()
    ax.grid(alpha=0.3)
    name = f"found_{_safe(task)}.png"
    _save(fig, out / name)
    return [name]


class Visitation(NamedTuple):
    """A method's state-visitation histogram summed over its seeds."""

    hist: np.ndarray  # (position bins, velocity bins) visit counts
    edges: tuple[np.ndarray, np.ndarray]  # the bins' edges along position and velocity
    n_seeds: int
    span: str  # "first 100,000 steps" (the runs kept their early visits apart) or "whole runs"


def visited_fraction(hist: np.ndarray) -> float:
    """The fraction of the histogram's cells visited at least once."""
    return float(np.mean(hist > 0))


def summed_visitation(out: Path, methods: dict[str, list[dict[str, Any]]]) -> dict[str, Visitation]:
    """Each method's runs' ``visitation.npz`` summed over seeds (of their first ``early_budget`` steps where
    the runs kept them apart, else of the whole runs); methods without one are left out. An unreadable file,
    or a seed on another grid, is named in a warning and left out."""
    summed = {}
    for method, records in methods.items():
        total, edges, n, spans = None, None, 0, set()
        for record in records:
            path = out / "runs" / record["run_id"] / "visitation.npz"
            if not path.exists():
                continue
            try:
                with np.load(path, allow_pickle=False) as data:
                    early = "hist_early" in data.files  # the first early_budget steps, where coverage differs
                    hist = np.asarray(data["hist_early" if early else "hist"], dtype=float)
                    run_edges = (np.asarray(data["xedges"]), np.asarray(data["yedges"]))
                    span = f"first {int(data['early_budget']):,} steps" if early else "whole runs"
            except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as error:
                warn_unreadable(path, error)
                continue
            if total is None:
                total, edges = np.zeros_like(hist), run_edges
            same_grid = hist.shape == total.shape and all(
                a.shape == b.shape and np.allclose(a, b) for a, b in zip(edges, run_edges, strict=True))
            if not same_grid:
                logger.warning("%s: visitation grid differs from the other seeds'; left out",
                               record["run_id"])
                continue
            total, n = total + hist, n + 1
            spans.add(span)
        if total is not None and n:
            summed[method] = Visitation(total, edges, n, " / ".join(sorted(spans)))
    return summed


def plot_visitation(out: Path, task: str, visitation: dict[str, Visitation]) -> list[str]:
    """``visitation_{task}.png``, one panel per method of :func:`summed_visitation`; returns the file names
    written (none without visitation)."""
    if not visitation:
        return []
    # At most three panels a row, so six methods stay legible rather than one very wide strip.
    cols = min(3, len(visitation))
    rows = -(-len(visitation) // cols)
    fig = _figure(figsize=(4.2 * cols, 3.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for unused in axes[len(visitation):]:
        unused.set_axis_off()
    vmax = max(float(np.log1p(v.hist).max()) for v in visitation.values()) or 1.0
    for ax, (method, v) in zip(axes[: len(visitation)], visitation.items(), strict=True):
        xedges, yedges = v.edges
        image = ax.imshow(np.log1p(v.hist.T), origin="lower", aspect="auto", cmap="viridis", vmin=0.0,
                          vmax=vmax, extent=(xedges[0], xedges[-1], yedges[0], yedges[-1]))
        ax.set(xlabel="position", ylabel="velocity",
               title=f"{method} ({v.n_seeds} seed{'s' * (v.n_seeds > 1)}, "
                     f"{visited_fraction(v.hist):.0%} of cells visited)")
        fig.colorbar(image, ax=ax, label="log(1 + visits)")
    spans = sorted({v.span for v in visitation.values()})
    fig.suptitle(f"{task}: state visitation over the {' / '.join(spans)}, summed over seeds")
    name = f"visitation_{_safe(task)}.png"
    _save(fig, out / name)
    return [name]


def _figure(figsize: tuple[float, float]):
    """A figure drawn by the Agg canvas (no pyplot, so no global backend state is touched)."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize)


def _save(fig, path: Path) -> None:
    import io

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    atomic_write(path, buffer.getvalue())


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)
