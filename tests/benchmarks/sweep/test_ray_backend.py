"""The Ray backend on a local one-CPU Ray instance."""

import os

import pytest

from benchmarks._testing import fake_suite
from benchmarks.sweep.results import load_result
from benchmarks.sweep.runner import run_suite

TASK = "SparseMountainCar-v0"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ray_instance():
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'ray[default]')")
    try:
        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    except Exception as error:  # e.g. no shared memory or sockets in a sandbox
        pytest.skip(f"a local Ray instance could not start: {type(error).__name__}: {error}")
    yield ray
    ray.shutdown()


def test_ray_backend_runs_a_fake_suite(tmp_path, ray_instance, monkeypatch):
    monkeypatch.delenv("BENCH_FAKE_SLEEP", raising=False)
    out = tmp_path / "out"
    result = run_suite(fake_suite(seeds=3, methods=("none",), fail_seeds=[2]), out, backend="ray",
                       progress=False)
    assert sorted(result.finished) == [f"{TASK}/none/seed0", f"{TASK}/none/seed1"]
    assert result.failed == {f"{TASK}/none/seed2": "RuntimeError: fake failure for seed 2"}
    assert result.exit_code == 1
    for seed in (0, 1):
        record = load_result(out / "runs" / TASK / "none" / f"seed{seed}")
        assert record["metrics"]["final_return"] == float(seed) and record["worker"]["pid"] != os.getpid()
        assert (out / "runs" / TASK / "none" / f"seed{seed}" / "visitation.npz").exists()
    assert (out / "runs" / TASK / "none" / "seed2" / "error.txt").exists()
    assert ray_instance.is_initialized()  # the runner leaves an instance it did not start alone
    suite = fake_suite(seeds=3, methods=("none",), fail_seeds=[2])
    result = run_suite(suite, out, backend="ray", progress=False)  # resume: only the failed run is redone
    assert result.skipped == [f"{TASK}/none/seed0", f"{TASK}/none/seed1"]
    assert list(result.failed) == [f"{TASK}/none/seed2"] and result.finished == []
