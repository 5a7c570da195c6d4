"""Summarise a sweep's finished runs: ``report.md``, ``summary.json`` and PNG plots in its output directory.

Only finished runs are read (a valid ``result.json``; see :mod:`benchmarks.sweep.runner`), so a partial file
of an interrupted run never enters a number or a plot. Per task and method:

* ``success_rate``: fraction of seeds whose ``metrics["success"]`` is true;
* ``final_return_mean`` / ``final_return_sem``: mean and standard error (sample std with ``ddof=1`` over
  ``sqrt(n)``; ``null`` for one seed) of ``metrics["final_return"]`` over seeds;
* ``steps_to_first_success_median``: median over the seeds that succeeded (``null`` if none did; read it
  with ``success_rate``);
* ``n_seeds``: finished runs (also ``n_success`` and the ``seeds`` themselves);
* ``n_found``, ``n_holding``, ``steps_to_first_success_censored_median`` (a seed that never found the reward
  counts as its budget) and, against the ``none`` baseline of the same task, ``p_found``, ``p_holding``
  (two-sided Fisher exact) and ``p_final_return`` (two-sided Mann-Whitney U): see
  :mod:`benchmarks.sweep.stats`.

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
import json
import logging
import math
import re
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.sweep.jobs import last_line
from benchmarks.sweep.results import atomic_write, failed_runs, finished_runs
from benchmarks.sweep.stats import (
    ALPHA,
    HOLDING_RATE,
    against_baseline,
    exploration_summary,
    found_fraction,
)
from benchmarks.sweep.suites import SUITES

logger = logging.getLogger(__name__)

#: metric names of each (task, method) entry of summary.json
SUMMARY_KEYS = ("success_rate", "final_return_mean", "final_return_sem", "steps_to_first_success_median",
                "n_seeds")
#: methods shown first (in this order) in tables and plots; the registered suites' order follows
PREFERRED_ORDER = ("none", "vime", "vime-latent")
#: the method every other one is tested against
BASELINE = "none"


def report(out_dir: str | Path, smooth: int = 10, grid_points: int = 100,
           plots: bool = True) -> dict[str, Any]:
    """Write ``report.md``, ``summary.json`` and the plots of the finished runs in ``out_dir``.

    Args:
        out_dir: a sweep's output directory (holding ``runs/``).
        smooth: episodes in the trailing mean applied to each seed's learning curve (1: none).
        grid_points: points of the common timestep grid of the learning curves.
        plots: write the PNG plots.

    Returns:
        The summary: task id -> method name -> metrics (the content of ``summary.json``).

    Raises:
        FileNotFoundError: ``out_dir`` holds no ``runs/`` directory.
    """
    out = Path(out_dir)
    if not (out / "runs").is_dir():
        raise FileNotFoundError(f"{out} holds no runs/ directory; give the --out directory of a sweep")
    if smooth < 1 or grid_points < 2:
        raise ValueError(f"smooth must be >= 1 and grid_points >= 2, got smooth={smooth}, "
                         f"grid_points={grid_points}")
    groups = group_runs(readable_runs(out), registered_method_order())
    summary = {task: {method: summarize(records, methods.get(BASELINE) if method != BASELINE else None)
                      for method, records in methods.items()}
               for task, methods in groups.items()}
    atomic_write(out / "summary.json", json.dumps(summary, indent=2).encode())
    figures: dict[str, list[str]] = defaultdict(list)
    if plots:
        for task, methods in groups.items():
            figures[task] += plot_found_fraction(out, task, methods, grid_points)
            figures[task] += plot_curves(out, task, methods, smooth, grid_points)
            figures[task] += plot_visitation(out, task, methods)
    atomic_write(out / "report.md", markdown(out, summary, figures, failed_runs(out)).encode())
    return summary


def readable_runs(out: Path) -> dict[str, dict[str, Any]]:
    """The finished runs whose ``result.json`` has the job and metrics the report reads; any other is named
    in a warning and left out (one corrupt file must not stop the report)."""
    records = {}
    for run_id, record in finished_runs(out).items():
        job, metrics = record.get("job"), record.get("metrics")
        if isinstance(job, dict) and {"env_id", "method", "seed"} <= job.keys() and isinstance(metrics, dict):
            records[run_id] = {**record, "run_id": run_id}  # where its files are
        else:
            logger.warning("%s: result.json lacks its job or metrics; left out", out / "runs" / run_id)
    return records


def _unreadable(path: Path, error: Exception) -> None:
    logger.warning("%s is unreadable (%s: %s); left out", path, type(error).__name__, error)


def group_runs(records: dict[str, dict[str, Any]], method_order: list[str] | None = None
               ) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """task id -> method name -> run records (sorted by seed); tasks sorted, methods in
    :data:`PREFERRED_ORDER` (the baseline, then VIME), then ``method_order``, then alphabetically.
    """
    groups: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for record in records.values():
        groups[record["job"]["env_id"]][record["job"]["method"]].append(record)
    order = list(PREFERRED_ORDER) + [m for m in method_order or [] if m not in PREFERRED_ORDER]

    def rank(method: str) -> tuple[int, str]:
        return (order.index(method) if method in order else len(order), method)

    return {task: {method: sorted(methods[method], key=lambda r: r["job"]["seed"])
                   for method in sorted(methods, key=rank)}
            for task, methods in sorted(groups.items())}


def summarize(records: list[dict[str, Any]], baseline: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The summary metrics of one (task, method) over its runs, with p-values against ``baseline``'s runs
    when given (see the module docstring)."""
    metrics = [r["metrics"] for r in records]
    successes = [bool(m.get("success")) for m in metrics]
    returns = np.array([_number(m.get("final_return")) for m in metrics], dtype=float)
    returns = returns[np.isfinite(returns)]
    steps = [_number(m.get("steps_to_first_success")) for m, ok in zip(metrics, successes, strict=True) if ok]
    steps = [s for s in steps if math.isfinite(s)]
    n = len(records)
    sem = float(returns.std(ddof=1) / math.sqrt(returns.size)) if returns.size >= 2 else None
    return {
        "success_rate": sum(successes) / n if n else None,
        "final_return_mean": float(returns.mean()) if returns.size else None,
        "final_return_sem": sem,
        "steps_to_first_success_median": float(np.median(steps)) if steps else None,
        "n_seeds": n,
        "n_success": sum(successes),
        "seeds": [r["job"]["seed"] for r in records],
        **exploration_summary(records),
        **(against_baseline(records, baseline) if baseline else {}),
    }


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def registered_method_order() -> list[str]:
    """Method names in the order the registered suites declare them (fixed, whichever sweep ran last)."""
    return list(dict.fromkeys(m.name for suite in SUITES.values() for m in suite.methods))


