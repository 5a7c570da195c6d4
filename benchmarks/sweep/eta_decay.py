"""Does a decaying eta keep what a large constant eta finds? Each ``eta-decay`` run against its constant twin.

The ``eta-decay`` suite reruns the (bonus, eta) pairs of the ``eta-grid`` that found MountainCar's goal and
then lost it, with eta decaying linearly to 0 over the run, on the grid's task, budget and seeds. Each decay
run ``<bonus>-eta<eta>-linear/seed<k>`` therefore has a twin in the grid, ``<bonus>-eta<eta>/seed<k>``,
that differs only in the schedule. Per pair and pooled over all pairs:

* seeds finding the reward and seeds holding it at the end, constant against decaying;
* median steps to the first reward (a seed that never found it counts as its budget);
* the two-sided exact sign test (McNemar's exact test) on the seeds where the two schedules disagree about
  holding: under "the schedule does not matter" each discordant seed favours either with probability 1/2;
* per pair, how each schedule loses or keeps the reward over the run: the fraction of episodes reaching it
  in each tenth of the budget (by the step an episode ends), the mean over seeds (from the runs' curves).

The pairs were chosen because their constant-eta run of seed 0 lost the reward
(``suites.LOSING_ETAS_SELECTION_SEEDS``): on that seed the constant eta cannot win, so the pooled test to read
is the one over the other seeds (``"all pairs, held-out seeds"``); the pooled row over every seed is kept
beside it, labelled as biased.

    python -m benchmarks.sweep.eta_decay --decay benchmarks/results/eta-decay \
        --grid benchmarks/results/eta-grid

writes ``eta_decay.json`` and ``eta_decay.md`` into the decay directory.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.sweep.figures import read_curve, warn_unreadable
from benchmarks.sweep.results import finished_runs, write_analysis
from benchmarks.sweep.stats import exploration_summary, holds_reward
from benchmarks.sweep.suites import LOSING_ETAS_SELECTION_SEEDS

#: the method-name suffix of a decaying-eta run (``benchmarks.sweep.suites._eta_decay``)
SUFFIX = "-linear"


def sign_test_p(wins: int, losses: int) -> float:
    """Two-sided exact sign test: the probability, under a fair coin over ``wins + losses`` discordant pairs,
    of a split at least as uneven as the one seen (1.0 with no discordant pair)."""
    if wins < 0 or losses < 0:
        raise ValueError(f"counts must be >= 0, got {wins} and {losses}")
    n, k = wins + losses, min(wins, losses)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def pair_runs(decay_out: str | Path, grid_out: str | Path) -> dict[str, list[tuple[dict, dict]]]:
    """``<bonus>-eta<eta>`` -> [(constant run, decaying run)] for every seed finished in both, by seed.

    Raises:
        FileNotFoundError: ``decay_out`` holds no finished decaying-eta run.
    """
    grid = {(r["job"]["env_id"], r["job"]["method"], r["job"]["seed"]): r
            for r in finished_runs(grid_out).values()}
    pairs: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
    for record in finished_runs(decay_out).values():
        job = record["job"]
        if not job["method"].endswith(SUFFIX):
            continue
        constant = job["method"].removesuffix(SUFFIX)
        twin = grid.get((job["env_id"], constant, job["seed"]))
        if twin is not None:
            pairs[constant].append((twin, record))
    if not pairs:
        raise FileNotFoundError(f"{decay_out} holds no finished '*{SUFFIX}' run with a twin in {grid_out}; "
                                "run the eta-decay suite into it first")
    return {name: sorted(found, key=lambda pair: pair[0]["job"]["seed"])
            for name, found in sorted(pairs.items())}


def compare(pairs: list[tuple[dict, dict]]) -> dict[str, Any]:
    """Constant against decaying eta over paired seeds (see the module docstring)."""
    constant, decaying = [p[0] for p in pairs], [p[1] for p in pairs]
    holds = [(holds_reward(c), holds_reward(d)) for c, d in pairs]
    wins = sum(d and not c for c, d in holds)  # seeds only the decaying eta holds
    losses = sum(c and not d for c, d in holds)

    def side(records: list[dict]) -> dict[str, Any]:
        summary = exploration_summary(records)
        return {"n_found": summary["n_found"], "n_holding": summary["n_holding"],
                "steps_median": summary["steps_to_first_success_censored_median"]}

    return {"seeds": [c["job"]["seed"] for c in constant],
            "constant": side(constant), "linear": side(decaying),
            "holding_only_linear": wins, "holding_only_constant": losses,
            "p_holding": sign_test_p(wins, losses)}


def success_by_tenth(run_dir: Path, budget: int) -> list[float | None] | None:
    """The fraction of a run's episodes that reached the reward in each tenth of its ``budget`` steps (by the
    step each episode ended; ``None`` for a tenth in which no episode ended); ``None`` without a readable
    curve (an unreadable one is logged, as the report's figures do)."""
    path = run_dir / "curve.csv"
    if not path.exists():
        return None
    try:
        timesteps, success = read_curve(path, "success")
    except (OSError, ValueError, KeyError, TypeError, csv.Error) as error:
        warn_unreadable(path, error)
        return None
    reached: list[list[float]] = [[] for _ in range(10)]
    for step, found in zip(timesteps.tolist(), success.tolist(), strict=True):
        reached[min(int(10 * step / budget), 9)].append(found)  # the last episode may end past the budget
    return [sum(found) / len(found) if found else None for found in reached]


def mean_success_by_tenth(out: Path, records: list[dict]) -> list[float | None] | None:
    """:func:`success_by_tenth`, the mean over the runs that have a curve (``None`` if none has one)."""
    runs = [success_by_tenth(out / "runs" / r["run_id"], int(r["job"]["total_timesteps"])) for r in records]
    runs = [run for run in runs if run is not None]
    if not runs:
        return None
    means: list[float | None] = []
    for tenth in zip(*runs, strict=True):
        seen = [rate for rate in tenth if rate is not None]
        means.append(sum(seen) / len(seen) if seen else None)
    return means


def markdown(result: dict[str, Any]) -> str:
    """The comparison as a table, one row per (bonus, eta) and one for all pairs pooled."""
    lines = ["| bonus, eta | seeds | finding it (constant / linear) | holding it (constant / linear) "
             "| median steps to first reward (constant / linear) | p (holding, exact sign test) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, entry in result.items():
        c, d, n = entry["constant"], entry["linear"], len(entry["seeds"])
        lines.append(f"| {name} | {n} | {c['n_found']}/{n} / {d['n_found']}/{n} | {c['n_holding']}/{n} / "
                     f"{d['n_holding']}/{n} | {c['steps_median']:.0f} / {d['steps_median']:.0f} | "
                     f"{entry['p_holding']:.3g} |")
    tenths = [(name, entry["success_by_tenth"]) for name, entry in result.items()
              if "success_by_tenth" in entry]
    if tenths:
        lines += ["", "Episodes reaching the reward in each tenth of the run (mean over seeds):", "",
                  "| bonus, eta | schedule | " + " | ".join(f"{10 * k}-{10 * k + 10}%" for k in range(10))
                  + " |",
                  "| --- | --- |" + " --- |" * 10]
        for name, sides in tenths:
            for schedule, rates in sides.items():
                cells = " | ".join("-" if rate is None else f"{rate:.2f}" for rate in rates)
                lines.append(f"| {name} | {schedule} | {cells} |")
    return "\n".join(lines) + "\n"


@dataclass
class Args:
    """Compare the eta-decay runs with their constant-eta twins of the eta grid."""

    decay: str = "benchmarks/results/eta-decay"
    """The eta-decay sweep's output directory."""
    grid: str = "benchmarks/results/eta-grid"
    """The eta-grid sweep's output directory."""


def main(args: Args | None = None) -> dict[str, Any]:
    if args is None:
        import tyro

        args = tyro.cli(Args)
    pairs = pair_runs(args.decay, args.grid)
    result = {name: compare(found) for name, found in pairs.items()}
    for name, found in pairs.items():
        sides = {"constant": mean_success_by_tenth(Path(args.grid), [c for c, _ in found]),
                 "linear": mean_success_by_tenth(Path(args.decay), [d for _, d in found])}
        if all(rates is not None for rates in sides.values()):
            result[name]["success_by_tenth"] = sides
    every = [pair for found in pairs.values() for pair in found]
    held_out = [pair for pair in every if pair[0]["job"]["seed"] not in LOSING_ETAS_SELECTION_SEEDS]
    result["all pairs, every seed (biased: includes the selection seeds)"] = compare(every)
    if held_out:
        result["all pairs, held-out seeds"] = compare(held_out)
    write_analysis(args.decay, "eta_decay.json", result, "eta_decay.md", markdown(result))
    return result


if __name__ == "__main__":
    main()
