"""``curiosity demo``: PPO with and without VIME on SparseMountainCar-v1, a table and two plots.

Runs the ``quick`` suite (:mod:`benchmarks.sweep.suites`) with the local runner, writes its report
(``report.md``, ``summary.json``, learning curves, state visitation) and prints the table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table


@dataclass
class DemoArgs:
    """PPO with and without VIME on sparse MountainCar: success rates, a learning-curve plot and a
    state-visitation plot."""

    out: str = "demo_out"
    """Output directory (runs, report.md, summary.json, PNG plots)."""
    seeds: int = 2
    """Seeds per method."""
    timesteps: int | None = None
    """Environment steps per run (default: the quick suite's budget)."""
    jobs: int | None = None
    """Runs in parallel (default: the number of cores)."""


def main(args: DemoArgs) -> dict:
    """Run the demo and print its table; returns the summary."""
    from benchmarks.sweep.report import report
    from benchmarks.sweep.runner import run_suite
    from benchmarks.sweep.suites import get_suite

    suite = get_suite("quick")
    if args.timesteps is not None:
        suite = suite.with_overrides(timesteps=args.timesteps)
    jobs = args.jobs or os.cpu_count() or 1
    result = run_suite(suite, args.out, seeds=args.seeds, jobs=jobs, command="curiosity demo")
    summary = report(args.out)
    table = Table(title=f"{suite.description} ({args.seeds} seeds)")
    for column in ("task", "method", "success rate", "final return", "median steps to first success"):
        table.add_column(column)
    for task, methods in summary.items():
        for method, m in methods.items():
            steps = m["steps_to_first_success_median"]
            table.add_row(task, method, f"{m['success_rate']:.0%}", f"{m['final_return_mean']:.3f}",
                          "-" if steps is None else f"{steps:,.0f}")  # fmt: skip
    console = Console()
    console.print(table)
    plots = sorted(str(p) for p in Path(args.out).glob("*.png"))
    console.print(f"report: {Path(args.out) / 'report.md'}\nplots: {', '.join(plots)}")
    if result.exit_code:
        raise SystemExit(result.exit_code)
    return summary
