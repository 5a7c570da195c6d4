"""Where do the learning curves flatten? The budget of each task of the comparison, read off the pilot runs.

The ``ppo-budget`` suite trains one seed of no bonus and of VIME per task for a long pilot budget ``B``.
The rule that turns those curves into a budget was fixed before the pilot ran (so no budget is chosen by
looking at which method it favours):

1. A run's extrinsic episode returns are averaged over ``WINDOWS`` consecutive windows of ``B / WINDOWS``
   steps each (an empty window carries the previous window's mean).
2. Its plateau ``P`` is the mean of the last ``PLATEAU_WINDOWS`` windows; its range ``R`` is the largest minus
   the smallest window mean.
3. The run is flat from the end of the first window after which every window mean stays at or above
   ``P - TOLERANCE * R`` (at step 0 for a curve with ``R == 0``, e.g. a run that never sees a reward).
4. The run is still rising if the mean of its last ``RISING_WINDOWS`` windows exceeds the mean of the
   ``RISING_WINDOWS`` before them by more than ``RISING_TOLERANCE * R``.
5. The task's budget is ``MARGIN`` times the latest flat point over its runs, rounded up to a whole window,
   at most ``B``; if any run is still rising, it is ``B`` and the task is marked so (a longer pilot could
   give a longer budget).

    python -m benchmarks.sweep.budget --pilot benchmarks/results/ppo-budget

writes ``budget.json`` and ``budget.md`` into the pilot directory.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.sweep.figures import read_curve
from benchmarks.sweep.results import finished_runs, write_analysis

WINDOWS = 20
PLATEAU_WINDOWS = 4  # the last 20% of the pilot
TOLERANCE = 0.1
RISING_WINDOWS = 2
RISING_TOLERANCE = 0.05
MARGIN = 1.25


def window_means(timesteps: np.ndarray, returns: np.ndarray, budget: int) -> np.ndarray:
    """Mean episode return in each of ``WINDOWS`` equal windows of ``[0, budget]`` (an episode counts in the
    window holding the step at which it ended; an empty window carries the previous mean, the first one 0).

    Raises:
        ValueError: ``budget`` is not positive or the curve holds no episode.
    """
    if budget <= 0:
        raise ValueError(f"budget must be positive, got {budget}")
    if len(returns) == 0:
        raise ValueError("the curve holds no finished episode")
    index = np.clip(np.ceil(np.asarray(timesteps) / budget * WINDOWS).astype(int) - 1, 0, WINDOWS - 1)
    means = np.zeros(WINDOWS)
    previous = 0.0
    for k in range(WINDOWS):
        inside = np.asarray(returns)[index == k]
        previous = means[k] = float(inside.mean()) if len(inside) else previous
    return means


def flat_point(means: np.ndarray, budget: int) -> tuple[int, bool]:
    """``(step from which the curve is flat, whether it is still rising at the end)``, rules 2-4 above.

    Raises:
        ValueError: ``means`` is not ``WINDOWS`` finite values.
    """
    if means.shape != (WINDOWS,) or not np.all(np.isfinite(means)):
        raise ValueError(f"means must be {WINDOWS} finite window means, got shape {means.shape}")
    plateau = means[-PLATEAU_WINDOWS:].mean()
    spread = means.max() - means.min()
    if spread == 0:
        return 0, False
    below = np.nonzero(means < plateau - TOLERANCE * spread)[0]
    first_flat = int(below[-1]) + 1 if len(below) else 0  # windows first_flat.. stay near the plateau
    rising = (means[-RISING_WINDOWS:].mean() - means[-2 * RISING_WINDOWS:-RISING_WINDOWS].mean()
              > RISING_TOLERANCE * spread)
    return round(first_flat * budget / WINDOWS), bool(rising)


def choose_budget(flat_points: list[int], rising: bool, pilot_budget: int) -> int:
    """Rule 5: ``MARGIN`` x the latest flat point, rounded up to a whole window, capped at the pilot.

    Raises:
        ValueError: no flat point, or a pilot budget that is not positive.
    """
    if not flat_points or pilot_budget <= 0:
        raise ValueError(f"need at least one flat point and a positive pilot budget, got {flat_points} and "
                         f"{pilot_budget}")
    if rising:
        return pilot_budget
    window = pilot_budget / WINDOWS
    return min(pilot_budget, round(math.ceil(MARGIN * max(flat_points) / window - 1e-9) * window))


def analyse(pilot: str | Path) -> dict[str, Any]:
    """task -> its runs' flat points and the chosen budget, from the pilot's finished runs.

    Raises:
        FileNotFoundError: ``pilot`` holds no finished run.
    """
    by_task: dict[str, list[dict]] = defaultdict(list)
    for record in finished_runs(pilot).values():
        by_task[record["job"]["env_id"]].append(record)
    if not by_task:
        raise FileNotFoundError(f"{pilot} holds no finished run; run the ppo-budget suite into it first")
    result = {}
    for task, records in sorted(by_task.items()):
        pilot_budget = int(records[0]["job"]["total_timesteps"])
        runs = {}
        for record in sorted(records, key=lambda r: r["run_id"]):
            means = window_means(*read_curve(Path(pilot) / "runs" / record["run_id"] / "curve.csv"),
                                 pilot_budget)
            step, rising = flat_point(means, pilot_budget)
            runs[record["run_id"]] = {"flat_from": step, "rising": rising,
                                      "window_means": [round(float(m), 3) for m in means]}
        rising = any(run["rising"] for run in runs.values())
        budget = choose_budget([run["flat_from"] for run in runs.values()], rising, pilot_budget)
        result[task] = {"pilot_budget": pilot_budget, "runs": runs, "rising": rising, "budget": budget}
    return result


def markdown(result: dict[str, Any]) -> str:
    """One row per pilot run and the chosen budget of each task."""
    lines = ["| task | run | flat from (steps) | still rising | plateau (mean return, last 20%) | budget |",
             "| --- | --- | --- | --- | --- | --- |"]
    for task, entry in result.items():
        for run_id, run in entry["runs"].items():
            plateau = np.mean(run["window_means"][-PLATEAU_WINDOWS:])
            lines.append(f"| {task} | {run_id} | {run['flat_from']:,} | {'yes' if run['rising'] else 'no'} "
                         f"| {plateau:.1f} | {entry['budget']:,} of {entry['pilot_budget']:,} |")
    return "\n".join(lines) + "\n"


@dataclass
class Args:
    """Read the comparison's budgets off the ppo-budget pilot's learning curves."""

    pilot: str = "benchmarks/results/ppo-budget"
    """The ppo-budget sweep's output directory."""


def main(args: Args | None = None) -> dict[str, Any]:
    if args is None:
        import tyro

        args = tyro.cli(Args)
    result = analyse(args.pilot)
    write_analysis(args.pilot, "budget.json", result, "budget.md", markdown(result))
    return result


if __name__ == "__main__":
    main()
