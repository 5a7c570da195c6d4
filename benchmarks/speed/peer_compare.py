"""Ours against rllte-core (RLeXplore) for every bonus both ship, on the same batches, in one process.

For each bonus (RND, ICM, Disagreement, E3B, RE3, RIDE, NGU) and each kind of observation (17-dim vectors with
6-dim ``Box`` actions; 64x64 RGB ``uint8`` frames, channel-first, with ``Discrete(6)`` actions) it builds one
time-major rollout of ``--batch`` transitions (``--n-envs`` environments, episodes of about 100 steps) and
times, alternating ours and rllte's on the same arrays:

* compute: the intrinsic rewards of the rollout. Ours: ``bonus(..., update_stats=True)`` (with the rollout's
  ``dones`` for episodic bonuses). rllte: ``watch`` at every step, then ``compute(samples)`` with its
  ``update`` switched off (rllte's ``compute`` also moves its normalisation statistics and, for E3B, its
  covariances; RIDE and NGU's counts are made in ``watch``).
* update: learning from the rollout. Ours: ``add`` (which also advances episodic memories, reusing the walk
  of the compute just made on the same rollout, as in the SB3 glue) then ``train``. rllte: ``update(samples)``
  (one pass over the rollout in minibatches of 256).

Each is reported in transitions per second and as the ratio ours / rllte, with both libraries at their own
defaults and with ours configured like rllte (``ALIKE``: its widths, learning rate 1e-3, one pass in
minibatches of 256 -- Disagreement's members taking turns as rllte's do --, frames read by the Nature DQN
convolutions with ReLU (``encoder_arch="nature"``; RND, Disagreement and NGU use them by default) and RND's
predictor shaped as its target). Agreement is checked where the definitions coincide (E3B, and RE3 over a
batch): ours is given rllte's encoder weights and both compute raw bonuses.

rllte-core is not a dependency: it pins gymnasium 1.0.0 (through gymnasium's ``accept-rom-license`` extra,
which later gymnasium releases dropped) and its torchvision requirement replaces a pinned torch, so it
lives in a separate environment: rllte-core, then gymnasium 1.4 over its 1.0 (rllte imports and runs with
it), and this repository on ``PYTHONPATH`` (``INSTALL`` in :mod:`benchmarks.speed.rllte_adapters`; the report
repeats it). The rllte adapters live there, the rollouts in :mod:`benchmarks.speed.peer_rollouts`.
Without it, this command prints why and exits 0.

    python -m benchmarks.speed.peer_compare [--batch 2048] [--n-envs 8] [--threads 1] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.speed.peer_rollouts import flat, make_rollout, spaces_for
from benchmarks.speed.rllte_adapters import (
    INSTALL,
    RLLTE_CLASS,
    FakeVecEnv,
    agreement,
    load_rllte,
    rllte_compute,
    rllte_samples,
)
from benchmarks.sweep.results import atomic_write
from curiosity import IntrinsicBonus, make_bonus
from curiosity.runtime import configure_torch

__all__ = ["main", "make_rollout", "markdown", "measure"]


BONUSES = ("rnd", "icm", "disagreement", "e3b", "re3", "ride", "ngu")


#: ours configured like rllte 1.0.1's defaults (latent 128, hidden 256, Adam 1e-3, one pass in batches of 256,
#: frames read by the Nature DQN convolutions with ReLU, RND's predictor shaped as its target)
ALIKE: dict[str, dict[str, Any]] = {
    "rnd": {"feature_dim": 128, "hidden_sizes": (256,), "learning_rate": 1e-3, "predictor_extra_layers": 0},
    "icm": {"feature_dim": 128, "encoder_hidden_sizes": (256,), "hidden_dim": 256, "encoder_arch": "nature"},
    "disagreement": {"n_models": 4, "feature_dim": 128, "hidden_sizes": (256,), "learning_rate": 1e-3},
    "e3b": {
        "feature_dim": 128,
        "hidden_sizes": (256,),
        "hidden_dim": 256,
        "learning_rate": 1e-3,
        "encoder_arch": "nature",
    },
    "re3": {
        "feature_dim": 128,
        "hidden_sizes": (256,),
        "k": 5,
        "memory_size": 1000,
        "encoder_arch": "nature",
    },
    "ride": {
        "feature_dim": 128,
        "encoder_hidden_sizes": (256,),
        "hidden_dim": 256,
        "learning_rate": 1e-3,
        "encoder_arch": "nature",
    },
    "ngu": {
        "feature_dim": 32,
        "hidden_sizes": (256,),
        "hidden_dim": 256,
        "rnd_feature_dim": 32,
        "learning_rate": 1e-3,
        "kernel_epsilon": 1e-4,
    },
}


#: a row is timed over at least ``--repeats`` rounds, more until they take MIN_SECONDS (at most MAX_ROUNDS)
MIN_SECONDS, MAX_ROUNDS = 3.0, 30


TRAINED = {"rnd", "icm", "disagreement", "e3b", "ride", "ngu"}


def ours_compute(bonus: IntrinsicBonus, rollout: dict[str, np.ndarray]) -> np.ndarray:
    kwargs = {"dones": rollout["dones"]} if getattr(bonus, "episodic", False) else {}
    return bonus(flat(rollout["obs"]), flat(rollout["actions"]), flat(rollout["next_obs"]), **kwargs)


def ours_update(bonus: IntrinsicBonus, rollout: dict[str, np.ndarray]) -> None:
    kwargs = {"dones": rollout["dones"]} if getattr(bonus, "episodic", False) else {}
    bonus.add(flat(rollout["obs"]), flat(rollout["actions"]), flat(rollout["next_obs"]), **kwargs)
    bonus.train()


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(name: str, kind: str, config: str, rollout: dict, rllte: Any, repeats: int) -> dict[str, Any]:
    """The best seconds of compute and update for ours and rllte's, alternating, over at least ``repeats``
    rounds, and more (up to :data:`MAX_ROUNDS`) until the rounds have taken :data:`MIN_SECONDS`: a short
    call is timed often enough that both sides have runs the machine's other work did not interrupt."""
    obs_space, act_space = spaces_for(kind)
    kwargs = {"seed": 0}
    if config == "alike":
        kwargs.update(ALIKE[name])
        if name in TRAINED:  # one pass over the rollout in minibatches of 256, as rllte's update
            passes = rollout["dones"].size // 256 // kwargs.get("n_models", 1)  # rllte's members take turns
            kwargs.update(batch_size=256, gradient_steps=max(1, passes))
    row: dict[str, Any] = {"bonus": name, "kind": kind, "config": config, "ours_kwargs": _jsonable(kwargs)}
    try:
        ours = make_bonus(name, obs_space, act_space, **kwargs, device="cpu")  # as rllte's, below
        peer = getattr(rllte, RLLTE_CLASS[name])(FakeVecEnv(kind, rollout["dones"].shape[1]), device="cpu")
    except Exception as error:
        return {**row, "error": f"{type(error).__name__}: {error}"}
    samples = rllte_samples(rollout)
    n = rollout["dones"].size
    times: dict[str, list[float]] = {
        f"{who}_{phase}": [] for phase in ("compute", "update") for who in ("ours", "rllte")
    }
    start, rounds = time.perf_counter(), 0
    while rounds < repeats or (rounds < MAX_ROUNDS and time.perf_counter() - start < MIN_SECONDS):
        times["ours_compute"].append(timed(lambda: ours_compute(ours, rollout)))
        times["rllte_compute"].append(_guarded(lambda: rllte_compute(peer, samples), row, "rllte_compute"))
        # ours adds right after computing the same rollout, as the SB3 glue does
        times["ours_update"].append(timed(lambda: ours_update(ours, rollout)))
        times["rllte_update"].append(_guarded(lambda: peer.update(samples), row, "rllte_update"))
        rounds += 1
    row["rounds"] = rounds
    for key, values in times.items():
        best = min(values)
        row[f"{key}_tps"] = None if not np.isfinite(best) else round(n / best, 1)
    for phase in ("compute", "update"):
        ours_tps, theirs_tps = row[f"ours_{phase}_tps"], row[f"rllte_{phase}_tps"]
        row[f"{phase}_ratio"] = None if theirs_tps is None else round(ours_tps / theirs_tps, 3)
    return row


