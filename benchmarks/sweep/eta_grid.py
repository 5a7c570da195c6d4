"""Pick each bonus's eta from the ``eta-grid`` suite's finished runs, by one rule for every bonus.

For each bonus, every eta of the grid is scored over its seeds: the number of seeds holding the reward at the
end (success in at least half of the last 10% of episodes), then the median steps to the first reward (a seed
that never found it counts as its budget; lower is better), then the mean final return; ties go to the
smaller eta. The best eta per bonus is then fixed for every task of the comparison.

The rule first ranked the steps to the first reward above holding. Seed 0 of the grid showed what that
picks: E3B at eta 1 found the goal at 17,323 steps and held it in no seed, against 21,319 steps and holding
at eta 0.01; with three seeds, medians almost never tie, so holding never counted. An eta whose runs lose
the reward is no one's best, so holding now comes first (decided after seed 0, before the grid was complete;
``benchmarks/results/eta-grid/notes.md``).

    python -m benchmarks.sweep.eta_grid --out benchmarks/results/eta-grid

writes ``eta_choice.json`` (bonus -> chosen eta and every eta's scores) and ``eta_grid.md`` there.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.sweep.results import finished_runs, write_analysis
from benchmarks.sweep.stats import exploration_summary


def score(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The grid's scores of one (bonus, eta) over its seeds."""
    summary = exploration_summary(records)
    returns = [float(r["metrics"].get("final_return", 0.0)) for r in records]
    return {"steps_median": summary["steps_to_first_success_censored_median"],
            "n_holding": summary["n_holding"], "n_found": summary["n_found"],
            "final_return_mean": float(np.mean(returns)), "n_seeds": len(records)}


def rank_key(entry: dict[str, Any]) -> tuple[int, float, float]:
    """Sort key of the rule: more seeds holding, then fewer steps to the first reward, then more return."""
    return (-entry["n_holding"], entry["steps_median"], -entry["final_return_mean"])


def choose(out: str | Path, partial: bool = False) -> dict[str, dict[str, Any]]:
    """bonus -> ``{"eta": chosen, "scores": {eta: scores}}`` from the grid's finished runs in ``out``.

    A choice is fair only over a complete grid: every eta of a bonus with the same seeds. ``partial=True``
    chooses from what has finished anyway (for a look while the sweep runs; not for the comparison).

    Raises:
        FileNotFoundError: ``out`` holds no finished run of a bonus.
        ValueError: the etas of a bonus have finished on different seeds, or a bonus misses an eta that
            another has (unless ``partial``).
    """
    groups: dict[str, dict[float, list]] = defaultdict(lambda: defaultdict(list))
    for record in finished_runs(out).values():
        job = record["job"]
        if job["bonus"] != "none":
            groups[job["bonus"]][float(job["settings"]["eta"])].append(record)
    if not groups:
        raise FileNotFoundError(f"{out} holds no finished run with a bonus; run the eta-grid suite into it "
                                "first")
    if not partial:
        _check_complete(groups)
    choice = {}
    for bonus, by_eta in sorted(groups.items()):
        scores = {eta: score(records) for eta, records in sorted(by_eta.items())}
        best = min(scores, key=lambda eta: (rank_key(scores[eta]), eta))  # ties: the smaller eta
        choice[bonus] = {"eta": best, "scores": {f"{eta:g}": s for eta, s in scores.items()}}
    return choice


def _check_complete(groups: dict[str, dict[float, list]]) -> None:
    etas = sorted({eta for by_eta in groups.values() for eta in by_eta})
    seeds = {(bonus, eta): sorted(r["job"]["seed"] for r in records)
             for bonus, by_eta in groups.items() for eta, records in by_eta.items()}
    everyone = sorted(set().union(*map(set, seeds.values())))
    missing = [f"{bonus} at eta {eta:g}: seeds {sorted(set(everyone) - set(seeds.get((bonus, eta), [])))}"
               for bonus in sorted(groups) for eta in etas if seeds.get((bonus, eta), []) != everyone]
    if missing:
        raise ValueError("the grid is incomplete, so a choice would not be fair; unfinished: "
                         + "; ".join(missing) + " (resume the sweep, or pass partial=True / --partial "
                         "for a look)")


def markdown(choice: dict[str, dict[str, Any]]) -> str:
    """The grid as a table, the chosen eta of each bonus in bold."""
    lines = ["| bonus | eta | median steps to first reward | seeds finding it | seeds holding it | final "
             "return |", "| --- | --- | --- | --- | --- | --- |"]
    for bonus, entry in choice.items():
        for eta, s in entry["scores"].items():
            mark = "**" if float(eta) == entry["eta"] else ""
            n = s["n_seeds"]
            lines.append(f"| {bonus} | {mark}{eta}{mark} | {s['steps_median']:.0f} | {s['n_found']}/{n} | "
                         f"{s['n_holding']}/{n} | {s['final_return_mean']:.3g} |")
    return "\n".join(lines) + "\n"


@dataclass
class Args:
    """Pick each bonus's eta from a finished eta-grid sweep."""

    out: str = "benchmarks/results/eta-grid"
    """The sweep's output directory (``curiosity bench run eta-grid --out ...``)."""
    partial: bool = False
    """Choose from an unfinished grid (a look while it runs: printed, nothing written)."""


def main(args: Args | None = None) -> dict[str, dict[str, Any]]:
    if args is None:
        import tyro

        args = tyro.cli(Args)
    choice = choose(args.out, partial=args.partial)
    if args.partial:
        print(markdown(choice))
        return choice
    write_analysis(args.out, "eta_choice.json", choice, "eta_grid.md", markdown(choice))
    return choice


if __name__ == "__main__":
    main()
