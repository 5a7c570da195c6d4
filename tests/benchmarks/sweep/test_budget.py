"""The pilot's budget rule against curves whose flat points are worked out by hand."""

import json

import numpy as np
import pytest

from benchmarks.sweep.budget import Args, choose_budget, flat_point, main, window_means

BUDGET = 2_000  # 20 windows of 100 steps


def test_window_means_put_each_episode_in_the_window_it_ended_in():
    # episodes ending at steps 100 (window 0), 150 and 200 (window 1), 2000 (the last); windows 2.. carry 3.0
    means = window_means(np.array([100, 150, 200, 2000]), np.array([1.0, 2.0, 4.0, 9.0]), BUDGET)
    assert means[0] == 1.0 and means[1] == 3.0
    assert np.all(means[2:19] == 3.0) and means[19] == 9.0


def test_a_curve_that_never_moves_is_flat_from_the_start():
    assert flat_point(np.zeros(20), BUDGET) == (0, False)


def test_a_step_is_flat_from_the_window_after_it():
    # 0 in windows 0-7, 10 from window 8: plateau 10, range 10, threshold 9 -> flat from window 8 = step 800
    means = np.r_[np.zeros(8), np.full(12, 10.0)]
    assert flat_point(means, BUDGET) == (800, False)
    # 1.25 x 800 = 1000, a whole window already
    assert choose_budget([0, 800], False, BUDGET) == 1000


def test_a_dip_below_the_plateau_late_in_the_run_moves_the_flat_point():
    # a rise at window 3 and a dip back to 5 in window 12
    means = np.r_[np.full(3, 5.0), np.full(17, 10.0)]
    means[12] = 5.0
    # plateau 10, range 5, threshold 9.5: windows 0-2 and 12 fall below -> flat from window 13 = step 1300
    assert flat_point(means, BUDGET) == (1300, False)
    # 1.25 x 1300 = 1625 -> rounded up to 1700, under the pilot's 2000
    assert choose_budget([1300], False, BUDGET) == 1700
    # past the pilot: capped
    assert choose_budget([1900], False, BUDGET) == BUDGET


def test_a_curve_rising_to_the_end_keeps_the_whole_pilot():
    means = np.linspace(0.0, 19.0, 20)  # plateau 17.5, range 19: last two windows 18.5 vs 16.5 -> rising
    step, rising = flat_point(means, BUDGET)
    assert rising
    assert choose_budget([step], rising, BUDGET) == BUDGET


def write_run(out, method, returns):
    run = out / "runs" / "Task-v1" / method / "seed0"
    run.mkdir(parents=True)
    record = {"run_id": f"Task-v1/{method}/seed0", "metrics": {},
              "job": {"env_id": "Task-v1", "method": method, "seed": 0, "total_timesteps": BUDGET}}
    (run / "result.json").write_text(json.dumps(record))
    rows = [f"{100 * (k + 1)},{r},100,0,0" for k, r in enumerate(returns)]
    (run / "curve.csv").write_text("timesteps,episode_return,episode_length,success,intrinsic_return\n"
                                   + "\n".join(rows) + "\n")


def test_main_takes_the_latest_flat_point_over_the_runs(tmp_path):
    write_run(tmp_path, "none", [0.0] * 20)
    write_run(tmp_path, "vime", [0.0] * 6 + [10.0] * 14)  # flat from window 6 = step 600
    result = main(Args(pilot=str(tmp_path)))
    task = result["Task-v1"]
    assert task["runs"]["Task-v1/none/seed0"]["flat_from"] == 0
    assert task["runs"]["Task-v1/vime/seed0"]["flat_from"] == 600
    assert task["budget"] == 800  # 1.25 x 600 = 750 -> 800
    assert json.loads((tmp_path / "budget.json").read_text())["Task-v1"]["budget"] == 800
    assert "800 of 2,000" in (tmp_path / "budget.md").read_text()


def test_bad_input_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no finished run"):
        main(Args(pilot=str(tmp_path)))
    with pytest.raises(ValueError, match="no finished episode"):
        window_means(np.array([]), np.array([]), BUDGET)
    with pytest.raises(ValueError, match="budget must be positive"):
        window_means(np.array([1]), np.array([1.0]), 0)
    with pytest.raises(ValueError, match="20 finite window means"):
        flat_point(np.zeros(10), BUDGET)
    with pytest.raises(ValueError, match="20 finite window means"):
        flat_point(np.r_[np.zeros(19), np.nan], BUDGET)
    with pytest.raises(ValueError, match="at least one flat point"):
        choose_budget([], False, BUDGET)
    with pytest.raises(ValueError, match="positive pilot budget"):
        choose_budget([100], False, 0)
