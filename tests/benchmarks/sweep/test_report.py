"""The report on hand-made run directories, against hand-computed numbers."""

import json
import math

import numpy as np
import pytest

from benchmarks.sweep.report import report

HEADER = "timesteps,episode_return,episode_length,success,intrinsic_return\n"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make_run(out, env_id, method, seed, final_return, success, steps, curve=None, visitation=None, last=0.0):
    run = out / "runs" / env_id / method / f"seed{seed}"
    run.mkdir(parents=True)
    rows = curve if curve is not None else [(100, final_return), (200, final_return)]
    (run / "curve.csv").write_text(HEADER + "".join(f"{t},{r},100,0,0.0\n" for t, r in rows))
    if visitation is not None:
        np.savez(run / "visitation.npz", hist=visitation, xedges=np.array([-1.2, -0.3, 0.6]),
                 yedges=np.array([-0.07, 0.0, 0.07]))
    record = {"run_id": f"{env_id}/{method}/seed{seed}",
              "job": {"env_id": env_id, "method": method, "seed": seed, "total_timesteps": 5000},
              "metrics": {"final_return": final_return, "success": success, "steps_to_first_success": steps,
                          "success_rate_last": last}}
    (run / "result.json").write_text(json.dumps(record))
    return run


@pytest.fixture
def sweep(tmp_path):
    car, cheetah = "SparseMountainCar-v0", "SparseHalfCheetah-v0"
    for seed, (ret, ok, steps) in enumerate([(0.0, False, None), (0.0, False, None), (0.3, True, 4000)]):
        make_run(tmp_path, car, "none", seed, ret, ok, steps, visitation=np.array([[1.0, 0.0], [0.0, 0.0]]))
    for seed, (ret, ok, steps, last) in enumerate([(1.0, True, 1000, 1.0), (2.0, True, 3000, 0.6),
                                                   (3.0, False, None, 0.0), (6.0, True, 2000, 0.4)]):
        make_run(tmp_path, car, "vime", seed, ret, ok, steps, visitation=np.array([[0.0, 1.0], [2.0, 0.0]]),
                 last=last)
    # unfinished runs: partial files, a truncated result.json, an error: never counted
    partial = tmp_path / "runs" / car / "vime" / "seed4"
    partial.mkdir()
    (partial / "curve.csv").write_text(HEADER + "100,-999,100,0,0.0\n")
    truncated = make_run(tmp_path, car, "vime", 5, -999.0, True, 1, visitation=np.full((2, 2), 99.0))
    (truncated / "result.json").write_text('{"run_id": "x", "metrics": {"final_ret')
    failed = tmp_path / "runs" / car / "vime" / "seed6"
    failed.mkdir()
    (failed / "error.txt").write_text("Traceback (most recent call last):\nValueError: boom\n")
    make_run(tmp_path, cheetah, "vime", 0, 237.0, True, 50_000)
    return tmp_path


