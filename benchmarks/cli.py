"""The ``curiosity`` command.

    curiosity demo                     PPO with and without VIME on SparseMountainCar-v0 (table + plots)
    curiosity train --env ID ...       train one agent (agents.cli.TrainArgs)
    curiosity evaluate --run DIR       evaluate a saved run
    curiosity bench run SUITE ...      run a benchmark suite (local processes or Ray)
    curiosity bench report DIR         tables, summary.json and plots of a finished sweep
    curiosity gan train ...            Improved-GAN, semi-supervised MNIST
    curiosity infogan train ...        InfoGAN on MNIST
    curiosity vae train ...            VAE with inverse autoregressive flow on binarised MNIST

Each subcommand's ``--help`` documents its flags. Modules load lazily, so ``--help`` is fast.
"""

from __future__ import annotations

import importlib
import sys

import tyro

# command words -> (module, config dataclass, function taking the config)
COMMANDS: dict[tuple[str, ...], tuple[str, str, str]] = {
    ("demo",): ("benchmarks.demo", "DemoArgs", "main"),
    ("train",): ("agents.cli", "TrainArgs", "train"),
    ("evaluate",): ("agents.cli", "EvaluateArgs", "evaluate"),
    ("bench", "run"): ("benchmarks.bench_cli", "BenchRun", "run"),
    ("bench", "report"): ("benchmarks.bench_cli", "BenchReport", "report"),
    ("gan", "train"): ("generative.train_gan", "TrainGanConfig", "train"),
    ("infogan", "train"): ("generative.train_infogan", "InfoGANConfig", "train"),
    ("vae", "train"): ("generative.train_iaf", "IAFTrainConfig", "train"),
}


def _usage() -> str:
    lines = [__doc__.strip().splitlines()[0], "", "commands:"]
    lines += [f"  curiosity {' '.join(words)}" for words in COMMANDS]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Dispatch ``curiosity WORDS... [FLAGS]`` to the subcommand's dataclass parser and function."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for words, (module_name, config_name, function_name) in COMMANDS.items():
        if tuple(argv[: len(words)]) == words:
            module = importlib.import_module(module_name)
            config = tyro.cli(
                getattr(module, config_name), args=argv[len(words) :], prog=f"curiosity {' '.join(words)}"
            )
            getattr(module, function_name)(config)
            return
    if argv and argv[0] not in ("-h", "--help"):
        print(f"curiosity: unknown command {' '.join(argv[:2])!r}\n", file=sys.stderr)
        print(_usage(), file=sys.stderr)
        raise SystemExit(2)
    print(__doc__.strip())


if __name__ == "__main__":
    main()
