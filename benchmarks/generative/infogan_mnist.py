"""Benchmark: unsupervised MNIST classification by InfoGAN's categorical code.

``python -m benchmarks.generative.infogan_mnist --seeds 0 1 2`` trains the paper's MNIST model (5,000
iterations of batch 128) once per seed, then classifies the 10,000 test images by the argmax of Q's
categorical code (:meth:`generative.infogan.InfoGAN.encode`), each code value matched to one digit by the
Hungarian algorithm on the confusion matrix. The paper reports about 5% error.

Resumable at two levels: a seed with a result file ``benchmarks/results/infogan_mnist_seed{N}.json`` is
skipped; an unfinished seed resumes from its checkpoint under ``checkpoints/infogan/seed{N}/``. After
each seed the summary ``infogan_mnist.json`` (``error_per_seed`` as fractions, ``error_median``,
``minutes_per_seed``...) and report ``infogan_mnist.md`` are rewritten from the finished seeds, and the
median seed's traversal PNGs are copied to ``infogan_mnist_traversal_c{j}.png``.

References:
    Chen et al., "InfoGAN", NeurIPS 2016, section 6.1 (about 5% error on MNIST).
"""

from __future__ import annotations

import copy
import json
import shutil
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import tyro
from scipy.optimize import linear_sum_assignment

from benchmarks.provenance import command_line, environment
from benchmarks.sweep.results import atomic_write
from curiosity.runtime import configure_torch
from generative.data.mnist import load_mnist
from generative.infogan.train import InfoGANConfig, train

ROOT = Path(__file__).resolve().parents[2]
PAPER_ERROR = 0.05


@dataclass
class BenchmarkConfig:
    """InfoGAN MNIST benchmark (3 seeds of the paper's schedule)."""

    seeds: tuple[int, ...] = (0, 1, 2)
    """Seeds to run, one after the other."""
    iterations: int = 5000
    """Training iterations per seed (the paper: 5,000 of batch 128)."""
    checkpoint_root: Path = ROOT / "checkpoints" / "infogan"
    """Per-seed checkpoints and figures go to ``checkpoint_root/seed{N}``."""
    results_dir: Path = ROOT / "benchmarks" / "results"
    """Where the per-seed results, the summary JSON, the report and the figures are written."""
    progress: bool = True
    """Show tqdm progress bars."""
    threads: int | None = None
    """Torch threads (None: ``$TORCH_THREADS``, else all cores)."""
    leak: float = 0.01
    """Leaky-ReLU slope of D/Q: 0.01 in the original code, 0.1 in the paper's appendix."""
    device: str = "auto"
    """Where to train: auto (CUDA when available, else CPU), cpu, cuda or cuda:N."""


def cluster_error(predicted: np.ndarray, labels: np.ndarray) -> tuple[float, dict[int, int]]:
    """Classification error after matching each cluster to one class by the Hungarian algorithm.

    Args:
        predicted: ``(n,)`` cluster indices (e.g. the categorical code's argmax), in ``[0, K)``.
        labels: ``(n,)`` true classes in ``[0, C)``.

    Returns:
        ``(error, mapping)``: the fraction of items whose matched class differs from their label (items
        of clusters left unmatched when K > C count as errors), and cluster -> class.

    Raises:
        ValueError: arrays of different lengths or empty.
    """
    predicted, labels = np.asarray(predicted, dtype=np.int64), np.asarray(labels, dtype=np.int64)
    if predicted.shape != labels.shape or predicted.ndim != 1 or predicted.size == 0:
        raise ValueError(
            f"predicted and labels must be equal-length 1-D arrays, got {predicted.shape}, {labels.shape}"
        )
    counts = confusion_counts(predicted, labels)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return 1.0 - counts[rows, cols].sum() / predicted.size, dict(
        zip(rows.tolist(), cols.tolist(), strict=True)
    )