def test_summary_matches_hand_computed_numbers(sweep):
    summary = report(sweep, plots=False)
    assert json.loads((sweep / "summary.json").read_text()) == summary
    none = summary["SparseMountainCar-v0"]["none"]
    assert none["n_seeds"] == 3 and none["success_rate"] == pytest.approx(1 / 3)
    assert none["final_return_mean"] == pytest.approx(0.1)
    # deviations -0.1, -0.1, 0.2: variance (0.01 + 0.01 + 0.04) / 2 = 0.03, sem = sqrt(0.03 / 3) = 0.1
    assert none["final_return_sem"] == pytest.approx(0.1)
    assert none["steps_to_first_success_median"] == 4000
    vime = summary["SparseMountainCar-v0"]["vime"]
    assert vime["n_seeds"] == 4 and vime["success_rate"] == 0.75 and vime["final_return_mean"] == 3.0
    # deviations -2, -1, 0, 3: variance 14 / 3, sem = sqrt(14 / 3) / 2
    assert vime["final_return_sem"] == pytest.approx(math.sqrt(14 / 3) / 2)
    assert vime["steps_to_first_success_median"] == 2000  # median of 1000, 3000, 2000 (seed 2 failed)
    # seed 2 never found it: it counts as the 5,000-step budget; median of 1000, 2000, 3000, 5000
    assert vime["steps_to_first_success_censored_median"] == 2500
    assert none["steps_to_first_success_censored_median"] == 5000  # 5000, 5000, 4000
    assert (vime["n_found"], vime["n_holding"], none["n_found"], none["n_holding"]) == (3, 2, 1, 0)
    # Fisher exact by hand (hypergeometric, 7 seeds): finding 3/4 vs 1/3: P(k) = C(4,k)C(3,4-k)/35 for k=1..4
    # = 4, 18, 12, 1 (/35); two-sided p sums those <= P(3): (4 + 12 + 1) / 35
    assert vime["p_found"] == pytest.approx(17 / 35)
    # holding 2/4 vs 0/3: P(k) = C(4,k)C(3,2-k)/21 = 3, 12, 6 (/21); p = (3 + 6) / 21
    assert vime["p_holding"] == pytest.approx(9 / 21)
    assert "p_found" not in none  # the baseline is not tested against itself
    # the paper's targets: 5000 / 2500 = 2x sooner; (3 - 0.1) / sqrt(0.1^2 + 14/12) standard errors
    assert vime["steps_factor"] == 2.0
    assert vime["final_return_diff_se"] == pytest.approx(2.9 / math.sqrt(0.01 + 14 / 12))
    assert "steps_factor" not in none
    # visits summed over seeds: none reaches 1 of the 4 cells, vime 2 (the truncated run's 99s not counted)
    assert (none["visited_cell_fraction"], vime["visited_cell_fraction"]) == (0.25, 0.5)
    assert none["visitation_span"] == vime["visitation_span"] == "whole runs"
    cheetah = summary["SparseHalfCheetah-v0"]["vime"]
    assert cheetah == {"success_rate": 1.0, "final_return_mean": 237.0, "final_return_sem": None,
                       "steps_to_first_success_median": 50_000, "n_seeds": 1, "n_success": 1, "seeds": [0],
                       "n_found": 1, "n_holding": 0, "steps_to_first_success_censored_median": 50_000,
                       "budget": 5000}
    assert list(summary) == ["SparseHalfCheetah-v0", "SparseMountainCar-v0"]
    assert list(summary["SparseMountainCar-v0"]) == ["none", "vime"]


def test_report_markdown_and_plots(sweep):
    report(sweep)
    text = (sweep / "report.md").read_text()
    assert "| none | 1/3 | 0/3 | 0.1 ± 0.1 | 5000 (4000) | – |" in text
    # returns 1, 2, 3, 6 all above 0, 0, 0.3: the most extreme of C(7, 3) = 35 splits, two-sided p = 2 / 35
    # steps (never = 5000): vime 1000, 3000, 5000, 2000 against 5000, 5000, 4000: two-sided exact p = 8 / 35
    # (scipy.stats.permutation_test of the U statistic over all 35 splits gives the same)
    assert "| vime | 3/4 | 2/4 | 3 ± 1.08 | 2500 (2000) | 0.486, 0.429, 0.0571, 0.229 |" in text
    assert "Against `vime`" not in text  # no other bonus
    assert "standard errors of the difference): vime 2.00x sooner, +2.67 SE." in text
    assert "`SparseMountainCar-v0/vime/seed6`: ValueError: boom" in text
    for name in ("curves_SparseMountainCar-v0.png", "curves_SparseHalfCheetah-v0.png",
                 "visitation_SparseMountainCar-v0.png"):
        assert (sweep / name).read_bytes()[:8] == PNG_MAGIC and f"({name})" in text
    assert not (sweep / "visitation_SparseHalfCheetah-v0.png").exists()  # no visitation.npz there
    assert "## Notes" not in text


