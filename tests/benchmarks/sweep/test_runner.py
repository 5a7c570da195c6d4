"""The local backend: result files, restarts, failures, the contract check, atomic writes."""

import concurrent.futures
import json
import os
import signal
import time
import types

import pytest

from benchmarks._testing import PARTIAL_RETURN, fake_suite
from benchmarks.sweep import backends, runner, worker
from benchmarks.sweep.backends import LocalBackend
from benchmarks.sweep.jobs import expand
from benchmarks.sweep.report import report
from benchmarks.sweep.results import atomic_write, failed_runs, finished_runs, load_result
from benchmarks.sweep.runner import run_suite

TASK = "SparseMountainCar-v0"


def attempts(log_dir, method, seed):
    path = log_dir / f"{TASK}__{method}__seed{seed}.log"
    return len(path.read_text().split()) if path.exists() else 0


@pytest.fixture
def fake_log(tmp_path, monkeypatch):
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    monkeypatch.setenv("BENCH_FAKE_LOG", str(log_dir))
    monkeypatch.delenv("BENCH_FAKE_SLEEP", raising=False)
    return log_dir


def test_local_run_writes_results_then_restart_skips_finished_and_redoes_partial(tmp_path, fake_log):
    out = tmp_path / "out"
    suite = fake_suite(seeds=3, methods=("none",))
    result = run_suite(suite, out, backend="local", jobs=2, progress=False, command="bench run --x")
    assert result.exit_code == 0 and sorted(result.finished) == [f"{TASK}/none/seed{s}" for s in range(3)]
    assert (out / "command.txt").read_text() == "bench run --x\n"
    for seed in range(3):
        run = out / "runs" / TASK / "none" / f"seed{seed}"
        record = json.loads((run / "result.json").read_text())
        # fake_job: 1000 steps = 10 episodes of return seed + eta (eta 0 for "none")
        assert record["metrics"]["final_return"] == float(seed) and record["metrics"]["episodes"] == 10
        assert record["job"]["run_id"] == f"{TASK}/none/seed{seed}"
        assert record["files"] == {"curve.csv": (run / "curve.csv").stat().st_size,
                                   "visitation.npz": (run / "visitation.npz").stat().st_size}
        assert {"python", "torch", "numpy"} <= set(record["versions"]) and record["timing"]["seconds"] >= 0
        assert str(PARTIAL_RETURN) not in (run / "curve.csv").read_text()
    assert [p.name for p in (out / ".scratch").rglob("*")] == [".pids"]  # scratch directories are removed

    # simulate an interrupted attempt of seed 1: a partial curve and no result.json
    seed1 = out / "runs" / TASK / "none" / "seed1"
    (seed1 / "result.json").unlink()
    (seed1 / "visitation.npz").unlink()
    (seed1 / "curve.csv").write_text(f"timesteps,episode_return,episode_length,success,intrinsic_return\n"
                                     f"100,{PARTIAL_RETURN},100,0,0.0\n")
    (seed1 / "junk.tmp").write_text("partial")
    summary = report(out, plots=False)  # the partial run is never counted
    assert summary[TASK]["none"]["n_seeds"] == 2
    assert summary[TASK]["none"]["final_return_mean"] == 1.0  # seeds 0 and 2: (0 + 2) / 2
    finished_before = {s: (out / "runs" / TASK / "none" / f"seed{s}" / "result.json").read_bytes()
                       for s in (0, 2)}

    result = run_suite(suite, out, jobs=1, progress=False)
    assert result.skipped == [f"{TASK}/none/seed0", f"{TASK}/none/seed2"]
    assert result.finished == [f"{TASK}/none/seed1"] and result.exit_code == 0
    assert [attempts(fake_log, "none", s) for s in range(3)] == [1, 2, 1]
    assert not (seed1 / "junk.tmp").exists()  # the unfinished directory was cleared first
    assert str(PARTIAL_RETURN) not in (seed1 / "curve.csv").read_text()
    for seed, data in finished_before.items():
        assert (out / "runs" / TASK / "none" / f"seed{seed}" / "result.json").read_bytes() == data
    summary = report(out, plots=False)
    assert summary[TASK]["none"]["n_seeds"] == 3 and summary[TASK]["none"]["final_return_mean"] == 1.0


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, fake_log):
    out = tmp_path / "out"
    result = run_suite(fake_suite(seeds=3, methods=("none",), fail_seeds=[1]), out, progress=False)
    assert result.exit_code == 1
    assert list(result.failed) == [f"{TASK}/none/seed1"]
    assert result.failed[f"{TASK}/none/seed1"] == "RuntimeError: fake failure for seed 1"
    assert sorted(result.finished) == [f"{TASK}/none/seed0", f"{TASK}/none/seed2"]
    failed_dir = out / "runs" / TASK / "none" / "seed1"
    assert "RuntimeError: fake failure for seed 1" in (failed_dir / "error.txt").read_text()
    assert not (failed_dir / "result.json").exists()
    assert failed_runs(out) == {f"{TASK}/none/seed1": (failed_dir / "error.txt").read_text()}
    assert "fake failure for seed 1" in (report(out, plots=False) and (out / "report.md").read_text())


