"""The device check of issue #26, for a machine with a CUDA GPU: VIME's information gain there.

Measures, with ``benchmarks.speed.infogain_speed``'s code, the batched second-order information gain of 5,000
HalfCheetah-sized transitions (BNN 32-32) on CUDA and its ratio to one plain forward+backward pass of the same
BNN on the same batch (10 and 1 Monte Carlo samples), the same on the CPU for comparison, and the agreement of
CUDA with the CPU: the information gain itself (same weights and noise) and VIME end to end (same seed, the
same transitions added and trained on, then the bonuses). Writes ``benchmarks/results/gpu_check.json`` and
prints it as the last line. Without CUDA it says so and exits with status 0, writing nothing.

    python -m benchmarks.speed.gpu_check [--batch 5000] [--samples 10 1] \
        [--out benchmarks/results/gpu_check.json]
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import numpy as np
import torch
from gymnasium import spaces

from benchmarks.provenance import command_line, environment
from benchmarks.speed.infogain_speed import ACT_DIM, HIDDEN, OBS_DIM, measure
from benchmarks.sweep.results import atomic_write
from curiosity.bnn import BNN
from curiosity.infogain import second_order_kl
from curiosity.runtime import configure_torch, resolve_device
from curiosity.vime import VIME


def vime_agreement(batch: int, device: torch.device) -> dict:
    """Largest relative difference of VIME's bonuses on ``device`` from the CPU's: same seed, the same
    ``batch`` transitions added, one training (500 updates), then the bonuses of those transitions."""
    rng = np.random.default_rng(0)
    obs, nxt = rng.normal(size=(batch, OBS_DIM)), rng.normal(size=(batch, OBS_DIM))
    actions = rng.uniform(-1, 1, (batch, ACT_DIM))
    bonuses = []
    for where in (torch.device("cpu"), device):
        vime = VIME(spaces.Box(-np.inf, np.inf, (OBS_DIM,)), spaces.Box(-1.0, 1.0, (ACT_DIM,)),
                    hidden_sizes=HIDDEN, seed=0, device=where)  # fmt: skip
        vime.add(obs, actions, nxt)
        vime.train()
        bonuses.append(vime.compute(obs, actions, nxt).astype(np.float64))
    cpu, gpu = bonuses
    rel = np.abs(gpu - cpu) / np.maximum(np.abs(cpu), 1e-30)
    return {"transitions": batch, "max_rel_diff": float(rel.max()), "median_rel_diff": float(np.median(rel))}


def infogain_agreement(batch: int, n_samples: int, device: torch.device) -> float:
    """Largest relative difference of the batched information gain on ``device`` from the CPU's, for the same
    weights, inputs and noise (float32 matrix products on both: TF32 off)."""
    torch.manual_seed(0)
    bnn = BNN(OBS_DIM + ACT_DIM, OBS_DIM, HIDDEN)
    x, y = torch.randn(batch, OBS_DIM + ACT_DIM), torch.randn(batch, OBS_DIM)
    noise = bnn.sample_noise(n_samples, batch)
    cpu = second_order_kl(bnn, x, y, n_samples=n_samples, noise=noise).double()
    tf32 = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        gpu = second_order_kl(bnn.to(device), x.to(device), y.to(device), n_samples=n_samples,
                              noise=[eps.to(device) for eps in noise]).double().cpu()  # fmt: skip
    finally:
        torch.backends.cuda.matmul.allow_tf32 = tf32
    return float(((gpu - cpu).abs() / cpu.abs()).max())


def run(batch: int, samples: list[int], device: torch.device) -> dict:
    """Every measurement above, as one JSON-ready dict."""
    by_samples = []
    for n_samples in samples:
        gpu = measure(batch, n_samples, device, loop=False)
        cpu = measure(batch, n_samples, torch.device("cpu"), loop=False)
        by_samples.append({
            "n_samples": n_samples,
            "ms_batched_cuda": gpu["ms_batched"],
            "ms_plain_forward_backward_cuda": gpu["ms_plain_forward_backward"],
            "ratio_to_plain_pass_cuda": gpu["ratio_to_plain_pass"],
            "ms_batched_cpu": cpu["ms_batched"],
            "ratio_to_plain_pass_cpu": cpu["ratio_to_plain_pass"],
            "cpu_threads": cpu["threads"],
            "infogain_max_rel_diff_cuda_vs_cpu": infogain_agreement(batch, n_samples, device),
        })  # fmt: skip
    return {
        "device": torch.cuda.get_device_name(device),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cpu": platform.processor() or platform.machine(),
        "batch": batch,
        "obs_dim": OBS_DIM,
        "action_dim": ACT_DIM,
        "hidden": list(HIDDEN),
        "by_samples": by_samples,
        "vime_end_to_end": vime_agreement(batch, device),
        "command": command_line("benchmarks.speed.gpu_check"),
        "environment": environment(),
    }


def main(argv: list[str] | None = None) -> dict | None:
    """Command-line entry point; returns the result (``None`` without CUDA)."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--batch", type=int, default=5000, help="transitions per batch")
    parser.add_argument("--samples", type=int, nargs="+", default=[10, 1], help="Monte Carlo weight samples")
    parser.add_argument("--device", default="cuda", help="the CUDA device to check (cuda or cuda:N)")
    parser.add_argument("--threads", type=int, default=None, help="CPU torch threads (default: all cores)")
    parser.add_argument("--out", default="benchmarks/results/gpu_check.json")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print(f"gpu_check: no CUDA device on this machine (torch {torch.__version__}, built for CUDA "
              f"{torch.version.cuda}): nothing measured, nothing written", flush=True)  # fmt: skip
        return None
    device = resolve_device(args.device)
    if device.type != "cuda":
        parser.error(f"--device must name a CUDA device (cuda or cuda:N), got {args.device!r}")
    configure_torch(args.threads)
    result = run(args.batch, args.samples, device)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(args.out, (json.dumps(result, indent=2) + "\n").encode())
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
