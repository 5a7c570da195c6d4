"""Exploration statistics of a report: who finds the reward, how soon, who keeps it; is it significant.

Per (task, method), over its seeds' finished runs (``result.json`` metrics of
:func:`agents.experiment.run_experiment`):

* ``n_found``: seeds that ever received the reward (``success``);
* ``n_holding``: seeds that hold it at the end: ``success_rate_last`` (the success rate over the last 10% of
  the run's episodes) of at least :data:`HOLDING_RATE`;
* ``steps_to_first_success_censored_median``: median steps to the first reward, a seed that never found it
  counting as its full budget (so the median does not improve by dropping the seeds that fail); see
  :func:`censored_median` for an even number of seeds;
* :func:`found_fraction`: the fraction of seeds that have found the reward by each step;
* :func:`separation`: the steps at which a method has found the reward in at least 80% of its seeds and the
  baseline in at most 20% (the VIME paper's claim in a form that does not depend on where a plot stops);
* :func:`comparison_targets`: which bonuses find the reward sooner than VIME, hold it in more seeds, or lose
  it in more seeds than they hold it (the comparison of bonuses' claims).

Significance against the no-bonus baseline (and of every other bonus against VIME): two-sided Fisher exact
tests on the counts of seeds finding and holding the reward, and two-sided Mann-Whitney U tests on the final
returns and on the (censored) steps to the first reward, their p-values (twice the smaller tail) from the
exact permutation distribution (ties included: sparse-task returns tie often, and the normal approximation
errs at these sample sizes) up to :data:`EXACT_PERMUTATIONS` splits, else from 10,000 random ones.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

#: a seed holds the reward when at least this fraction of its last 10% of episodes succeed
HOLDING_RATE = 0.5
#: the VIME paper's claim as a separation of the found fractions: at some budget at least this fraction of a
#: bonus's seeds have found the reward and at most this fraction of the no-bonus seeds have
SEPARATION = (0.8, 0.2)
#: differences are called significant below this p-value
ALPHA = 0.05
#: the Mann-Whitney p-value enumerates every split of the pooled sample up to this many
EXACT_PERMUTATIONS = 200_000


def first_success_steps(record: dict[str, Any]) -> float:
    """Steps to the run's first reward, or its full budget if it never found one."""
    metrics = record["metrics"]
    steps = metrics.get("steps_to_first_success")
    if metrics.get("success") and steps is not None:
        return float(steps)
    return float(record["job"]["total_timesteps"])


def holds_reward(record: dict[str, Any]) -> bool:
    """Whether the run ends holding the reward (see :data:`HOLDING_RATE`)."""
    rate = record["metrics"].get("success_rate_last")
    return rate is not None and float(rate) >= HOLDING_RATE


def censored_median(records: Sequence[dict[str, Any]]) -> float | None:
    """Median steps to the first reward over all ``records``, a seed that never found it counting as its
    budget (``None`` without records).

    With an even number of seeds the usual median averages the two middle ones; where the upper of them never
    found the reward, that average would mix a step with a budget and name a step at which nothing happened.
    Then the lower middle one is the median: the step by which half of the seeds had found the reward (the
    Kaplan-Meier median, which the usual median equals everywhere else).
    """
    ranked = sorted((first_success_steps(r), not r["metrics"].get("success")) for r in records)
    if not ranked:
        return None
    half = len(ranked) // 2
    if len(ranked) % 2:
        return ranked[half][0]
    (lower, _), (upper, upper_censored) = ranked[half - 1], ranked[half]
    return lower if upper_censored else (lower + upper) / 2