@pytest.mark.slow
def test_a_dying_worker_is_charged_its_crash_and_the_run_beside_it_is_not(tmp_path, fake_log, monkeypatch):
    # seed 1's worker kills itself (SIGKILL) on every attempt; seed 0 runs beside it for 2 s each time. One
    # dead worker breaks the pool and ends both runs: only seed 1's may count as a crash, or seed 0 (in flight
    # at both crashes) would fail after retries=1 without ever having failed itself.
    monkeypatch.setenv("BENCH_FAKE_SLEEP", "2,0.3")
    out = tmp_path / "out"
    result = run_suite(fake_suite(seeds=2, methods=("none",), kill_seeds=[1]), out, jobs=2, retries=1,
                       progress=False)
    assert list(result.failed) == [f"{TASK}/none/seed1"]
    assert "died abruptly 2 time(s)" in (out / "runs" / TASK / "none" / "seed1" / "error.txt").read_text()
    assert result.finished == [f"{TASK}/none/seed0"] and attempts(fake_log, "none", 1) == 2
    record = json.loads((out / "runs" / TASK / "none" / "seed0" / "result.json").read_text())
    assert record["metrics"]["final_return"] == 0.0 and record["timing"]["attempt"] == 1
    assert not list((out / ".scratch" / ".pids").iterdir())  # the killed workers' pid files go with them


@pytest.mark.slow
def test_a_broken_pool_reported_one_run_at_a_time_charges_only_the_dead_worker(tmp_path, fake_log,
                                                                                 monkeypatch):
    # wait(FIRST_COMPLETED) promises at least one finished future, not all of them: the runs a broken pool
    # ends may come back over several calls. The run seen on a later call still belongs to the broken pool:
    # it must not be blamed on, nor break, the fresh pool the other run was restarted in.
    real_wait = concurrent.futures.wait

    def one_at_a_time(fs, timeout=None, return_when=concurrent.futures.ALL_COMPLETED):
        done, not_done = real_wait(fs, timeout, return_when)
        if return_when == concurrent.futures.FIRST_COMPLETED and len(done) > 1:
            first = next(iter(done))
            return {first}, not_done | (done - {first})
        return done, not_done

    monkeypatch.setattr(concurrent.futures, "wait", one_at_a_time)
    monkeypatch.setattr(backends, "BROKEN_POOL_TIMEOUT", 1.0)  # shorter than seed 0's run
    monkeypatch.setenv("BENCH_FAKE_SLEEP", "2,0.3")  # seed 1's worker dies once, while seed 0 runs beside it
    out = tmp_path / "out"
    result = run_suite(fake_suite(seeds=2, methods=("none",), kill_once_seeds=[1]), out, jobs=2, retries=1,
                       progress=False)
    assert result.failed == {} and sorted(result.finished) == [f"{TASK}/none/seed0", f"{TASK}/none/seed1"]
    attempt = {seed: json.loads((out / "runs" / TASK / "none" / f"seed{seed}" / "result.json").read_text())
               ["timing"]["attempt"] for seed in (0, 1)}
    assert attempt == {0: 1, 1: 2}  # seed 0 restarted without being charged; seed 1 charged once


class _DyingProcess:
    """A worker whose death ``waitpid`` reports only some time after its futures have failed."""

    def __init__(self, code, after):
        self.code, self.visible_at = code, time.monotonic() + after

    @property
    def exitcode(self):
        return self.code if time.monotonic() >= self.visible_at else None


def test_the_dead_worker_is_found_even_before_its_exit_code_is_visible(tmp_path):
    # the pool fails the futures as soon as a worker's pipe closes; its exit code, and the SIGTERM the pool
    # sends the others, show a moment later: read at once, no culprit is found and every run is charged
    backend = LocalBackend(tmp_path / "scratch", workers=2)
    backend.executor = types.SimpleNamespace(_processes={101: _DyingProcess(-signal.SIGKILL, 0.2),
                                                         102: _DyingProcess(-signal.SIGTERM, 0.3)})
    markers = backends._pid_dir(backend.scratch_root)
    markers.mkdir(parents=True)
    (markers / "101").write_text(f"{TASK}/none/seed1")
    (markers / "102").write_text(f"{TASK}/none/seed0")
    assert backend._crashed_runs() == {f"{TASK}/none/seed1"}


def test_a_job_breaking_the_contract_fails_with_a_clear_message(tmp_path, monkeypatch):
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):  # execute_job sets them
        monkeypatch.setenv(name, "1")
    job = expand(fake_suite(seeds=1, methods=("none",), job="benchmarks._testing.not_a_dict_job"))[0]
    outcome = worker.execute_job(job, str(tmp_path))  # in this process: the worker side only
    assert not outcome["ok"] and outcome["metrics"] is None
    assert outcome["error"].strip().endswith(
        "TypeError: job function benchmarks._testing.not_a_dict_job must return a dict of metrics, got list")
    job = expand(fake_suite(seeds=1, methods=("none",), job="benchmarks._testing.no_such_job"))[0]
    assert "has no attribute 'no_such_job'" in worker.execute_job(job, str(tmp_path))["error"]
    assert list(tmp_path.iterdir()) == []  # scratch directories removed


