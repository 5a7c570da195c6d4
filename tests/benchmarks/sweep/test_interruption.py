"""A sweep killed hard (SIGKILL of a worker, then of the runner) or stopped by Ctrl-C resumes correctly:
every run is counted exactly once and no partial file is read."""

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks._testing import PARTIAL_RETURN
from benchmarks.sweep.report import report

REPO = Path(__file__).resolve().parents[3]
TASK = "SparseMountainCar-v0"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux signals, /proc")]


def bench_command(out):
    return [sys.executable, "-m", "benchmarks.sweep.cli", "run", "benchmarks._testing:FAKE_SUITE",
            "--out", str(out), "--no-progress", "--no-report", "--retries", "1"]


def pids(log_dir, seed):
    path = log_dir / f"{TASK}__none__seed{seed}.log"
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def wait_for(condition, what, timeout=40.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def result_of(out, seed):
    path = out / "runs" / TASK / "none" / f"seed{seed}" / "result.json"
    return json.loads(path.read_text()) if path.exists() else None


@pytest.fixture
def sweep_env(tmp_path):
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    env = {**os.environ, "BENCH_FAKE_LOG": str(log_dir), "PYTHONPATH": str(REPO)}
    started = []
    yield env, log_dir, started
    for pid in [p for seed in range(3) for p in pids(log_dir, seed)] + started:  # leave no process behind
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_sigkill_of_a_worker_then_of_the_runner_then_resume(tmp_path, sweep_env):
    env, log_dir, started = sweep_env
    out = tmp_path / "out"
    # seed 0 finishes at once; seeds 1 and 2 would sleep a minute after writing a partial curve
    runner = subprocess.Popen(bench_command(out), cwd=REPO, env={**env, "BENCH_FAKE_SLEEP": "0,60,60"},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    started.append(runner.pid)
    wait_for(lambda: result_of(out, 0) is not None and len(pids(log_dir, 1)) == 1,
             "seed 0 done and seed 1 running")
    first_worker = pids(log_dir, 1)[0]
    os.kill(first_worker, signal.SIGKILL)  # a worker dies mid-run: the runner starts the run again
    wait_for(lambda: len(pids(log_dir, 1)) == 2, "seed 1 started again")
    second_worker = pids(log_dir, 1)[1]
    assert second_worker != first_worker
    runner.kill()  # then the runner dies (SIGKILL): no cleanup code runs
    runner.communicate(timeout=20)
    wait_for(lambda: not alive(second_worker), "the orphaned worker to die with the runner", timeout=10)
    assert result_of(out, 1) is None and result_of(out, 2) is None and pids(log_dir, 2) == []
    seed0 = (out / "runs" / TASK / "none" / "seed0" / "result.json").read_bytes()

    resumed = subprocess.run(bench_command(out), cwd=REPO, env={**env, "BENCH_FAKE_SLEEP": "0,0,0"},
                             capture_output=True, text=True, timeout=60)  # the same command again
    assert resumed.returncode == 0, resumed.stderr
    assert "2 run(s) finished, 1 already finished, 0 failed" in resumed.stderr
    assert (out / "runs" / TASK / "none" / "seed0" / "result.json").read_bytes() == seed0  # skipped
    assert [len(pids(log_dir, seed)) for seed in range(3)] == [1, 3, 1]
    for seed in range(3):  # every run finished exactly once, from a complete attempt
        assert result_of(out, seed)["metrics"]["final_return"] == float(seed)
        curve = (out / "runs" / TASK / "none" / f"seed{seed}" / "curve.csv").read_text()
        assert str(PARTIAL_RETURN) not in curve and len(curve.splitlines()) == 11  # header + 10 episodes
    summary = report(out, plots=False)
    assert summary[TASK]["none"]["n_seeds"] == 3
    assert summary[TASK]["none"]["final_return_mean"] == 1.0  # (0 + 1 + 2) / 3
    assert (out / "command.txt").read_text() == shlex.join(bench_command(out)) + "\n"  # the exact command


def test_ctrl_c_stops_cleanly(tmp_path, sweep_env):
    env, log_dir, started = sweep_env
    out = tmp_path / "out"
    # Ctrl-C as in a terminal: the runner starts with SIGINT's default action even when this test runs as a
    # background job (`cmd &` in a script starts with SIGINT ignored, and a child inherits that).
    runner = subprocess.Popen(bench_command(out), cwd=REPO, env={**env, "BENCH_FAKE_SLEEP": "60"},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    started.append(runner.pid)
    wait_for(lambda: len(pids(log_dir, 0)) == 1, "seed 0 running")
    worker = pids(log_dir, 0)[0]
    os.killpg(runner.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group, as in a terminal
    _, stderr = runner.communicate(timeout=60)
    assert runner.returncode == 130, stderr
    # how many runs the runner had started by the time Ctrl-C landed depends on the machine's load
    assert re.search(r"interrupted: [34] run\(s\) unfinished; run the same command again to resume", stderr)
    assert "Traceback" not in stderr
    wait_for(lambda: not alive(worker), "the worker to be stopped", timeout=10)
    assert not list(out.rglob("result.json")) and not list(out.rglob("error.txt"))