def exploration_summary(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``n_found``, ``n_holding``, ``steps_to_first_success_censored_median`` and ``budget`` of one method."""
    budgets = {int(r["job"]["total_timesteps"]) for r in records}
    return {
        "n_found": sum(bool(r["metrics"].get("success")) for r in records),
        "n_holding": sum(holds_reward(r) for r in records),
        "steps_to_first_success_censored_median": censored_median(records),
        "budget": max(budgets) if budgets else None,
    }


def found_fraction(records: Sequence[dict[str, Any]], grid: np.ndarray) -> np.ndarray:
    """The fraction of ``records`` whose first reward came at or before each step of ``grid``."""
    found = np.array([first_success_steps(r) for r in records if r["metrics"].get("success")])
    if not records:
        return np.zeros_like(grid, dtype=float)
    return np.array([(found <= t).sum() / len(records) for t in grid], dtype=float)


def separation(records: Sequence[dict[str, Any]], baseline: Sequence[dict[str, Any]],
               found: float = SEPARATION[0], baseline_found: float = SEPARATION[1]
               ) -> tuple[float, float] | None:
    """The steps ``[start, end)`` at which at least ``found`` of ``records``' seeds have found the reward and
    at most ``baseline_found`` of ``baseline``'s have (``end``: the budget if the baseline never passes it);
    ``None`` if there are none. Both fractions only grow, so the steps form one interval.

    Raises:
        ValueError: ``found`` or ``baseline_found`` outside ``[0, 1]``.
    """
    if not (0.0 <= found <= 1.0 and 0.0 <= baseline_found <= 1.0):
        raise ValueError(f"found and baseline_found are fractions in [0, 1], got {found}, {baseline_found}")
    if not records or not baseline:
        return None
    mine = sorted(first_success_steps(r) for r in records if r["metrics"].get("success"))
    needed = math.ceil(found * len(records) - 1e-9)  # seeds that must have found it
    if needed > len(mine):
        return None
    start = mine[needed - 1] if needed else 0.0
    theirs = sorted(first_success_steps(r) for r in baseline if r["metrics"].get("success"))
    allowed = math.floor(baseline_found * len(baseline) + 1e-9)  # seeds that may have found it
    budget = float(max(r["job"]["total_timesteps"] for r in baseline))
    end = theirs[allowed] if allowed < len(theirs) else budget
    return (start, end) if start < end else None


def fisher_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided Fisher exact test of ``k1/n1`` against ``k2/n2`` (1.0 when either sample is empty).

    Raises:
        ValueError: a count outside ``[0, n]``.
    """
    if not (0 <= k1 <= n1 and 0 <= k2 <= n2):
        raise ValueError(f"counts must lie in [0, n], got {k1}/{n1} and {k2}/{n2}")
    if n1 == 0 or n2 == 0:
        return 1.0
    from scipy import stats

    return float(stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue)


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U test of two samples (1.0 when a sample is empty or all values tie)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size == 0 or b.size == 0 or np.unique(np.concatenate([a, b])).size == 1:
        return 1.0
    from scipy import stats

    if min(a.size, b.size) == 1:  # scipy's permutation test wants two values a sample: enumerate the splits
        ranks = stats.rankdata(np.concatenate([a, b]))
        sums = np.array([ranks[list(chosen)].sum() for chosen in itertools.combinations(range(ranks.size),
                                                                                        a.size)])
        observed = ranks[:a.size].sum()
        tail = min(np.mean(sums <= observed + 1e-9), np.mean(sums >= observed - 1e-9))
        return float(min(1.0, 2 * tail))
    splits = math.comb(a.size + b.size, a.size)
    method = stats.PermutationMethod(n_resamples=np.inf if splits <= EXACT_PERMUTATIONS else 10_000,
                                     rng=np.random.default_rng(0))
    return float(stats.mannwhitneyu(a, b, alternative="two-sided", method=method).pvalue)


def paper_targets(records: Sequence[dict[str, Any]], baseline: Sequence[dict[str, Any]]
                  ) -> dict[str, float | None]:
    """The VIME paper's two numeric claims of a method against the baseline's runs:

    * ``steps_factor``: the baseline's censored median steps to the first reward over the method's (the
      paper: at least 3);
    * ``final_return_diff_se``: the difference of the mean final returns (method minus baseline) in standard
      errors of that difference, ``sqrt(sem_method**2 + sem_baseline**2)`` (the paper on HalfCheetah: > 2).

    Either is ``None`` where it is undefined: no runs, or fewer than two finite returns in a sample, or no
    spread at all in both.
    """
    steps = [exploration_summary(group)["steps_to_first_success_censored_median"]
             for group in (records, baseline)]
    factor = steps[1] / steps[0] if steps[0] and steps[1] is not None else None
    means, sems = [], []
    for group in (records, baseline):
        values = np.array([float(r["metrics"].get("final_return", math.nan)) for r in group])
        values = values[np.isfinite(values)]
        if values.size < 2:
            return {"steps_factor": factor, "final_return_diff_se": None}
        means.append(float(values.mean()))
        sems.append(float(values.std(ddof=1)) / math.sqrt(values.size))
    se = math.hypot(*sems)
    return {"steps_factor": factor, "final_return_diff_se": (means[0] - means[1]) / se if se > 0 else None}


def against_baseline(records: Sequence[dict[str, Any]], baseline: Sequence[dict[str, Any]]
                     ) -> dict[str, float]:
    """p-values of one method against another's runs (two-sided): ``p_found``, ``p_holding`` (Fisher exact),
    ``p_final_return`` and ``p_steps`` (Mann-Whitney U on the final returns and on the steps to the first
    reward, a seed that never found it counting as its budget)."""
    mine, theirs = exploration_summary(records), exploration_summary(baseline)
    returns = [[r["metrics"].get("final_return", math.nan) for r in group] for group in (records, baseline)]
    return {
        "p_found": fisher_p(mine["n_found"], len(records), theirs["n_found"], len(baseline)),
        "p_holding": fisher_p(mine["n_holding"], len(records), theirs["n_holding"], len(baseline)),
        "p_final_return": mann_whitney_p(*returns),
        "p_steps": mann_whitney_p([first_success_steps(r) for r in records],
                                  [first_success_steps(r) for r in baseline]),
    }


def comparison_targets(methods: dict[str, dict[str, Any]], reference: str = "vime", baseline: str = "none"
                       ) -> dict[str, list[str]] | None:
    """The comparison of bonuses' claims on one task, read off the summary entries of its methods
    (``n_seeds``, ``n_found``, ``n_holding``, ``steps_to_first_success_censored_median``;
    :func:`exploration_summary`):

    * ``sooner``: the bonuses whose censored median steps to the first reward is below ``reference``'s (the
      claim: none is);
    * ``holding_more``: the bonuses holding the reward in a larger fraction of their seeds (the claim: none
      does; fractions, so that a method with a seed still running compares fairly);
    * ``losing``: every bonus, ``reference`` included, that lost the reward (found it but does not hold it at
      the end) in more seeds than it holds it (the claim: none did).

    ``baseline`` is no bonus and takes part in none of them. ``None`` without ``reference`` or another bonus.

    Raises:
        ValueError: an entry lacks one of the keys above.
    """
    needed = {"n_seeds", "n_found", "n_holding", "steps_to_first_success_censored_median"}
    for name, entry in methods.items():
        if missing := needed - set(entry):
            raise ValueError(f"{name}'s summary entry lacks {sorted(missing)}: give the entries of "
                             "benchmarks.sweep.report.summarize")
    if reference not in methods or not set(methods) - {reference, baseline}:
        return None
    ref = methods[reference]
    others = {name: entry for name, entry in methods.items() if name not in (reference, baseline)}

    def holding(entry: dict[str, Any]) -> float:
        return entry["n_holding"] / entry["n_seeds"] if entry["n_seeds"] else 0.0

    ref_steps = ref["steps_to_first_success_censored_median"]
    return {
        "sooner": [name for name, entry in others.items()
                   if ref_steps is not None and entry["steps_to_first_success_censored_median"] is not None
                   and entry["steps_to_first_success_censored_median"] < ref_steps],
        "holding_more": [name for name, entry in others.items() if holding(entry) > holding(ref)],
        "losing": [name for name, entry in {reference: ref, **others}.items()
                   if entry["n_found"] - entry["n_holding"] > entry["n_holding"]],
    }