def test_every_bonus_is_tested_against_vime(tmp_path):
    car = "SparseMountainCar-v1"
    for seed in (0, 1):
        make_run(tmp_path, car, "none", seed, 0.0, False, None)
        make_run(tmp_path, car, "vime", seed, 1.0 + seed, True, 1000 * (seed + 1), last=1.0)
        make_run(tmp_path, car, "rnd", seed, 0.0, False, None)
    summary = report(tmp_path, plots=False)[car]
    # 0 of 2 against 2 of 2 seeds: the tables k = 0, 1, 2 have probabilities 1/6, 4/6, 1/6, so p = 2/6; and
    # complete separation of two pairs of values (steps 5000, 5000 against 1000, 2000): 2 of C(4, 2) splits
    assert summary["rnd"]["vs_vime"] == pytest.approx(
        {"p_found": 1 / 3, "p_holding": 1 / 3, "p_final_return": 1 / 3, "p_steps": 1 / 3})
    assert "vs_vime" not in summary["none"] and "vs_vime" not in summary["vime"]
    # VIME has found it in both seeds (>= 80%) from step 2000, no bonus in none of its seeds up to the budget
    assert summary["vime"]["separation"] == [2000, 5000] and summary["rnd"]["separation"] is None
    assert json.loads((tmp_path / "summary.json").read_text()) == {car: summary}
    text = (tmp_path / "report.md").read_text()
    assert "at most 20% of `none`'s: vime 2,000 to 5,000; rnd never." in text
    assert "| rnd | 0/2 / 2/2 | 5000 / 1500 | 0.333, 0.333, 0.333, 0.333 |" in text
    assert ("bonuses finding the reward sooner than `vime` (median steps, 1,500): none; holding it in more "
            "of their seeds (2/2): none; losing it (found, not holding at the end) in more seeds than "
            "holding it: none.") in text


def test_comparison_targets_name_the_bonuses_that_beat_vime_or_lose_the_reward(tmp_path):
    car = "SparseMountainCar-v1"
    for seed in (0, 1):
        make_run(tmp_path, car, "none", seed, 0.0, False, None)
        make_run(tmp_path, car, "vime", seed, 1.0, True, 1000 * (seed + 1), last=1.0)  # median 1500
        make_run(tmp_path, car, "rnd", seed, 0.0, True, 500 + 100 * seed, last=0.0)  # median 550, then lost
        make_run(tmp_path, car, "icm", seed, 1.0, True, 2000, last=0.5)  # holding at exactly 0.5
    report(tmp_path, plots=False)
    text = (tmp_path / "report.md").read_text()
    assert ("sooner than `vime` (median steps, 1,500): rnd (550); holding it in more of their seeds (2/2): "
            "none; losing it (found, not holding at the end) in more seeds than holding it: rnd (lost in 2, "
            "holding in 0).") in text


def test_hand_written_notes_are_appended(sweep):
    (sweep / "notes.md").write_text("The no-bonus target was missed: 2 of 5 seeds.\n")
    report(sweep, plots=False)
    text = (sweep / "report.md").read_text()
    assert "## Notes\n\nThe no-bonus target was missed: 2 of 5 seeds." in text


def test_every_sweep_command_is_listed(sweep):
    (sweep / "command.txt").write_text("curiosity bench run s --tasks B\n")
    (sweep / "commands.log").write_text("2026-01-01T00:00:00\t/w\tcuriosity bench run s --tasks A\n"
                                        "2026-01-02T00:00:00\t/w\tcuriosity bench run s --tasks B\n")
    report(sweep, plots=False)
    text = (sweep / "report.md").read_text()
    assert "# 2026-01-01T00:00:00\ncuriosity bench run s --tasks A\n# 2026-01-02T00:00:00\n" in text


def test_no_runs_directory_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no runs/ directory"):
        report(tmp_path)


def _png_size(path):
    header = path.read_bytes()[16:24]  # IHDR: width, height as big-endian 32-bit integers
    return int.from_bytes(header[:4], "big"), int.from_bytes(header[4:], "big")


