"""Exploration statistics against brute-force references."""

import itertools
import math

import numpy as np
import pytest

from benchmarks.sweep.stats import (
    censored_median,
    comparison_targets,
    fisher_p,
    found_fraction,
    mann_whitney_p,
    paper_targets,
    separation,
)


def brute_force_mann_whitney(a, b):
    """Two-sided p from every split of the pooled values: twice the smaller tail of U's distribution."""
    pooled = list(a) + list(b)

    def u(first, second):
        return sum((x > y) + 0.5 * (x == y) for x in first for y in second)

    observed = u(a, b)
    values = []
    for chosen in itertools.combinations(range(len(pooled)), len(a)):
        first = [pooled[i] for i in chosen]
        second = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        values.append(u(first, second))
    values = np.array(values)
    below, above = np.mean(values <= observed + 1e-9), np.mean(values >= observed - 1e-9)
    return min(1.0, 2 * min(below, above))


@pytest.mark.parametrize(("a", "b"), [
    ([1.0, 2.0, 3.0, 6.0], [0.0, 0.0, 0.3]),
    ([0.0, 0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0, 0.0]),  # a sparse task: ties everywhere
    ([5.0, 1.0, 4.0, 2.0], [3.0, 2.0, 6.0, 0.5, 2.0]),
    ([10.0], [1.0, 2.0, 3.0]),  # one seed a method (a pilot): scipy's permutation test refuses these
    ([2.0], [2.0, 0.0, 5.0]),
    ([0.0], [7.0]),
])
def test_mann_whitney_matches_the_permutation_distribution(a, b):
    assert mann_whitney_p(a, b) == pytest.approx(brute_force_mann_whitney(a, b))


def test_mann_whitney_of_identical_samples_is_one():
    assert mann_whitney_p([0.0, 0.0], [0.0, 0.0, 0.0]) == 1.0
    assert mann_whitney_p([], [1.0]) == 1.0


def test_fisher_matches_the_hypergeometric_sum():
    # 5/5 against 0/5: P(k) = C(5,k) C(5,5-k) / C(10,5); only k = 0 and k = 5 are as extreme
    assert fisher_p(5, 5, 0, 5) == pytest.approx(2 / math.comb(10, 5))
    assert fisher_p(2, 5, 2, 5) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="counts must lie"):
        fisher_p(6, 5, 0, 5)


def test_found_fraction_steps_up_at_each_first_reward():
    records = [{"metrics": {"success": s is not None, "steps_to_first_success": s},
                "job": {"total_timesteps": 100}} for s in (10, 50, None, 50)]
    np.testing.assert_array_equal(found_fraction(records, np.array([0, 10, 49, 50, 100])),
                                  [0, 0.25, 0.25, 0.75, 0.75])


def _runs(first_steps, budget=100):
    return [{"job": {"total_timesteps": budget},
             "metrics": {"success": t is not None, "steps_to_first_success": t}} for t in first_steps]


def brute_force_separation(mine, theirs, found=0.8, baseline_found=0.2, budget=100):
    """Every integer step checked: the first and one past the last at which the fractions separate."""
    def fraction(steps, t):
        return sum(s is not None and s <= t for s in steps) / len(steps)

    good = [t for t in range(budget + 1)
            if fraction(mine, t) >= found - 1e-12 and fraction(theirs, t) <= baseline_found + 1e-12]
    return None if not good else (good[0], good[-1] + 1 if good[-1] < budget else budget)


@pytest.mark.parametrize(("mine", "theirs"), [
    ([10, 20, 30, 40, 50], [None] * 5),  # 80% at 40; the baseline never finds it: up to the budget
    ([10, 20, 30, 40, 50], [5, 60, None, None, None]),  # the baseline's second seed ends it at 60
    ([10, 20, 30, 40, 50], [5, 35, None, None, None]),  # the baseline passes 20% before 80% is reached
    ([10, 20, 30, None, None], [None] * 5),  # never 80%
    ([3, 7, 9, 11, 12, 15, 80, None, None, None], [1, 2, 50, 90, None, None, None, None, None, None]),
    ([1, 2, 3, 4], [None, None, None]),  # 3 baseline seeds: 20% allows none of them
])
def test_separation_matches_a_step_by_step_scan(mine, theirs):
    assert separation(_runs(mine), _runs(theirs)) == brute_force_separation(mine, theirs)


