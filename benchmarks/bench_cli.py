"""``bench`` commands: run a benchmark suite, and report on its results.

::

    python -m benchmarks.bench_cli run quick --out bench-out/quick --jobs 2
    python -m benchmarks.bench_cli run vime-sparse --backend ray --address auto --out /shared/vime
    python -m benchmarks.bench_cli run vime-sparse --timesteps 5000 --seeds 1 --methods none vime
    python -m benchmarks.bench_cli report bench-out/quick

Run the same ``run`` command again to resume an interrupted sweep: finished runs are skipped, the others
redone. :class:`BenchRun` and :class:`BenchReport` are the commands' arguments (tyro dataclasses);
:func:`run` and :func:`report` execute them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

import tyro

from benchmarks import report as report_module
from benchmarks import runner
from benchmarks.suites import SUITES, get_suite


@dataclasses.dataclass
class BenchRun:
    """Run a benchmark suite (tasks x methods x seeds); rerun the same command to resume."""

    suite: Annotated[str, tyro.conf.Positional, tyro.conf.arg(metavar="SUITE")] = "quick"
    """registered suite (vime-sparse, quick, vime-pixels) or 'package.module:NAME' of a Suite object"""
    seeds: int | None = None
    """number of seeds, run as seeds 0 .. N-1 (default: the suite's)"""
    out: Path | None = None
    """output directory (default: bench-out/SUITE)"""
    backend: Literal["local", "ray"] = "local"
    """'local': a pool of worker processes on this machine; 'ray': Ray tasks of one CPU each"""
    jobs: int | None = None
    """runs at a time (local default 1; ray default 0 = as many as the cluster schedules)"""
    address: str | None = None
    """Ray cluster address ('auto', 'ray://HOST:10001'); default: start a local Ray instance"""
    timesteps: int | None = None
    """override every task's budget (e.g. 5000 for a smoke test)"""
    tasks: tuple[str, ...] = ()
    """run only these tasks (env ids; default: all of the suite's)"""
    methods: tuple[str, ...] = ()
    """run only these methods (names; default: all of the suite's)"""
    retries: int = 1
    """times a run whose worker process died abruptly is started again before it counts as failed"""
    redo_changed: bool = False
    """redo finished runs made with other settings (otherwise such runs stop the sweep with an error)"""
    report: bool = True
    """write report.md, summary.json and the plots when the sweep ends"""
    progress: bool = True
    """show a progress bar"""
    dry_run: bool = False
    """print the runs (id, algo, budget, bonus, settings) and exit"""


@dataclasses.dataclass
class BenchReport:
    """Write report.md, summary.json and the plots of a sweep's finished runs."""

    dir: Annotated[Path, tyro.conf.Positional, tyro.conf.arg(metavar="DIR")]
    """the sweep's output directory (the --out of 'bench run')"""
    smooth: int = 10
    """episodes in the trailing mean applied to each learning curve"""


def run(cfg: BenchRun, command: str | None = None) -> None:
    """Execute ``bench run``. Returns when every run finished; raises ``SystemExit(1)`` when some run
    failed and ``SystemExit(130)`` when interrupted (so the exit status is right under any dispatcher).

    Args:
        cfg: the parsed arguments.
        command: the command line stored in ``OUT/command.txt`` (default: this process's, ``sys.orig_argv``).
    """
    suite = get_suite(cfg.suite).with_overrides(cfg.timesteps, cfg.tasks, cfg.methods)
    if cfg.dry_run:
        print(runner.describe_jobs(runner.expand(suite, cfg.seeds)))
        return
    out = cfg.out if cfg.out is not None else Path("bench-out") / suite.name
    with _sigterm_as_interrupt():
        result = runner.run_suite(suite, out, seeds=cfg.seeds, backend=cfg.backend, jobs=cfg.jobs,
                                  address=cfg.address, retries=cfg.retries, redo_changed=cfg.redo_changed,
                                  progress=cfg.progress, command=command)
    print(f"{out}: {len(result.finished)} run(s) finished, {len(result.skipped)} already finished, "
          f"{len(result.failed)} failed", file=sys.stderr)
    for run_id, message in result.failed.items():
        print(f"  FAILED {run_id}: {message}  ({out / 'runs' / run_id / runner.ERROR_FILE})", file=sys.stderr)
    if result.interrupted:
        print(f"interrupted: {len(result.unfinished)} run(s) unfinished; run the same command again "
              "to resume", file=sys.stderr)
    elif cfg.report:
        report_module.report(out)
        print(f"report: {out / 'report.md'}", file=sys.stderr)
    if result.exit_code:
        raise SystemExit(result.exit_code)


def report(cfg: BenchReport) -> None:
    """Execute ``bench report``."""
    summary = report_module.report(cfg.dir, smooth=cfg.smooth)
    n_runs = sum(entry["n_seeds"] for methods in summary.values() for entry in methods.values())
    print(f"{cfg.dir / 'report.md'}: {n_runs} finished run(s) over {len(summary)} task(s)", file=sys.stderr)


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Treat SIGTERM (a scheduler stopping the job) like Ctrl-C, so the sweep stops cleanly."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


COMMANDS = {"run": BenchRun, "report": BenchReport}


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m benchmarks.bench_cli {run,report} ...`` (exit status as :func:`run`)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    cfg = tyro.extras.subcommand_cli_from_dict(
        COMMANDS, args=argv, description=f"Benchmark suites ({', '.join(sorted(SUITES))}): run and report.")
    run(cfg) if isinstance(cfg, BenchRun) else report(cfg)


if __name__ == "__main__":
    main()
