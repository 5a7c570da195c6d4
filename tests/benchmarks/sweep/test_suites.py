"""Suites: registry, expansion into jobs with stable ids, settings merging, overrides."""

import json
from pathlib import Path

import pytest

from benchmarks.sweep.jobs import expand
from benchmarks.sweep.suites import (
    COMPARISON_BUDGETS,
    SUITES,
    MethodSpec,
    Suite,
    TaskSpec,
    get_suite,
    merge_settings,
)


def test_unknown_suite_lists_the_known_ones():
    known = (r"\['eta-decay', 'eta-grid', 'ppo-budget', 'quick', 'vime-paper', 'vime-pixels', "
             r"'vime-sparse', 'vime-sparse-v0'\]")
    with pytest.raises(ValueError, match=r"unknown suite 'nope'.*" + known):
        get_suite("nope")
    with pytest.raises(ValueError, match="unknown suite"):
        expand("nope")


def test_suite_by_dotted_path():
    assert get_suite("benchmarks._testing:FAKE_SUITE").name == "fake"
    with pytest.raises(TypeError, match=r"not a benchmarks\.sweep\.suites\.Suite"):
        get_suite("benchmarks._testing:CURVE_HEADER")


def test_expansion_ids_order_and_arguments():
    suite = Suite("s", (TaskSpec("A-v0", "ppo", 1000, n_envs=2, algo_kwargs={"n_steps": 10}),
                        TaskSpec("B-v0", "sac", 2000)),
                  (MethodSpec("none"), MethodSpec("vime", "vime", eta=0.1, bonus_kwargs={"n_updates": 5})),
                  seeds=2, job="pkg.mod.fn")
    jobs = expand(suite)
    assert [j.run_id for j in jobs] == [
        "A-v0/none/seed0", "A-v0/vime/seed0", "A-v0/none/seed1", "A-v0/vime/seed1",
        "B-v0/none/seed0", "B-v0/vime/seed0", "B-v0/none/seed1", "B-v0/vime/seed1"]
    job = jobs[1]
    assert (job.env_id, job.method, job.seed, job.algo, job.bonus, job.total_timesteps, job.job_fn) == (
        "A-v0", "vime", 0, "ppo", "vime", 1000, "pkg.mod.fn")
    assert job.settings == {"n_envs": 2, "algo_kwargs": {"n_steps": 10}, "eta": 0.1,
                            "bonus_kwargs": {"n_updates": 5}}
    assert jobs[4].settings == {"n_envs": 1, "algo_kwargs": {}, "eta": 0.0, "bonus_kwargs": {}}
    assert [j.seed for j in expand(suite, 3)][:6] == [0, 0, 1, 1, 2, 2]
    assert [j.seed for j in expand(suite, [7, 3])][:4] == [7, 7, 3, 3]
    assert expand(suite, 0) == []
    with pytest.raises(ValueError, match="seeds must be a count >= 0"):
        expand(suite, -1)
    with pytest.raises(ValueError, match="distinct non-negative"):
        expand(suite, [1, 1])
    # not silently truncated or read character by character (a string is a sequence too)
    for bad in ([1.5, 2], "12", [True], 2.0):
        with pytest.raises(ValueError, match="seeds must be"):
            expand(suite, bad)


def test_per_task_overrides_merge_kwargs_key_by_key():
    method = MethodSpec("vime", "vime", eta=1e-3, bonus_kwargs={"n_updates": 500, "batch_size": 10},
                        overrides={"A-v0": {"eta": 1e-4, "bonus_kwargs": {"n_updates": 50}, "extra": 1}})
    suite = Suite("s", (TaskSpec("A-v0"), TaskSpec("B-v0")), (method,), seeds=1)
    a, b = expand(suite)
    assert a.settings["eta"] == 1e-4 and a.settings["extra"] == 1
    assert a.settings["bonus_kwargs"] == {"n_updates": 50, "batch_size": 10}
    assert b.settings["eta"] == 1e-3 and "extra" not in b.settings
    base, layer = {"algo_kwargs": {"a": 1}, "x": {"k": 1}}, {"algo_kwargs": {"b": 2}, "x": {"j": 0}}
    merged = merge_settings(base, layer)
    assert merged == {"algo_kwargs": {"a": 1, "b": 2}, "x": {"j": 0}}  # only *_kwargs keys are merged