def kaplan_meier_median(first_steps, budget=100):
    """Scan the survival curve S(t) = share of seeds yet to find the reward: the first step where it falls
    below one half; where it rests at exactly one half, the midpoint to the next first reward (none: that
    step); the budget if it never reaches one half."""
    events = sorted(t for t in first_steps if t is not None)
    for k, t in enumerate(events):
        survival = 1 - (k + 1) / len(first_steps)
        if survival < 0.5 - 1e-12:
            return t
        if abs(survival - 0.5) < 1e-12:
            return (t + events[k + 1]) / 2 if k + 1 < len(events) else t
    return budget


@pytest.mark.parametrize("first_steps", [
    [30, 10, 20], [10, 20, 30, 40], [10, None], [10, 20, None, None], [None, None], [10, 10, None, None],
    [5, None, None, None], [40, 30, None], [7, None, 3, 9, None, None], [50],
])
def test_censored_median_is_the_kaplan_meier_median(first_steps):
    assert censored_median(_runs(first_steps)) == kaplan_meier_median(first_steps)


def test_censored_median_of_nothing_is_none():
    assert censored_median([]) is None


def test_separation_rejects_fractions_outside_0_1():
    with pytest.raises(ValueError, match=r"fractions in \[0, 1\], got 80, 0.2"):
        separation(_runs([1]), _runs([None]), found=80)


def _returns(first_steps, returns, budget=100):
    return [{**run, "metrics": {**run["metrics"], "final_return": ret}}
            for run, ret in zip(_runs(first_steps, budget), returns, strict=True)]


def test_paper_targets_by_hand():
    # medians with never = 100: method 10, 20, 30 -> 20; baseline 50, 100, 100 -> 100: 5x sooner
    # returns 4, 6, 8 (mean 6, sd 2, sem 2/sqrt 3) against 1, 1, 4 (mean 2, sd sqrt 3, sem 1): 4 / sqrt(7/3)
    targets = paper_targets(_returns([10, 20, 30], [4, 6, 8]), _returns([50, None, None], [1, 1, 4]))
    assert targets["steps_factor"] == pytest.approx(5.0)
    assert targets["final_return_diff_se"] == pytest.approx(4 / math.sqrt(4 / 3 + 1))


def test_paper_targets_undefined_without_spread_or_a_second_seed():
    tied = paper_targets(_returns([20, 20], [1, 1]), _returns([None, None], [1, 1]))
    assert tied == {"steps_factor": 5.0, "final_return_diff_se": None}  # 100 / 20; no spread in either
    one_seed = paper_targets(_returns([10], [3]), _returns([None, None], [0, 1]))
    assert one_seed["final_return_diff_se"] is None and one_seed["steps_factor"] == 10.0


def _entry(n_seeds, n_found, n_holding, median):
    return {"n_seeds": n_seeds, "n_found": n_found, "n_holding": n_holding,
            "steps_to_first_success_censored_median": median}


def test_comparison_targets_by_hand():
    methods = {
        "none": _entry(5, 5, 0, 50.0),  # no bonus: sooner and losing, but never part of the claims
        "vime": _entry(5, 5, 2, 100.0),  # lost in 3 seeds, holding in 2: losing
        "rnd": _entry(5, 5, 5, 80.0),  # sooner; holds in 5/5 > 2/5
        "icm": _entry(5, 3, 1, 100.0),  # a tie is not sooner; lost in 2 > holding in 1
        "e3b": _entry(4, 2, 1, 150.0),  # 1/4 < 2/5; lost in 1 = holding in 1: not losing
        "ride": _entry(2, 1, 1, 120.0),  # 1/2 > 2/5: a fraction, though fewer seeds
    }
    assert comparison_targets(methods) == {"sooner": ["rnd"], "holding_more": ["rnd", "ride"],
                                           "losing": ["vime", "icm"]}


def test_comparison_targets_need_vime_and_another_bonus():
    assert comparison_targets({"none": _entry(3, 0, 0, 9.0), "vime": _entry(3, 1, 1, 5.0)}) is None
    assert comparison_targets({"none": _entry(3, 0, 0, 9.0), "rnd": _entry(3, 1, 1, 5.0)}) is None


def test_comparison_targets_name_an_entry_missing_its_counts():
    rnd = _entry(3, 1, 1, 4.0)
    del rnd["n_holding"]
    with pytest.raises(ValueError, match=r"rnd's summary entry lacks \['n_holding'\]"):
        comparison_targets({"vime": _entry(3, 1, 1, 5.0), "rnd": rnd})
