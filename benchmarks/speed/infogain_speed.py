"""Speed of the batched second-order information gain against the original's per-transition loop.

Times, in one run and on the same inputs and noise, (1) the batched estimator, (2) a per-transition
autograd loop computing the same values (the original VIME's way), and (3) one plain forward+backward
pass of the same BNN on the same batch (the practical floor). Writes
``benchmarks/results/infogain_speed.json`` and prints it as the last line.

    python -m benchmarks.speed.infogain_speed [--batch 5000] [--samples 10] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from benchmarks.sweep.results import atomic_write
from curiosity.bnn import BNN
from curiosity.infogain import second_order_kl, second_order_kl_loop
from curiosity.runtime import configure_torch

# HalfCheetah: 17-dim observation, 6-dim action; the BNN of the issue: 32-32 hidden.
OBS_DIM, ACT_DIM, HIDDEN = 17, 6, (32, 32)
CPU = torch.device("cpu")


def _best_of(fn, repeats: int, device: torch.device = CPU) -> float:
    """Fastest of ``repeats`` timed calls, in milliseconds (waiting for a GPU's queued kernels to finish)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 1000 * best


def measure(batch: int, n_samples: int, device: torch.device = CPU, loop: bool = True) -> dict:
    """Time the batched estimator, one plain forward+backward pass and (``loop``) the per-transition loop.

    The BNN, inputs and noise are drawn on the CPU (seed 0) and moved to ``device``: the same problem on
    every device. Without ``loop`` the loop's time, the speedup and the error against it are left out.
    """
    torch.manual_seed(0)
    bnn = BNN(OBS_DIM + ACT_DIM, OBS_DIM, HIDDEN)
    inputs, targets = torch.randn(batch, OBS_DIM + ACT_DIM), torch.randn(batch, OBS_DIM)
    noise = bnn.sample_noise(n_samples, batch)
    bnn, inputs, targets = bnn.to(device), inputs.to(device), targets.to(device)
    noise = [eps.to(device) for eps in noise]

    def plain_pass():
        out = bnn(inputs, n_samples, noise=noise)
        loss = -bnn.log_likelihood(out, targets).sum()
        torch.autograd.grad(loss, list(bnn.parameters()))

    def batched_pass():
        return second_order_kl(bnn, inputs, targets, n_samples=n_samples, noise=noise)

    looped: list[torch.Tensor] = []

    def loop_pass():
        looped.append(second_order_kl_loop(bnn, inputs, targets, n_samples=n_samples, noise=noise))

    ms_batched = _best_of(batched_pass, 5, device)
    ms_plain = _best_of(plain_pass, 5, device)
    result = {
        "batch": batch,
        "n_samples": n_samples,
        "obs_dim": OBS_DIM,
        "action_dim": ACT_DIM,
        "hidden": list(HIDDEN),
        "threads": torch.get_num_threads(),
        "ms_batched": round(ms_batched, 3),
        "ms_plain_forward_backward": round(ms_plain, 3),
        "ratio_to_plain_pass": round(ms_batched / ms_plain, 2),
    }
    if loop:
        ms_loop = _best_of(loop_pass, 1, device)
        reference = looped[0].double()
        rel_err = ((batched_pass().double() - reference).abs() / reference.abs()).max().item()
        result |= {"ms_loop": round(ms_loop, 1), "speedup": round(ms_loop / ms_batched, 1)}
        result["max_rel_err"] = rel_err
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=5000, help="transitions per batch")
    parser.add_argument(
        "--samples", type=int, nargs="+", default=[10, 1], help="Monte Carlo weight samples (first: headline)"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    parser.add_argument("--out", default="benchmarks/results/infogain_speed.json")
    args = parser.parse_args()
    configure_torch(args.threads)

    runs = [measure(args.batch, n_samples) for n_samples in args.samples]
    result = {**runs[0], "by_samples": runs}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(args.out, (json.dumps(result, indent=2) + "\n").encode())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