def test_with_overrides_shrinks_a_suite():
    suite = get_suite("vime-sparse-v0").with_overrides(timesteps=5000, tasks=["SparseHalfCheetah-v0"],
                                                    methods=("none", "vime"))
    jobs = expand(suite, 1)
    assert [j.run_id for j in jobs] == ["SparseHalfCheetah-v0/none/seed0", "SparseHalfCheetah-v0/vime/seed0"]
    assert all(j.total_timesteps == 5000 for j in jobs)
    with pytest.raises(ValueError, match=r"unknown method\(s\) \['vine'\]"):
        get_suite("quick").with_overrides(methods=["vine"])
    with pytest.raises(ValueError, match=r"unknown task\(s\)"):
        get_suite("quick").with_overrides(tasks=["CartPole-v1"])


def test_registered_suites():
    sparse = SUITES["vime-sparse-v0"]
    assert [t.env_id for t in sparse.tasks] == ["SparseMountainCar-v0", "SparseCartPoleSwingup-v0",
                                                "SparseDoublePendulum-v0", "SparseHalfCheetah-v0"]
    assert [m.name for m in sparse.methods] == ["none", "vime", "rnd", "icm", "disagreement", "simhash"]
    assert all(t.algo == "ppo" for t in sparse.tasks) and sparse.job == "agents.experiment.run_experiment"
    etas = {j.env_id: j.settings["eta"] for j in expand(sparse, 1) if j.method == "vime"}
    assert etas == {"SparseMountainCar-v0": 1e-3, "SparseCartPoleSwingup-v0": 1e-3,
                    "SparseDoublePendulum-v0": 1e-3, "SparseHalfCheetah-v0": 1e-3}
    assert {j.bonus for j in expand(sparse, 1)} == {"none", "vime", "rnd", "icm", "disagreement", "simhash"}
    # the prediction-error baselines: normalised, at VIME's eta on each task; SimHash at Tang et al.'s beta,
    # which is its eta
    for job in expand(sparse, 1):
        if job.bonus in ("rnd", "icm", "disagreement"):
            assert job.settings["eta"] == etas[job.env_id]
            assert job.settings["bonus_kwargs"] == {"normalize_bonus": True}
        elif job.bonus == "simhash":
            assert job.settings["bonus_kwargs"] == {} and job.settings["eta"] == 0.01
    quick = expand("quick")
    assert [j.run_id for j in quick] == ["SparseMountainCar-v1/none/seed0", "SparseMountainCar-v1/vime/seed0",
                                         "SparseMountainCar-v1/none/seed1", "SparseMountainCar-v1/vime/seed1"]
    assert all(j.total_timesteps == 100_000 for j in quick)


def test_the_paper_suite_is_the_papers_protocol():
    jobs = expand("vime-paper")
    budgets = {j.env_id: j.total_timesteps for j in jobs}
    # REFERENCE.md: 1,000 TRPO iterations of 5,000 steps on the classic tasks, 5,000 on HalfCheetah
    assert budgets == {"SparseMountainCar-v1": 5_000_000, "SparseCartPoleSwingup-v1": 5_000_000,
                       "SparseHalfCheetah-v1": 25_000_000}
    assert {j.method for j in jobs} == {"none", "vime"} and len(jobs) == 30  # 3 tasks x 2 methods x 5 seeds
    for job in jobs:
        kwargs = job.settings["algo_kwargs"]
        assert job.algo == "trpo" and job.settings["n_envs"] * kwargs["n_steps"] == 5000
        assert (kwargs["target_kl"], kwargs["gamma"], kwargs["gae_lambda"], kwargs["cg_max_steps"]) == (
            0.01, 0.99, 1.0, 10)
        hidden = [64, 32] if job.env_id == "SparseHalfCheetah-v1" else [32]
        assert kwargs["policy_kwargs"]["net_arch"]["pi"] == hidden
        assert job.settings["bootstrap_horizon"] is False  # rllab's horizon
        # rllab's baselines: LinearFeatureBaseline on HalfCheetah (TRPO's critic then not fitted), MLP else
        linear = job.env_id == "SparseHalfCheetah-v1"
        assert job.settings.get("value_baseline", "critic") == ("linear_feature" if linear else "critic")
        assert kwargs.get("n_critic_updates", 10) == (0 if linear else 10)
        if job.method == "vime":
            assert job.settings["callback_kwargs"] == {"value_targets": "extrinsic"}
            assert job.settings["eta"] == 1e-3 and job.settings["bonus_kwargs"] == {}


