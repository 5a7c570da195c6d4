"""Memory of a long VIME run: the transition pool is bounded, so resident memory stays flat.

Streams HalfCheetah-sized transitions (17-dim observations, 6-dim actions) through a VIME bonus the
way the rollout mode does (bonuses for a batch of ``--batch`` steps, then ``add`` and ``train``) and
records the resident set size after 100k steps and at the end. Writes
``benchmarks/results/memory.json`` and prints it as the last line.

    python -m benchmarks.speed.memory [--steps 1000000] [--batch 5000] [--n-updates 50]

``--n-updates`` (default 50, the paper uses 500) only shortens the run: the memory held does not depend
on how many minibatch updates each training makes.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
from gymnasium import spaces
from tqdm import tqdm

from benchmarks.sweep.results import atomic_write
from curiosity import VIME
from curiosity.runtime import configure_torch

OBS_DIM, ACT_DIM = 17, 6


def rss_mib() -> float:
    """Current resident set size of this process, in MiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--n-updates", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/memory.json")
    args = parser.parse_args()
    configure_torch(args.threads)

    obs_space = spaces.Box(-np.inf, np.inf, (OBS_DIM,), dtype=np.float32)
    act_space = spaces.Box(-1.0, 1.0, (ACT_DIM,), dtype=np.float32)
    vime = VIME(obs_space, act_space, hidden_sizes=(32, 32), n_updates=args.n_updates, seed=0, device="cpu")
    rng = np.random.default_rng(0)
    checkpoints: dict[str, float] = {"start_mib": rss_mib()}
    start = time.perf_counter()
    done = 0
    with tqdm(total=args.steps, unit="step") as bar:
        while done < args.steps:
            obs = rng.normal(size=(args.batch, OBS_DIM)).astype(np.float32)
            actions = rng.uniform(-1, 1, (args.batch, ACT_DIM)).astype(np.float32)
            next_obs = obs + 0.1 * rng.normal(size=obs.shape).astype(np.float32)
            bonus = vime(obs, actions, next_obs)
            if not np.all(np.isfinite(bonus)):
                raise RuntimeError(f"non-finite bonus after {done} steps")
            vime.add(obs, actions, next_obs)
            vime.train()
            done += args.batch
            bar.update(args.batch)
            if done >= 100_000 and "at_100k_mib" not in checkpoints:  # the batch that reaches 100k steps
                checkpoints["at_100k_mib"] = rss_mib()
    checkpoints["end_mib"] = rss_mib()
    result = {
        "steps": done,
        "batch": args.batch,
        "pool_capacity": vime.pool.capacity,
        "pool_size": len(vime.pool),
        **{k: round(v, 1) for k, v in checkpoints.items()},
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        # None (JSON null, not NaN) for a run shorter than 100k steps
        "growth_100k_to_end_mib": (
            round(checkpoints["end_mib"] - checkpoints["at_100k_mib"], 1)
            if "at_100k_mib" in checkpoints
            else None
        ),
        "minutes": round((time.perf_counter() - start) / 60, 2),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(args.out, (json.dumps(result, indent=2) + "\n").encode())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