def _guarded(fn: Callable[[], Any], row: dict[str, Any], key: str) -> float:
    try:
        return timed(fn)
    except Exception as error:
        row[f"{key}_error"] = f"{type(error).__name__}: {str(error)[:200]}"
        return float("inf")


def _jsonable(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.speed.peer_compare", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--batch", type=int, default=2048, help="transitions per rollout (n_steps x n_envs)")
    parser.add_argument("--n-envs", type=int, default=8, help="parallel environments of the rollout")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds at least (compute and update)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--bonuses", nargs="+", default=list(BONUSES), choices=BONUSES)
    parser.add_argument("--kinds", nargs="+", default=["vector", "image"], choices=["vector", "image"])
    parser.add_argument("--configs", nargs="+", default=["defaults", "alike"], choices=["defaults", "alike"])
    parser.add_argument("--out", type=Path, default=None, help="writes DIR/peer_compare.{json,md}")
    args = parser.parse_args(argv)
    if args.batch % args.n_envs or args.batch < 2 * args.n_envs:
        parser.error(f"--batch must be a multiple of --n-envs ({args.n_envs}) of at least two steps")
    configure_torch(args.threads)
    rllte, why_not = load_rllte()
    result: dict[str, Any] = {
        "command": " ".join(
            ["python -m benchmarks.speed.peer_compare", *(argv if argv is not None else sys.argv[1:])]
        ),
        "batch": args.batch,
        "n_envs": args.n_envs,
        "threads": args.threads,
        "repeats": args.repeats,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    if rllte is None:
        result.update(skipped=why_not, install=INSTALL)
        print(f"peer_compare: {why_not}; nothing measured. Install it in a separate environment: {INSTALL}")
        _write(result, args.out)
        return result
    from importlib.metadata import version

    result["rllte_core"] = version("rllte-core")  # rllte.__version__ says 0.0.1 in the 1.0.1 release
    import gymnasium

    result["gymnasium"] = gymnasium.__version__
    rows, agree = [], {}
    for kind in args.kinds:
        rollout = make_rollout(kind, args.batch // args.n_envs, args.n_envs)
        for name in args.bonuses:
            for config in args.configs:
                row = measure(name, kind, config, rollout, rllte, args.repeats)
                rows.append(row)
                print(json.dumps(row), flush=True)
        agree[kind] = agreement(rllte, kind, rollout)
        print(json.dumps({"agreement": kind, **agree[kind]}), flush=True)
    result.update(rows=rows, agreement=agree)
    _write(result, args.out)
    return result


def _write(result: dict[str, Any], out: Path | None) -> None:
    if out is None:
        return
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "peer_compare.json", (json.dumps(result, indent=1) + "\n").encode())
    atomic_write(out / "peer_compare.md", markdown(result).encode())


def markdown(result: dict[str, Any]) -> str:
    """The results as a Markdown report (tables of transitions per second and ratios)."""
    lines = ["# Ours against rllte-core, side by side", "", f"`{result['command']}`", ""]
    if "skipped" in result:
        lines += [f"Not measured: {result['skipped']}.", "", f"Install: `{result['install']}`", ""]
        return "\n".join(lines)
    lines += [
        f"rllte-core {result['rllte_core']}, gymnasium {result['gymnasium']}, torch {result['torch']}, "
        f"{result['threads']} thread(s), {result['batch']}-transition rollouts ({result['n_envs']} envs); "
        f"in transitions per second (best of at least {result.get('repeats', 3)} rounds, up to {MAX_ROUNDS} "
        f"for rows whose rounds take under {MIN_SECONDS:g} s); ratio = ours / rllte (above 1: ours is "
        "faster).",
        "",
        TABLE_HEADER,
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["rows"]:
        if "error" in row:
            lines.append(f"| {row['bonus']} | {row['kind']} | {row['config']} | {row['error']} |||||| |")
            continue
        keys = (
            "ours_compute_tps",
            "rllte_compute_tps",
            "compute_ratio",
            "ours_update_tps",
            "rllte_update_tps",
        )
        cells = [_num(row.get(k)) for k in (*keys, "update_ratio")]
        lines.append(f"| {row['bonus']} | {row['kind']} | {row['config']} | " + " | ".join(cells) + " |")
    errors = [r for r in result["rows"] if any(k.endswith("_error") for k in r)]
    if errors:
        lines += ["", "rllte failures:"]
        lines += [
            f"- {r['bonus']} {r['kind']} {r['config']}: "
            + "; ".join(f"{k}: {v}" for k, v in r.items() if k.endswith("_error"))
            for r in errors
        ]
    lines += ["", " ".join(ENVIRONMENT_NOTE)]
    lines += [
        "",
        "Agreement where the definitions coincide (ours with rllte's encoder weights, raw bonuses):",
        "",
    ]
    for kind, checks in result["agreement"].items():
        for name, check in checks.items():
            lines.append(
                f"- {name}, {kind}: max relative difference {check['max_rel_error']:.2e} over "
                f"{check['pairs']} transitions"
            )
    return "\n".join(lines) + "\n"


ENVIRONMENT_NOTE = (
    "Environment: rllte-core cannot be an optional extra of this package, pip finds no resolution",
    "(rllte-core 1.0.1 pins matplotlib==3.6.0 against our matplotlib>=3.7, and its",
    "gymnasium[accept-rom-license] requirement holds gymnasium at 1.0.0, before the AutoresetMode that",
    "curiosity.wrappers imports). It was measured in a separate environment:",
    f"`{INSTALL}` (rllte imports and runs on gymnasium 1.4).",
    "What is timed: compute = the rollout's intrinsic rewards (ours: `bonus(...)` with the rollout's dones;",
    "rllte: `watch` at every step, then `compute` with `update` switched off); update = ours `add` then",
    "`train`, right after the compute of the same rollout as in the SB3 glue; rllte `update`. Vector rows",
    "use Box actions, image rows Discrete(6) actions (channel-first uint8 frames; rllte is handed them as",
    "float32, ours as uint8). 'alike' gives ours rllte's widths (latent 128, hidden 256), Adam 1e-3, one",
    "pass of 256-row minibatches (Disagreement's members taking turns, as rllte's), its networks",
    "(`encoder_arch='nature'`: ReLU throughout, the Nature DQN convolutions for frames) and RND's predictor",
    "shaped as its target (`predictor_extra_layers=0`). 'defaults' keeps each paper's networks and training",
    "(ICM, RIDE and E3B: ELU networks, stride-2 convolutions for frames; RE3: its own encoder; RND: 512",
    "features and a deeper predictor; 16 gradient steps of 256 per update, each of Disagreement's 5 members",
    "on its own minibatches), more work than rllte's defaults do: hence ratios below 1 there.",
)


TABLE_HEADER = (
    "| bonus | obs | config | ours compute | rllte compute | ratio | ours update | rllte update | ratio |"
)


def _num(x: Any) -> str:
    if x is None:
        return "-"
    return f"{x:.2f}" if x < 10 else f"{x:,.0f}"


if __name__ == "__main__":
    main()
