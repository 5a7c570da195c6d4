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
  (two-sided Fisher exact), ``p_final_return`` and ``p_steps`` (two-sided Mann-Whitney U): see
  :mod:`benchmarks.sweep.stats`;
* ``vs_vime``: the same four p-values of every other bonus against ``vime`` on the same task (the
  comparison of bonuses asks whether VIME finds the reward sooner and holds it more often than each);
* ``separation``: ``[start, end)`` steps at which the method has found the reward in at least 80% of its
  seeds and ``none`` in at most 20% (``null``: at no budget), the VIME paper's claim per task;
* ``steps_factor`` (``none``'s censored median steps over the method's) and ``final_return_diff_se`` (the
  difference of mean final returns in standard errors of the difference): the paper's other two claims.
* ``visited_cell_fraction``: where the runs wrote ``visitation.npz``, the fraction of the (position,
  velocity) cells their summed visits reach, over ``visitation_span`` (the first 100k steps, where the runs
  kept them apart, else the whole runs): the number in the visitation figure's titles.

``report.md`` also gives, per task with ``vime`` and other bonuses, the comparison of bonuses' claims: the
bonuses finding the reward sooner than VIME, holding it in more seeds, and losing it in more seeds than they
hold it (:func:`benchmarks.sweep.stats.comparison_targets`).

The plots are drawn by :mod:`benchmarks.sweep.figures`.
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.sweep.figures import (
    plot_curves,
    plot_found_fraction,
    plot_visitation,
    summed_visitation,
    visited_fraction,
)
from benchmarks.sweep.jobs import last_line
from benchmarks.sweep.results import atomic_write, failed_runs, finished_runs
from benchmarks.sweep.stats import (
    ALPHA,
    HOLDING_RATE,
    SEPARATION,
    against_baseline,
    comparison_targets,
    exploration_summary,
    paper_targets,
    separation,
)
from benchmarks.sweep.suites import SUITES

logger = logging.getLogger(__name__)

#: methods shown first (in this order) in tables and plots; the registered suites' order follows
PREFERRED_ORDER = ("none", "vime", "vime-latent")
#: the method every other one is tested against
BASELINE = "none"
#: the method every other bonus is also tested against
REFERENCE = "vime"
#: the keys of a result's job the report reads (the budget: a seed that never found the reward counts as it)
READ_JOB_KEYS = {"env_id", "method", "seed", "total_timesteps"}


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
    summary = {task: {method: summarize(records, _against(methods, BASELINE, method),
                                        _against(methods, REFERENCE, method))
                      for method, records in methods.items()}
               for task, methods in groups.items()}
    visitation = {task: summed_visitation(out, methods) for task, methods in groups.items()}
    for task, methods in visitation.items():
        for method, visits in methods.items():
            summary[task][method] |= {"visited_cell_fraction": visited_fraction(visits.hist),
                                      "visitation_span": visits.span}
    atomic_write(out / "summary.json", json.dumps(summary, indent=2).encode())
    figures: dict[str, list[str]] = defaultdict(list)
    if plots:
        for task, methods in groups.items():
            figures[task] += plot_found_fraction(out, task, methods, grid_points)
            figures[task] += plot_curves(out, task, methods, smooth, grid_points)
            figures[task] += plot_visitation(out, task, visitation[task])
    atomic_write(out / "report.md", markdown(out, summary, figures, failed_runs(out)).encode())
    return summary


def _against(methods: dict[str, list], name: str, method: str) -> list | None:
    """The runs ``method`` is tested against: ``name``'s, unless ``method`` is the baseline or ``name``."""
    return methods.get(name) if method not in (BASELINE, name) else None


def readable_runs(out: Path) -> dict[str, dict[str, Any]]:
    """The finished runs whose ``result.json`` has the job and metrics the report reads; any other is named
    in a warning and left out (one corrupt file must not stop the report)."""
    records = {}
    for run_id, record in finished_runs(out).items():
        job, metrics = record.get("job"), record.get("metrics")
        if isinstance(job, dict) and READ_JOB_KEYS <= job.keys() and isinstance(metrics, dict):
            records[run_id] = {**record, "run_id": run_id}  # where its files are
        else:
            logger.warning("%s: result.json lacks its job or metrics; left out", out / "runs" / run_id)
    return records


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


def summarize(records: list[dict[str, Any]], baseline: list[dict[str, Any]] | None = None,
              reference: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The summary metrics of one (task, method) over its runs, with p-values against ``baseline``'s runs
    and (under ``vs_vime``) against ``reference``'s when given (see the module docstring)."""
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
        **({"separation": _as_list(separation(records, baseline))} if baseline else {}),
        **(paper_targets(records, baseline) if baseline else {}),
        **({"vs_vime": against_baseline(records, reference)} if reference else {}),
    }


