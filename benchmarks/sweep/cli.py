"""``bench`` commands: run a benchmark suite, and report on its results.

::

    python -m benchmarks.sweep.cli run quick --out bench-out/quick --jobs 2
    python -m benchmarks.sweep.cli run vime-paper --backend ray --address auto --out bench-out/vime-paper
    python -m benchmarks.sweep.cli run vime-paper --timesteps 5000 --seeds 1 --methods none vime
    python -m benchmarks.sweep.cli report bench-out/quick

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

from agents.errors import UsageError
from benchmarks.sweep import jobs, results, runner
from benchmarks.sweep import report as report_module
from benchmarks.sweep.suites import SUITES, Suite, get_suite


@dataclasses.dataclass
class BenchRun:
    """Run a benchmark suite (tasks x methods x seeds); rerun the same command to resume."""

    suite: Annotated[str, tyro.conf.Positional, tyro.conf.arg(metavar="SUITE")] = "quick"
    """a registered suite: vime-paper, vime-sparse, vime-sparse-v0, eta-grid, eta-decay, ppo-budget, quick,
    vime-pixels; or 'package.module:NAME' of a Suite object"""
    seeds: int | None = None
    """number of seeds: the first N of the suite's seeds (0 .. N-1 for most suites; default: the suite's)"""
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

    Raises:
        UsageError: a bad argument, before anything is written to ``--out``.
    """
    suite = _checked_suite(cfg)
    if cfg.dry_run:
        print(runner.describe_jobs(jobs.expand(suite, cfg.seeds)))
        return
    out = cfg.out if cfg.out is not None else Path("bench-out") / suite.name
    with _sigterm_as_interrupt():
        try:
            result = runner.run_suite(suite, out, seeds=cfg.seeds, backend=cfg.backend, jobs=cfg.jobs,
                                      address=cfg.address, retries=cfg.retries, redo_changed=cfg.redo_changed,
                                      progress=cfg.progress, command=command)
        except ConnectionError as error:  # Ray's: the message says what to check
            raise UsageError("address", str(error)) from error
    print(f"{out}: {len(result.finished)} run(s) finished, {len(result.skipped)} already finished, "
          f"{len(result.failed)} failed", file=sys.stderr)
    for run_id, message in result.failed.items():
        error_file = out / "runs" / run_id / results.ERROR_FILE
        print(f"  FAILED {run_id}: {message}  ({error_file})", file=sys.stderr)
    if result.interrupted:
        print(f"interrupted: {len(result.unfinished)} run(s) unfinished; run the same command again "
              "to resume", file=sys.stderr)
    elif cfg.report:
        report_module.report(out)
        print(f"report: {out / 'report.md'}", file=sys.stderr)
    if result.exit_code:
        raise SystemExit(result.exit_code)


def _checked_suite(cfg: BenchRun) -> Suite:
    """The suite ``cfg`` asks for, every argument checked."""
    for name in ("seeds", "timesteps"):
        value = getattr(cfg, name)
        if value is not None and value < 1:
            raise UsageError(name, f"{name} must be >= 1 (or left out for the suite's own), got {value}")
    if cfg.jobs is not None and cfg.jobs < (1 if cfg.backend == "local" else 0):
        raise UsageError("jobs", f"jobs must be >= 1 with the local backend (>= 0 with ray), got {cfg.jobs}")
    if cfg.retries < 0:
        raise UsageError("retries", f"retries must be >= 0, got {cfg.retries}")
    try:
        suite = get_suite(cfg.suite)
    except (ValueError, TypeError, ImportError, AttributeError) as error:
        raise UsageError("suite", str(error)) from error
    for name in ("tasks", "methods"):
        try:
            suite.with_overrides(**{name: getattr(cfg, name)})
        except ValueError as error:
            raise UsageError(name, str(error)) from error
    return suite.with_overrides(cfg.timesteps, cfg.tasks, cfg.methods)


def report(cfg: BenchReport) -> None:
    """Execute ``bench report``.

    Raises:
        UsageError: ``DIR`` is not a sweep's output directory, or ``--smooth`` < 1.
    """
    if cfg.smooth < 1:
        raise UsageError("smooth", f"smooth must be >= 1 (1: no smoothing), got {cfg.smooth}")
    if not (cfg.dir / "runs").is_dir():
        raise UsageError("dir", f"{cfg.dir} holds no runs/ directory: give the --out of 'bench run'")
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
    """``python -m benchmarks.sweep.cli {run,report} ...`` (exit status as :func:`run`; 2 for a bad argument,
    ``--debug`` for its traceback)."""
    from benchmarks.cli import usage_errors

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    cfg = tyro.extras.subcommand_cli_from_dict(
        COMMANDS, args=[a for a in argv if a != "--debug"],
        description=f"Benchmark suites ({', '.join(sorted(SUITES))}): run and report.")
    with usage_errors(f"bench {'run' if isinstance(cfg, BenchRun) else 'report'}", debug):
        run(cfg) if isinstance(cfg, BenchRun) else report(cfg)


if __name__ == "__main__":
    main()