# --- markdown -------------------------------------------------------------------------------------------


def markdown(out: Path, summary: dict[str, Any], figures: dict[str, list[str]],
             failures: dict[str, str]) -> str:
    """The text of ``report.md``."""
    n_runs = sum(entry["n_seeds"] for methods in summary.values() for entry in methods.values())
    lines = [f"# Benchmark report: `{out}`", "",
             f"{n_runs} finished run(s), {len(failures)} failed. Final return: mean extrinsic return of the "
             "last 10% of episodes, mean ± standard error over seeds; median steps to first success over the "
             "seeds that succeeded.", ""]
    history, command = out / "commands.log", out / "command.txt"
    if history.exists():  # every sweep that wrote here (a suite is often run task by task)
        lines += ["Commands (every sweep into this directory, oldest first):", "", "```"]
        for line in history.read_text(errors="replace").splitlines():
            if line.count("\t") >= 2:  # a line cut short by a crash is left out
                when, _cwd, cmd = line.split("\t", 2)
                lines += [f"# {when}", cmd]
        lines += ["```", ""]
    elif command.exists():
        lines += ["Command:", "", "```", command.read_text().strip(), "```", ""]
    lines += [f"Seeds finding the reward: any rewarded episode; holding it: a success rate of at least "
              f"{HOLDING_RATE:g} over the last 10% of episodes. Median steps to the first reward: over all "
              "seeds, one that never found it counting as its budget (in brackets: over the seeds that "
              f"found it). p: against `{BASELINE}`, two-sided (Fisher exact for seed counts, Mann-Whitney U "
              f"for final returns); * marks p < {ALPHA:g}.", ""]
    for task, methods in summary.items():
        lines += [f"## {task}", "",
                  "| method | seeds finding it | seeds holding it | final return | median steps to first "
                  "reward | p (finding, holding, return) |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for method, entry in methods.items():
            n = entry["n_seeds"]
            final = f"{_fmt(entry['final_return_mean'])} ± {_fmt(entry['final_return_sem'])}"
            steps = (f"{_fmt(entry['steps_to_first_success_censored_median'], '.0f')} "
                     f"({_fmt(entry['steps_to_first_success_median'], '.0f')})")
            tests = ", ".join(_p(entry.get(k)) for k in ("p_found", "p_holding", "p_final_return"))
            seeds = f"{entry['n_found']}/{n} | {entry['n_holding']}/{n}"
            tests = tests if "p_found" in entry else "–"
            lines.append(f"| {method} | {seeds} | {final} | {steps} | {tests} |")
        lines.append("")
        lines += [f"![{name}]({name})" for name in figures.get(task, [])]
        lines.append("")
    notes = out / "notes.md"  # hand-written: targets missed and what was tried (never generated)
    if notes.exists():
        lines += ["## Notes", "", notes.read_text().strip(), ""]
    if failures:
        lines += ["## Failed runs", ""]
        lines += [f"- `{run_id}`: {last_line(text)} (`runs/{run_id}/error.txt`)"
                  for run_id, text in failures.items()]
        lines.append("")
    return "\n".join(lines)


def _p(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}{'*' if value < ALPHA else ''}"


def _fmt(value: float | None, spec: str = ".4g") -> str:
    return "–" if value is None else format(value, spec)


# --- plots ----------------------------------------------------------------------------------------------


def read_curve(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(timesteps, episode_return)`` arrays of a ``curve.csv`` (empty arrays if it has no rows)."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    timesteps = np.array([float(row["timesteps"]) for row in rows])
    returns = np.array([float(row["episode_return"]) for row in rows])
    order = np.argsort(timesteps, kind="stable")
    return timesteps[order], returns[order]


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
                _unreadable(path, error)
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
    """``found_{task}.png``: the fraction of each method's seeds that have found the reward against steps."""
    budget = max(int(r["job"]["total_timesteps"]) for records in methods.values() for r in records)
    grid = np.linspace(0, budget, grid_points)
    fig = _figure(figsize=(6.4, 4.0))
    ax = fig.subplots()
    for method, records in methods.items():
        ax.step(grid, found_fraction(records, grid), where="post", label=f"{method} (n={len(records)})")
    ax.set(xlabel="timesteps", ylabel="fraction of seeds that found the reward", ylim=(-0.02, 1.02),
           title=f"{task}: first reward")
    ax.legend()
    ax.grid(alpha=0.3)
    name = f"found_{_safe(task)}.png"
    _save(fig, out / name)
    return [name]


def plot_visitation(out: Path, task: str, methods: dict[str, list[dict[str, Any]]]) -> list[str]:
    """``visitation_{task}.png`` from the runs' ``visitation.npz`` summed over seeds; returns the file
    names written (none if no run has one)."""
    panels, spans = {}, set()
    for method, records in methods.items():
        total, edges, n = None, None, 0
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
                _unreadable(path, error)
                continue
            spans.add(span)
            if total is None:
                total, edges = np.zeros_like(hist), run_edges
            same_grid = hist.shape == total.shape and all(
                a.shape == b.shape and np.allclose(a, b) for a, b in zip(edges, run_edges, strict=True))
            if not same_grid:
                logger.warning("%s: visitation grid differs from the other seeds'; left out",
                               record["run_id"])
                continue
            total, n = total + hist, n + 1
        if total is not None and n:
            panels[method] = (total, edges, n)
    if not panels:
        return []
    # At most three panels a row, so six methods stay legible rather than one very wide strip.
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig = _figure(figsize=(4.2 * cols, 3.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for unused in axes[len(panels):]:
        unused.set_axis_off()
    vmax = max(float(np.log1p(hist).max()) for hist, _, _ in panels.values()) or 1.0
    for ax, (method, (hist, (xedges, yedges), n)) in zip(axes[: len(panels)], panels.items(), strict=True):
        image = ax.imshow(np.log1p(hist.T), origin="lower", aspect="auto", cmap="viridis", vmin=0.0,
                          vmax=vmax, extent=(xedges[0], xedges[-1], yedges[0], yedges[-1]))
        coverage = float(np.mean(hist > 0))
        ax.set(xlabel="position", ylabel="velocity",
               title=f"{method} ({n} seed{'s' * (n > 1)}, {coverage:.0%} of cells visited)")
        fig.colorbar(image, ax=ax, label="log(1 + visits)")
    fig.suptitle(f"{task}: state visitation over the {' / '.join(sorted(spans))}, summed over seeds")
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