def test_a_suite_may_name_its_seeds():
    held_out = Suite("s", (TaskSpec("A-v0"),), (MethodSpec("m"),), seeds=(3, 4, 5))
    assert [j.seed for j in expand(held_out)] == [3, 4, 5]
    assert [j.seed for j in expand(held_out, 2)] == [3, 4]  # --seeds N: the first N of the suite's
    assert [j.seed for j in expand(held_out, 5)] == [3, 4, 5, 6, 7]  # continued after the largest
    assert [j.seed for j in expand(held_out, [9])] == [9]
    assert Suite("s", (TaskSpec("A-v0"),), (MethodSpec("m"),), seeds=3).seed_list(4) == [0, 1, 2, 3]
    for bad in ((), (1, 1), (-1,), 0, True):
        with pytest.raises(ValueError, match="seeds must be"):
            Suite("s", (TaskSpec("A-v0"),), (MethodSpec("m"),), seeds=bad)


def test_invalid_specs_raise():
    with pytest.raises(ValueError, match="duplicate method names"):
        Suite("s", (TaskSpec("A-v0"),), (MethodSpec("m"), MethodSpec("m")))
    with pytest.raises(ValueError, match="duplicate task env_ids"):
        Suite("s", (TaskSpec("A-v0"), TaskSpec("A-v0")), (MethodSpec("m"),))
    with pytest.raises(ValueError, match="total_timesteps must be a positive int"):
        TaskSpec("A-v0", total_timesteps=0)
    with pytest.raises(ValueError, match="MethodSpec name"):
        MethodSpec("a/b")


def test_the_comparison_uses_the_grids_choice_on_held_out_seeds():
    root = Path(__file__).resolve().parents[3]
    choice = json.loads((root / "benchmarks/results/eta-grid/eta_choice.json").read_text())
    jobs = expand("vime-sparse")
    etas = {j.bonus: j.settings["eta"] for j in jobs if j.bonus != "none"}
    assert etas == {bonus: entry["eta"] for bonus, entry in choice.items()}  # every bonus, as chosen
    grid = {j.run_id.split("/")[0]: j for j in expand("eta-grid")}
    for job in jobs:
        twin = grid.get(job.env_id)
        if twin is not None:  # the grid's task: the same protocol, only the seeds differ
            assert (job.total_timesteps, job.settings["n_envs"], job.settings["algo_kwargs"]) == (
                twin.total_timesteps, twin.settings["n_envs"], twin.settings["algo_kwargs"])
    assert {j.seed for j in jobs} == {3, 4, 5, 6, 7}
    assert not {j.seed for j in jobs} & {j.seed for j in expand("eta-grid")}


def test_the_comparison_runs_the_pilots_protocol_at_the_budgets_read_off_it():
    root = Path(__file__).resolve().parents[3]
    chosen = json.loads((root / "benchmarks/results/ppo-budget/budget.json").read_text())
    pilot = {j.env_id: j for j in expand("ppo-budget")}
    jobs = [j for j in expand("vime-sparse") if j.env_id in pilot]
    assert {j.env_id for j in jobs} == set(COMPARISON_BUDGETS)
    for job in jobs:
        assert job.total_timesteps == chosen[job.env_id]["budget"]
        assert (job.settings["n_envs"], job.settings["algo_kwargs"]) == (
            pilot[job.env_id].settings["n_envs"], pilot[job.env_id].settings["algo_kwargs"])
