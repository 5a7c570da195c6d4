"""The eta choice against hand-ranked fake grid results."""

import json

import pytest

from benchmarks.sweep.eta_decay import Args as EtaDecayArgs
from benchmarks.sweep.eta_decay import main as eta_decay_main
from benchmarks.sweep.eta_decay import pair_runs, sign_test_p, success_by_tenth
from benchmarks.sweep.eta_grid import choose, markdown
from benchmarks.sweep.jobs import expand
from benchmarks.sweep.suites import ETA_GRID, grid_method


def write_run(out, bonus, eta, seed, steps, last, final_return, budget=300):
    method = grid_method(bonus, eta)
    run = out / "runs" / "SparseMountainCar-v1" / method / f"seed{seed}"
    run.mkdir(parents=True)
    record = {"run_id": f"SparseMountainCar-v1/{method}/seed{seed}",
              "job": {"env_id": "SparseMountainCar-v1", "method": method, "seed": seed, "bonus": bonus,
                      "total_timesteps": budget, "settings": {"eta": eta}},
              "metrics": {"success": steps is not None, "steps_to_first_success": steps,
                          "success_rate_last": last, "final_return": final_return}}
    (run / "result.json").write_text(json.dumps(record))


def test_the_rule_ranks_holding_then_steps_then_return(tmp_path):
    # rnd: eta 1e-3 finds it sooner (median of 50, 60, 300 = 60) but holds it in 2 seeds; 1e-2 in 3 -> 1e-2
    for seed, steps in enumerate([50, 60, None]):
        write_run(tmp_path, "rnd", 1e-3, seed, steps, 1.0 if steps else 0.0, 0.5)
    for seed, steps in enumerate([100, 100, 100]):
        write_run(tmp_path, "rnd", 1e-2, seed, steps, 1.0, 1.0)
    # e3b: both hold in every seed; 1e-2 finds it sooner -> 1e-2
    for eta, steps in ((1e-4, 200), (1e-2, 100)):
        for seed in range(3):
            write_run(tmp_path, "e3b", eta, seed, steps, 1.0, 1.0)
    # icm: equal steps (median 100); 1e-4 holds in 2 seeds, 1e-2 in 1 -> 1e-4
    for seed, last in enumerate([1.0, 1.0, 0.0]):
        write_run(tmp_path, "icm", 1e-4, seed, 100, last, 0.2)
    for seed, last in enumerate([1.0, 0.0, 0.0]):
        write_run(tmp_path, "icm", 1e-2, seed, 100, last, 0.9)
    # vime: a full tie except the return -> the higher return (1e-2)
    for eta, ret in ((1e-4, 0.3), (1e-2, 0.4)):
        for seed in range(3):
            write_run(tmp_path, "vime", eta, seed, 10, 1.0, ret)
    choice = choose(tmp_path, partial=True)  # each bonus has two of the three etas here
    assert {b: c["eta"] for b, c in choice.items()} == {"e3b": 1e-2, "icm": 1e-4, "rnd": 1e-2, "vime": 1e-2}
    assert choice["rnd"]["scores"]["0.001"]["steps_median"] == 60
    assert "| rnd | 0.001 | 60 | 2/3 | 2/3 | 0.5 |" in markdown(choice)
    assert "| rnd | **0.01** | 100 | 3/3 | 3/3 | 1 |" in markdown(choice)


def test_no_runs_is_an_error(tmp_path):
    (tmp_path / "runs").mkdir()
    with pytest.raises(FileNotFoundError, match="no finished run"):
        choose(tmp_path)


def test_the_grid_suite_gives_every_bonus_every_eta():
    jobs = expand("eta-grid", 1)
    etas = {}
    for job in jobs:
        etas.setdefault(job.bonus, set()).add(job.settings["eta"])
    assert etas.pop("none") == {0.0}
    assert len(etas) == 9 and all(found == set(ETA_GRID) for found in etas.values())
    assert {job.env_id for job in jobs} == {"SparseMountainCar-v1"}