def test_visitation_figure_wraps_into_rows_of_three(tmp_path):
    car = "SparseMountainCar-v0"
    one_row = tmp_path / "two_methods"
    for method in ("none", "vime"):
        make_run(one_row, car, method, 0, 0.0, False, None, visitation=np.eye(2))
    two_rows = tmp_path / "five_methods"
    for method in ("none", "vime", "rnd", "icm", "simhash"):
        make_run(two_rows, car, method, 0, 0.0, False, None, visitation=np.eye(2))
    report(one_row)
    report(two_rows)
    width2, height2 = _png_size(one_row / f"visitation_{car}.png")
    width5, height5 = _png_size(two_rows / f"visitation_{car}.png")
    # 4.2 x 3.6 inches a panel at 110 dpi: two panels side by side; five as 3 + 2 in two rows
    assert (width2, height2) == (round(2 * 4.2 * 110), round(3.6 * 110))
    assert (width5, height5) == (round(3 * 4.2 * 110), round(2 * 3.6 * 110))


def test_tables_follow_the_suites_method_order_whatever_the_latest_sweep_ran(tmp_path):
    car = "SparseMountainCar-v0"
    for method in ("simhash", "custom", "rnd", "none", "disagreement", "vime", "icm"):
        make_run(tmp_path, car, method, 0, 0.0, False, None)
    (tmp_path / "suite.json").write_text(json.dumps([{"method": m} for m in ("simhash", "rnd")]))
    summary = report(tmp_path, plots=False)
    # vime-sparse-v0 declares none, vime, rnd, icm, disagreement, simhash; unknown methods come last
    assert list(summary[car]) == ["none", "vime", "rnd", "icm", "disagreement", "simhash", "custom"]


def test_corrupt_run_files_are_named_and_skipped(tmp_path, caplog):
    """A corrupt visitation.npz, curve.csv or result.json leaves out that file (or run), not the report."""
    car = "SparseMountainCar-v0"
    good = make_run(tmp_path, car, "vime", 0, 1.0, True, 1000, visitation=np.array([[1.0, 0.0], [0.0, 2.0]]))
    bad_npz = make_run(tmp_path, car, "vime", 1, 3.0, True, 2000, visitation=np.ones((2, 2)))
    (bad_npz / "visitation.npz").write_bytes((bad_npz / "visitation.npz").read_bytes()[:40])  # truncated
    (bad_npz / "curve.csv").write_text(HEADER + "100,not-a-number,100,0,0.0\n")
    odd = make_run(tmp_path, car, "vime", 2, 5.0, True, 3000)
    (odd / "result.json").write_text(json.dumps({"run_id": "x", "job": "?", "metrics": {}}))  # valid JSON
    with caplog.at_level("WARNING", logger="benchmarks.sweep.report"):
        summary = report(tmp_path)
    vime = summary[car]["vime"]
    assert vime["n_seeds"] == 2 and vime["final_return_mean"] == pytest.approx(2.0)  # seeds 0 and 1
    for path in (bad_npz / "visitation.npz", bad_npz / "curve.csv", odd):
        assert str(path) in caplog.text
    assert (tmp_path / f"visitation_{car}.png").read_bytes().startswith(PNG_MAGIC)  # seed 0's alone
    assert (tmp_path / f"curves_{car}.png").exists() and good.exists()


def test_a_result_without_its_budget_is_named_and_left_out(tmp_path, caplog):
    # the censored statistics need each run's budget: a record without it is left out, not a crash
    car = "SparseMountainCar-v0"
    make_run(tmp_path, car, "vime", 0, 1.0, True, 1000)
    odd = make_run(tmp_path, car, "vime", 1, 5.0, False, None)
    record = json.loads((odd / "result.json").read_text())
    del record["job"]["total_timesteps"]
    (odd / "result.json").write_text(json.dumps(record))
    with caplog.at_level("WARNING", logger="benchmarks.sweep.report"):
        summary = report(tmp_path, plots=False)
    assert summary[car]["vime"]["n_seeds"] == 1 and str(odd) in caplog.text