def test_check_metrics_requires_the_report_keys():
    missing = r"without \['success', 'steps_to_first_success', 'success_rate_last'\]"
    with pytest.raises(ValueError, match=missing):
        worker.check_metrics({"final_return": 1.0}, "f")
    np = pytest.importorskip("numpy")
    assert worker.check_metrics({"final_return": np.float32(0.5), "success": np.bool_(True),
                                 "steps_to_first_success": np.int64(7), "success_rate_last": np.float64(0.25),
                                 "curve": np.arange(2)}, "f") == {
        "final_return": 0.5, "success": True, "steps_to_first_success": 7, "success_rate_last": 0.25,
        "curve": [0, 1]}


def test_finished_runs_made_with_other_settings_are_not_mixed(tmp_path, fake_log):
    out = tmp_path / "out"
    run_suite(fake_suite(seeds=1, methods=("none",)), out, progress=False)
    changed = fake_suite(seeds=1, methods=("none",), timesteps=2000)
    with pytest.raises(ValueError, match=r"other settings.*'total_timesteps': \(1000, 2000\).*redo-changed"):
        run_suite(changed, out, progress=False)
    result = run_suite(changed, out, progress=False, redo_changed=True)
    assert result.finished == [f"{TASK}/none/seed0"]
    assert load_result(out / "runs" / TASK / "none" / "seed0")["metrics"]["episodes"] == 20


def test_workers_use_one_torch_thread(tmp_path, fake_log):
    suite = fake_suite(seeds=1, methods=("none",), job="benchmarks._testing.torch_threads_job")
    run_suite(suite, tmp_path / "out", progress=False)
    metrics = load_result(tmp_path / "out" / "runs" / TASK / "none" / "seed0")["metrics"]
    assert metrics["torch_threads"] == 1 and metrics["pid"] != os.getpid()


def test_one_sweep_at_a_time(tmp_path):
    with runner._sweep_lock(tmp_path), pytest.raises(RuntimeError, match=r"another sweep .* is writing to"):
        run_suite(fake_suite(seeds=1), tmp_path, progress=False)


def test_bad_arguments_raise(tmp_path):
    with pytest.raises(ValueError, match="backend must be 'local' or 'ray', got 'slurm'"):
        run_suite(fake_suite(), tmp_path, backend="slurm")
    with pytest.raises(ValueError, match="jobs must be >= 1 for the local backend"):
        run_suite(fake_suite(), tmp_path, jobs=0)
    with pytest.raises(ValueError, match="dotted path"):
        worker.resolve_function("nodots")


def test_load_result_treats_partial_files_as_unfinished(tmp_path):
    assert load_result(tmp_path) is None
    (tmp_path / "result.json").write_text('{"job": {}, "metrics": {"final_ret')
    assert load_result(tmp_path) is None
    atomic_write(tmp_path / "result.json", json.dumps({"job": {}, "metrics": {}}).encode())
    assert load_result(tmp_path) == {"job": {}, "metrics": {}}
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]  # no temporary file left


def test_runs_of_namespaced_env_ids_are_found(tmp_path):
    # gymnasium ids may carry a namespace ("ns/Task-v0"): their run ids are one directory deeper
    ids = ["Task-v0/none/seed0", "ns/Task-v0/none/seed0", "ns/Task-v0/vime/seed1"]
    for run_id in ids:
        (tmp_path / "runs" / run_id).mkdir(parents=True)
        atomic_write(tmp_path / "runs" / run_id / "result.json", b'{"job": {}, "metrics": {}}')
    (tmp_path / "runs" / "ns/Task-v0/none/seed2").mkdir(parents=True)
    (tmp_path / "runs" / "ns/Task-v0/none/seed2/error.txt").write_text("boom")
    assert sorted(finished_runs(tmp_path)) == sorted(ids)
    assert failed_runs(tmp_path) == {"ns/Task-v0/none/seed2": "boom"}


def test_job_spec_round_trips_through_json():
    job = expand(fake_suite(seeds=1))[0]
    assert json.loads(json.dumps(job.spec())) == job.spec()


def test_suite_json_keeps_the_jobs_of_earlier_sweeps(tmp_path, fake_log):
    out = tmp_path / "out"
    run_suite(fake_suite(seeds=1, methods=("none",)), out, jobs=1, progress=False, command="first")
    run_suite(fake_suite(seeds=2, methods=("vime",)), out, jobs=1, progress=False, command="second")
    specs = json.loads((out / "suite.json").read_text())
    assert [s["run_id"] for s in specs] == [f"{TASK}/none/seed0", f"{TASK}/vime/seed0", f"{TASK}/vime/seed1"]
    assert (out / "command.txt").read_text() == "second\n"  # the latest sweep's command only
    assert len((out / "commands.log").read_text().splitlines()) == 2
    run_suite(fake_suite(seeds=2, methods=("vime",)), out, jobs=1, progress=False, command="third")
    assert (out / "command.txt").read_text() == "second\n"  # nothing was left to run: not logged
    assert len((out / "commands.log").read_text().splitlines()) == 2