def confusion_counts(predicted: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``counts[k, c]``: how many items of cluster ``k`` have class ``c``."""
    counts = np.zeros((predicted.max() + 1, labels.max() + 1), dtype=np.int64)
    np.add.at(counts, (predicted, labels), 1)
    return counts


def mixed_clusters(confusion: list[list[int]], mapping: dict[str, int], purity: float = 0.9) -> list[str]:
    """Clusters whose matched digit holds under ``purity`` of their images, as ``code k (digit d): {c: n}``
    with the clusters' two largest classes."""
    found = []
    for code, row in enumerate(np.asarray(confusion)):
        matched = mapping.get(str(code))
        if row.sum() == 0 or (matched is not None and row[matched] >= purity * row.sum()):
            continue
        top = np.argsort(row)[::-1][:2]
        found.append(f"code {code} (digit {matched}): " + ", ".join(f"{c}: {row[c]}" for c in top))
    return found


@torch.no_grad()
def batch_stat_labels(model: Any, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Categorical argmax with batch norm in training mode (statistics of each test chunk), on a copy.

    A diagnostic beside :meth:`InfoGAN.encode` (running statistics, the reported number): the running
    statistics average real and generated batches, so the two can differ.
    """
    disc = copy.deepcopy(model.discriminator).train()
    images = images.unsqueeze(1).float() / 255.0
    device = next(disc.parameters()).device
    params = torch.cat([disc(chunk.to(device))[1] for chunk in images.split(batch_size)])
    return params[:, : model.spec.categorical[0]].argmax(1).cpu()


def run_seed(seed: int, config: BenchmarkConfig) -> dict[str, Any]:
    """Train (or resume) one seed and evaluate it on the test set."""
    out_dir = config.checkpoint_root / f"seed{seed}"
    train_config = InfoGANConfig(
        out_dir=out_dir,
        iterations=config.iterations,
        seed=seed,
        progress=config.progress,
        threads=config.threads,
        leak=config.leak,
        device=config.device,
    )
    result = train(train_config)
    images, labels = load_mnist("test")
    codes = result["model"].encode(images)
    predicted = codes.labels[:, 0].cpu().numpy()
    error, mapping = cluster_error(predicted, labels.numpy())
    error_batch_stats, _ = cluster_error(batch_stat_labels(result["model"], images).numpy(), labels.numpy())
    return {
        "seed": seed,
        "error": error,
        "error_batch_norm_batch_stats": error_batch_stats,
        "code_to_digit": {str(k): v for k, v in mapping.items()},
        "code_counts": torch.bincount(codes.labels[:, 0].cpu(), minlength=10).tolist(),
        "confusion": confusion_counts(predicted, labels.numpy()).tolist(),  # [code][digit]
        "iterations": result["iterations"],
        "minutes": result["train_seconds"] / 60,
        # unaffected by other work on a shared machine; None when the seed resumed an older checkpoint
        "cpu_minutes": None if result["cpu_seconds"] is None else result["cpu_seconds"] / 60,
        "seconds_per_iteration": result["seconds_per_iteration"],
        "final": result["final"],
        "figures": result["figures"],
        "config": train_config.to_dict(),
        "torch_threads": torch.get_num_threads(),
    }


def summarise(results: list[dict[str, Any]], config: BenchmarkConfig) -> dict[str, Any]:
    """Aggregate finished seeds; copy the median seed's figures; write the JSON and markdown report."""
    results = sorted(results, key=lambda r: r["seed"])
    errors = [r["error"] for r in results]
    ranked = sorted(results, key=lambda r: r["error"])
    median_seed = ranked[(len(ranked) - 1) // 2]["seed"]
    figures = []
    for source in next(r for r in results if r["seed"] == median_seed)["figures"]:
        target = config.results_dir / f"infogan_mnist_{Path(source).name}"
        if Path(source).is_file():  # checkpoints stay local: a fresh clone keeps the committed copy
            shutil.copyfile(source, target)
        if target.is_file():
            figures.append(target.name)
    summary = {
        "benchmark": "InfoGAN MNIST: unsupervised classification by the categorical code",
        "seeds": [r["seed"] for r in results],
        "error_per_seed": errors,
        "error_median": statistics.median(errors),
        "error_mean": statistics.fmean(errors),
        "median_seed": median_seed,
        "minutes_per_seed": [r["minutes"] for r in results],
        "cpu_minutes_per_seed": [r.get("cpu_minutes") for r in results],
        "seconds_per_iteration": [r["seconds_per_iteration"] for r in results],
        "iterations": [r["iterations"] for r in results],
        "torch_threads": [r["torch_threads"] for r in results],
        "leak": config.leak,
        "paper_error": PAPER_ERROR,
        "figures": figures,
        "command": command_line("benchmarks.generative.infogan_mnist"),
        "environment": environment(),
    }
    atomic_write(config.results_dir / "infogan_mnist.json", (json.dumps(summary, indent=2) + "\n").encode())
    atomic_write(config.results_dir / "infogan_mnist.md", report(summary, results).encode())
    return summary


def _minutes(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def report(summary: dict[str, Any], results: list[dict[str, Any]]) -> str:
    """The markdown report."""
    lines = [
        "# InfoGAN on MNIST: unsupervised classification by the categorical code",
        "",
        f"Command: `{summary['command']}`",
        "(paper schedule: 5,000 iterations of batch 128, Adam beta1 0.5, lr 2e-4 D/Q and 1e-3 G, lambda 1;",
        f"leaky-ReLU slope {summary['leak']}).",
        "Each categorical code value is matched to a digit by the Hungarian algorithm on the 10,000",
        "test images.",
        "",
        "| seed | test error | iterations | minutes | CPU minutes | s/iteration | threads | MI cat (nats) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r['seed']} | {100 * r['error']:.2f}% | {r['iterations']} | {r['minutes']:.1f} | "
            f"{_minutes(r.get('cpu_minutes'))} | "
            f"{r['seconds_per_iteration']:.3f} | {r['torch_threads']} | {r['final']['mi_categorical']:.3f} |"
        )
    lines += [
        "",
        "Minutes are wall-clock time, which on the shared 2-core machine includes waiting for other jobs;",
        "CPU minutes count this process alone (– for a seed resumed from a checkpoint made before they were",
        "recorded).",
        "",
        f"Median error: **{100 * summary['error_median']:.2f}%** (paper: about {100 * PAPER_ERROR:.0f}%); "
        f"mean {100 * summary['error_mean']:.2f}%.",
        "",
        "Codes whose matched digit holds under 90% of their test images (their two largest digits):",
        "",
    ]
    for r in results:
        mixed = mixed_clusters(r["confusion"], r["code_to_digit"]) if "confusion" in r else ["not recorded"]
        lines.append(f"- seed {r['seed']}: " + ("; ".join(mixed) or "none"))
    lines += [
        "",
        f"Latent traversals of the median seed ({summary['median_seed']}): rows are the categorical code's",
        "value, columns sweep one continuous code from -2 to 2 (the prior covers [-1, 1]), the other",
        "codes at 0.",
        "",
    ]
    lines += [f"![{name}]({name})" for name in summary["figures"]]
    return "\n".join(lines) + "\n"


def check_reusable(result: dict[str, Any], config: BenchmarkConfig, path: Path) -> None:
    """Refuse a finished seed made with other settings than ``config``'s (it would mix two experiments).

    Raises:
        SystemExit: the seed's iterations or leaky-ReLU slope differ; names the file and the settings.
    """
    made = (result["config"]["iterations"], result["config"].get("leak", 0.01))
    wanted = (config.iterations, config.leak)
    if made != wanted:
        raise SystemExit(
            f"{path} was made with {made[0]} iterations and leak {made[1]}, not {wanted[0]} and {wanted[1]}: "
            "give another --results-dir, or delete the file to rerun the seed"
        )


def main(config: BenchmarkConfig | None = None) -> dict[str, Any]:
    """Run the missing seeds, then write the summary; returns it."""
    if config is None:
        config = tyro.cli(BenchmarkConfig)
    configure_torch(config.threads)
    config.results_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for seed in config.seeds:
        path = config.results_dir / f"infogan_mnist_seed{seed}.json"
        if path.is_file():
            print(f"seed {seed}: already done ({path})")
            result = json.loads(path.read_text())
            check_reusable(result, config, path)
        else:
            result = run_seed(seed, config)
            atomic_write(path, (json.dumps(result, indent=2) + "\n").encode())  # a seed's file is whole
        print(f"seed {seed}: error {100 * result['error']:.2f}% in {result['minutes']:.1f} min", flush=True)
        results.append(result)
        summary = summarise(results, config)
    print(json.dumps({k: summary[k] for k in ("error_per_seed", "error_median", "minutes_per_seed")}))
    return summary


if __name__ == "__main__":
    main()
