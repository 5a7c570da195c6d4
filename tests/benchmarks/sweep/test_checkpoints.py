"""Mid-run checkpoints in sweeps: a killed run resumes, a stale one is dropped, a finished one removed."""

import json

from benchmarks.sweep.jobs import expand
from benchmarks.sweep.results import CHECKPOINTS
from benchmarks.sweep.runner import run_suite
from benchmarks.sweep.suites import MethodSpec, Suite, TaskSpec

TASK = "SparseMountainCar-v0"


def suite(**settings) -> Suite:
    method = MethodSpec("vime", "vime", eta=0.5, settings=settings)
    return Suite("ckpt", (TaskSpec(TASK, "ppo", 1000),), (method,), seeds=1,
                 job="benchmarks._testing.checkpointing_job")


def test_a_killed_run_resumes_from_its_checkpoint_and_the_checkpoint_goes_when_done(tmp_path):
    out = tmp_path / "out"
    result = run_suite(suite(die_once=True), out, jobs=1, retries=1, progress=False)
    assert result.exit_code == 0
    record = json.loads((out / "runs" / TASK / "vime" / "seed0" / "result.json").read_text())
    assert record["metrics"]["resumed_from"] == 500  # the second attempt found the first one's checkpoint
    assert record["timing"]["attempt"] == 2
    assert record["metrics"]["checkpoint_dir"] == str(out / CHECKPOINTS / TASK / "vime" / "seed0")
    assert not (out / CHECKPOINTS).exists()  # nor the folders it leaves empty


def test_a_checkpoint_of_another_job_spec_is_not_resumed(tmp_path):
    out = tmp_path / "out"
    stale = out / CHECKPOINTS / TASK / "vime" / "seed0"
    stale.mkdir(parents=True)
    (stale / "progress.txt").write_text("123")
    other = expand(suite(die_once=False, lr=1))[0].spec()
    (stale / "job.json").write_text(json.dumps(other))
    run_suite(suite(die_once=False), out, jobs=1, progress=False)
    record = json.loads((out / "runs" / TASK / "vime" / "seed0" / "result.json").read_text())
    assert record["metrics"]["resumed_from"] == 0
    # started afresh: the run's start is this sweep's
    started = record["started"]
    assert (started["git"], started["driver_host"]) == (record["git"], record["driver_host"])


def test_a_checkpoint_of_the_same_job_spec_is_resumed(tmp_path):
    out = tmp_path / "out"
    kept = out / CHECKPOINTS / TASK / "vime" / "seed0"
    kept.mkdir(parents=True)
    (kept / "progress.txt").write_text("123")
    (kept / "job.json").write_text(json.dumps(expand(suite(die_once=False))[0].spec()))
    first_attempt = {"git": {"commit": "0" * 40, "dirty": False}, "driver_host": "elsewhere",
                     "time": "2026-01-01T00:00:00Z"}
    (kept / "started.json").write_text(json.dumps(first_attempt))
    run_suite(suite(die_once=False), out, jobs=1, progress=False)
    record = json.loads((out / "runs" / TASK / "vime" / "seed0" / "result.json").read_text())
    assert record["metrics"]["resumed_from"] == 123
    assert record["started"] == first_attempt  # the code the resumed run began with, not this sweep's


def test_a_temporary_file_left_by_a_killed_checkpoint_write_is_not_a_checkpoint(tmp_path):
    # a worker killed while writing its first checkpoint leaves only the hidden temporary file of that write:
    # the next attempt starts afresh, so its start is this sweep's, not the killed attempt's
    out = tmp_path / "out"
    kept = out / CHECKPOINTS / TASK / "vime" / "seed0"
    kept.mkdir(parents=True)
    (kept / ".progress.txt.x1y2.tmp").write_text("12")
    (kept / "job.json").write_text(json.dumps(expand(suite(die_once=False))[0].spec()))
    killed_attempt = {"git": {"commit": "0" * 40, "dirty": False}, "driver_host": "elsewhere",
                      "time": "2026-01-01T00:00:00Z"}
    (kept / "started.json").write_text(json.dumps(killed_attempt))
    run_suite(suite(die_once=False), out, jobs=1, progress=False)
    record = json.loads((out / "runs" / TASK / "vime" / "seed0" / "result.json").read_text())
    assert record["metrics"]["resumed_from"] == 0
    started = record["started"]
    assert (started["git"], started["driver_host"]) == (record["git"], record["driver_host"])