def _as_list(window: tuple[float, float] | None) -> list[float] | None:
    return None if window is None else list(window)  # as it reads back from summary.json


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
             "last 10% of episodes, mean ± standard error over seeds.", ""]
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
              f"for final returns and steps to the first reward); * marks p < {ALPHA:g}.", ""]
    for task, methods in summary.items():
        lines += [f"## {task}", "",
                  "| method | seeds finding it | seeds holding it | final return | median steps to first "
                  "reward | p (finding, holding, return, steps) |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for method, entry in methods.items():
            n = entry["n_seeds"]
            final = f"{_fmt(entry['final_return_mean'])} ± {_fmt(entry['final_return_sem'])}"
            steps = (f"{_fmt(entry['steps_to_first_success_censored_median'], '.0f')} "
                     f"({_fmt(entry['steps_to_first_success_median'], '.0f')})")
            seeds = f"{entry['n_found']}/{n} | {entry['n_holding']}/{n}"
            tests = _tests(entry) if "p_found" in entry else "–"
            lines.append(f"| {method} | {seeds} | {final} | {steps} | {tests} |")
        lines.append("")
        lines += _separations(methods)
        lines += _paper_targets(methods)
        lines += _against_reference(methods)
        lines += _comparison_targets(methods)
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


def _separations(methods: dict[str, Any]) -> list[str]:
    """One line: per method, the steps at which it has found the reward in most seeds, the baseline in few."""
    found, baseline_found = SEPARATION
    windows = [f"{method} {_window(entry['separation'])}" for method, entry in methods.items()
               if "separation" in entry]
    if not windows:
        return []
    return [f"Steps at which at least {found:.0%} of a method's seeds have found the reward and at most "
            f"{baseline_found:.0%} of `{BASELINE}`'s: " + "; ".join(windows) + ".", ""]


def _paper_targets(methods: dict[str, Any]) -> list[str]:
    """One line: per method, how much sooner than the baseline it finds the reward, and how far its final
    return lies above the baseline's in standard errors of the difference."""
    parts = [f"{method} {_fmt(entry['steps_factor'], '.2f')}x sooner, "
             f"{_fmt(entry['final_return_diff_se'], '+.2f')} SE"
             for method, entry in methods.items() if "steps_factor" in entry]
    if not parts:
        return []
    return [f"Against `{BASELINE}` (its median steps to the first reward over the method's; the difference "
            "of final returns in standard errors of the difference): " + "; ".join(parts) + ".", ""]


def _window(window: list[float] | None) -> str:
    return "never" if window is None else f"{window[0]:,.0f} to {window[1]:,.0f}"


def _against_reference(methods: dict[str, Any]) -> list[str]:
    """The table of every other bonus against ``vime`` on one task (none when there is nothing to compare)."""
    if REFERENCE not in methods or not any("vs_vime" in entry for entry in methods.values()):
        return []
    ref = methods[REFERENCE]
    lines = [f"Against `{REFERENCE}` (same tests; holding and median steps as `method` / `{REFERENCE}`):", "",
             "| method | seeds holding it | median steps to first reward "
             "| p (finding, holding, return, steps) |",
             "| --- | --- | --- | --- |"]
    for method, entry in methods.items():
        if "vs_vime" in entry:
            holding = f"{entry['n_holding']}/{entry['n_seeds']} / {ref['n_holding']}/{ref['n_seeds']}"
            steps = (f"{_fmt(entry['steps_to_first_success_censored_median'], '.0f')} / "
                     f"{_fmt(ref['steps_to_first_success_censored_median'], '.0f')}")
            lines.append(f"| {method} | {holding} | {steps} | {_tests(entry['vs_vime'])} |")
    return [*lines, ""]


def _comparison_targets(methods: dict[str, Any]) -> list[str]:
    """One line: the bonuses that beat ``vime`` at finding or holding the reward, and those that lose it."""
    targets = comparison_targets(methods, REFERENCE, BASELINE)
    if targets is None:
        return []
    ref = methods[REFERENCE]

    def steps(name: str) -> str:
        return f"{name} ({_fmt(methods[name]['steps_to_first_success_censored_median'], ',.0f')})"

    def holding(name: str) -> str:
        return f"{name} ({methods[name]['n_holding']}/{methods[name]['n_seeds']})"

    def losing(name: str) -> str:
        entry = methods[name]
        return f"{name} (lost in {entry['n_found'] - entry['n_holding']}, holding in {entry['n_holding']})"

    sooner = ", ".join(map(steps, targets["sooner"])) or "none"
    more = ", ".join(map(holding, targets["holding_more"])) or "none"
    lost = ", ".join(map(losing, targets["losing"])) or "none"
    ref_steps = _fmt(ref["steps_to_first_success_censored_median"], ",.0f")
    ref_holding = f"{ref['n_holding']}/{ref['n_seeds']}"
    return [f"The comparison's targets: bonuses finding the reward sooner than `{REFERENCE}` (median steps, "
            f"{ref_steps}): {sooner}; holding it in more of their seeds ({ref_holding}): {more}; losing it "
            f"(found, not holding at the end) in more seeds than holding it: {lost}.", ""]


def _tests(p_values: dict[str, Any]) -> str:
    return ", ".join(_p(p_values.get(k)) for k in ("p_found", "p_holding", "p_final_return", "p_steps"))


def _p(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}{'*' if value < ALPHA else ''}"


def _fmt(value: float | None, spec: str = ".4g") -> str:
    return "–" if value is None else format(value, spec)


# --- plots ----------------------------------------------------------------------------------------------