def test_an_incomplete_grid_is_refused_unless_partial(tmp_path):
    for eta in (1e-4, 1e-3):
        for seed in range(3):
            write_run(tmp_path, "rnd", eta, seed, 100, 1.0, 1.0)
    for seed in range(2):  # seed 2 still running
        write_run(tmp_path, "icm", 1e-4, seed, 10, 1.0, 1.0)
    unfinished = r"icm at eta 0.0001: seeds \[2\]; icm at eta 0.001: seeds \[0, 1, 2\]"
    with pytest.raises(ValueError, match=unfinished):
        choose(tmp_path)
    assert choose(tmp_path, partial=True)["icm"]["eta"] == 1e-4


def test_the_decay_check_pairs_with_the_grid():
    grid = {(j.method, j.seed): j for j in expand("eta-grid")}
    decay = expand("eta-decay")
    assert len(decay) == 5 * 3
    for job in decay:
        twin = grid[(job.method.removesuffix("-linear"), job.seed)]  # the constant-eta run of the grid
        assert job.settings["eta_schedule"] == "linear" and "eta_schedule" not in twin.settings
        assert {k: v for k, v in job.settings.items() if k != "eta_schedule"} == twin.settings
        assert (job.env_id, job.total_timesteps, job.bonus) == (twin.env_id, twin.total_timesteps, twin.bonus)


def write_decay_run(out, bonus, eta, seed, steps, last, budget=300):
    write_run(out, bonus, eta, seed, steps, last, last, budget)
    constant = out / "runs" / "SparseMountainCar-v1" / grid_method(bonus, eta)
    linear = constant.with_name(constant.name + "-linear")
    linear.mkdir(exist_ok=True)
    (constant / f"seed{seed}").rename(linear / f"seed{seed}")
    record = json.loads((linear / f"seed{seed}" / "result.json").read_text())
    record["job"]["method"] += "-linear"
    record["run_id"] = f"SparseMountainCar-v1/{linear.name}/seed{seed}"
    (linear / f"seed{seed}" / "result.json").write_text(json.dumps(record))


def test_exact_sign_test_by_hand():
    # 5 discordant pairs split 5-0: 2 * (1/2)^5; 4-1: 2 * (1 + 5) / 32; 1-1: the whole distribution
    assert sign_test_p(5, 0) == pytest.approx(2 / 32)
    assert sign_test_p(1, 4) == pytest.approx(12 / 32)
    assert sign_test_p(1, 1) == 1.0 and sign_test_p(0, 0) == 1.0
    with pytest.raises(ValueError, match=">= 0"):
        sign_test_p(-1, 2)


def test_decay_runs_pair_with_their_constant_twins(tmp_path):
    grid, decay = tmp_path / "grid", tmp_path / "decay"
    # constant eta: found in all 3 seeds, held in seed 0 only; linear: found in seeds 0, 1, held in both
    for seed, last in enumerate([1.0, 0.0, 0.2]):
        write_run(grid, "icm", 1.0, seed, 100 + seed, last, last)
    for seed, (steps, last) in enumerate([(90, 1.0), (120, 0.9), (None, 0.0)]):
        write_decay_run(decay, "icm", 1.0, seed, steps, last)
    write_decay_run(decay, "vime", 0.1, 0, 50, 1.0)  # no twin in the grid: left out
    result = eta_decay_main(EtaDecayArgs(decay=str(decay), grid=str(grid)))
    icm = result["icm-eta1"]
    assert icm["seeds"] == [0, 1, 2]
    assert icm["constant"] == {"n_found": 3, "n_holding": 1, "steps_median": 101.0}
    # seed 2 never found it: it counts as the 300-step budget; median of 90, 120, 300
    assert icm["linear"] == {"n_found": 2, "n_holding": 2, "steps_median": 120.0}
    # discordant seeds: seed 1 held only with the decaying eta; no seed only with the constant one
    assert (icm["holding_only_linear"], icm["holding_only_constant"], icm["p_holding"]) == (1, 0, 1.0)
    assert set(result) == {"icm-eta1", "all pairs, every seed (biased: includes the selection seeds)",
                           "all pairs, held-out seeds"}
    # seed 0 chose the pairs: the pooled test to read leaves it out
    assert result["all pairs, held-out seeds"]["seeds"] == [1, 2]
    assert result["all pairs, held-out seeds"]["constant"]["n_holding"] == 0  # seed 0 was the constant's hold
    assert "| icm-eta1 | 3 | 3/3 / 2/3 | 1/3 / 2/3 | 101 / 120 | 1 |" in (decay / "eta_decay.md").read_text()
    assert json.loads((decay / "eta_decay.json").read_text()) == result
    with pytest.raises(FileNotFoundError, match="no finished"):
        pair_runs(grid, grid)


