"""The curiosity command.

    curiosity demo                     PPO with and without VIME on SparseMountainCar-v1 (table + plots)
    curiosity train --env ID ...       train one agent (agents.cli.TrainArgs)
    curiosity evaluate --run DIR       evaluate a saved run
    curiosity bench run SUITE ...      run a benchmark suite (local processes or Ray)
    curiosity bench report DIR         tables, summary.json and plots of a finished sweep
    curiosity gan train ...            Improved-GAN, semi-supervised MNIST
    curiosity infogan train ...        InfoGAN on MNIST
    curiosity vae train ...            VAE with inverse autoregressive flow on binarised MNIST

Each subcommand's --help documents its flags. A mistake in the arguments names the flag and exits with
status 2 (a bad value in one line, a malformed value or an unknown flag in the argument parser's box);
--debug shows the traceback instead.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Iterator

import tyro

from agents.errors import UsageError

# command words -> (module, config dataclass, function taking the config)
COMMANDS: dict[tuple[str, ...], tuple[str, str, str]] = {
    ("demo",): ("benchmarks.sweep.demo", "DemoArgs", "main"),
    ("train",): ("agents.cli", "TrainArgs", "train"),
    ("evaluate",): ("agents.cli", "EvaluateArgs", "evaluate"),
    ("bench", "run"): ("benchmarks.sweep.cli", "BenchRun", "run"),
    ("bench", "report"): ("benchmarks.sweep.cli", "BenchReport", "report"),
    ("gan", "train"): ("generative.gan.train", "TrainGanConfig", "train"),
    ("infogan", "train"): ("generative.infogan.train", "InfoGANConfig", "train"),
    ("vae", "train"): ("generative.iaf.train", "IAFTrainConfig", "train"),
}


def _usage() -> str:
    lines = [__doc__.strip().splitlines()[0], "", "commands:"]
    lines += [f"  curiosity {' '.join(words)}" for words in COMMANDS]
    return "\n".join(lines)


#: parameters whose flag is not ``--`` + the name with dashes
FLAGS = {"env_id": "--env", "total_timesteps": "--timesteps", "run_dir": "--run", "suite": "SUITE",
         "dir": "DIR"}  # fmt: skip


@contextlib.contextmanager
def usage_errors(prog: str, debug: bool = False) -> Iterator[None]:
    """Print a :class:`~agents.errors.UsageError` as one line naming the flag and exit with status 2
    (``debug``: let it raise, traceback and all)."""
    try:
        yield
    except UsageError as error:
        if debug:
            raise
        flag = FLAGS.get(error.param, "--" + error.param.replace("_", "-"))
        message = " ".join(str(error).split())  # one line
        if message.startswith(f"{error.param} "):  # "n_envs must be ..." -> "--n-envs must be ..."
            message = message[len(error.param) :]
        else:
            message = ": " + message
        print(f"{prog}: error: {flag}{message}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: list[str] | None = None) -> None:
    """Dispatch ``curiosity WORDS... [FLAGS]`` to the subcommand's dataclass parser and function."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [arg for arg in argv if arg != "--debug"]
    for words, (module_name, config_name, function_name) in COMMANDS.items():
        if tuple(argv[: len(words)]) == words:
            prog = f"curiosity {' '.join(words)}"
            module = importlib.import_module(module_name)
            config = tyro.cli(getattr(module, config_name), args=argv[len(words) :], prog=prog)
            with usage_errors(prog, debug):
                getattr(module, function_name)(config)
            return
    if argv and argv[0] not in ("-h", "--help"):
        print(f"curiosity: unknown command {' '.join(argv[:2])!r}\n", file=sys.stderr)
        print(_usage(), file=sys.stderr)
        raise SystemExit(2)
    print(__doc__.strip())


if __name__ == "__main__":
    main()