def write_curve(run, episodes):
    """``episodes``: (step the episode ended, reached the reward) pairs."""
    rows = ["timesteps,episode_return,episode_length,success,intrinsic_return"]
    rows += [f"{step},{float(reached)},1,{int(reached)},nan" for step, reached in episodes]
    (run / "curve.csv").write_text("\n".join(rows) + "\n")


def test_success_by_tenth_counts_each_episode_in_the_tenth_it_ends(tmp_path):
    write_run(tmp_path, "icm", 1.0, 0, 5, 0.5, 0.5, budget=100)
    run = tmp_path / "runs" / "SparseMountainCar-v1" / "icm-eta1" / "seed0"
    assert success_by_tenth(run, 100) is None  # no curve
    # tenth 1 (steps 0-9): 1 of 2; tenth 2: 1 of 1; none end in tenths 3-9; tenth 10: 1 of 2 (the last one
    # ends past the budget, in the last tenth)
    write_curve(run, [(5, True), (9, False), (15, True), (95, False), (104, True)])
    assert success_by_tenth(run, 100) == [0.5, 1.0] + [None] * 7 + [0.5]


def test_an_unreadable_curve_is_left_out_of_the_tenths_and_named(tmp_path, caplog):
    run = tmp_path / "run"
    run.mkdir()
    (run / "curve.csv").write_text("timesteps,episode_return\n5,1.0\n")  # no success column
    assert success_by_tenth(run, 100) is None
    assert "curve.csv is unreadable (KeyError: 'success')" in caplog.text


def test_the_decay_table_shows_how_each_schedule_loses_the_reward(tmp_path):
    grid, decay = tmp_path / "grid", tmp_path / "decay"
    for seed in range(2):
        write_run(grid, "ngu", 1.0, seed, 10, 0.0, 0.0, budget=100)
        write_decay_run(decay, "ngu", 1.0, seed, 10, 0.0, budget=100)
        steps = [10 * k + 5 for k in range(10)]
        # constant: reaches it in the first half only; linear: in seed 0 until 30%, in seed 1 until 50%
        write_curve(grid / "runs" / "SparseMountainCar-v1" / "ngu-eta1" / f"seed{seed}",
                    [(step, step < 50) for step in steps])
        write_curve(decay / "runs" / "SparseMountainCar-v1" / "ngu-eta1-linear" / f"seed{seed}",
                    [(step, step < 30 + 20 * seed) for step in steps])
    result = eta_decay_main(EtaDecayArgs(decay=str(decay), grid=str(grid)))
    rates = result["ngu-eta1"]["success_by_tenth"]
    assert rates["constant"] == [1.0] * 5 + [0.0] * 5
    assert rates["linear"] == [1.0, 1.0, 1.0, 0.5, 0.5] + [0.0] * 5
    assert "success_by_tenth" not in result["all pairs, held-out seeds"]
    row = "| ngu-eta1 | linear | 1.00 | 1.00 | 1.00 | 0.50 | 0.50 | 0.00 | 0.00 | 0.00 | 0.00 | 0.00 |"
    assert row in (decay / "eta_decay.md").read_text()
