"""``curiosity train`` and ``curiosity evaluate``: one run of an SB3 agent, with or without a bonus."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.table import Table

from agents.errors import UsageError
from curiosity.registry import BONUSES

#: ``--bonus`` choices: none, or any bonus of the registry
BonusName = Literal[("none", *BONUSES)]  # type: ignore[valid-type]


@dataclass
class TrainArgs:
    """Train an SB3 agent on a gymnasium task with an exploration bonus, and save it (its final metrics in
    metrics.json)."""

    env: str = "SparseMountainCar-v0"
    """Gymnasium environment id (the toolkit's sparse tasks are registered by `import envs`)."""
    algo: Literal["ppo", "a2c", "trpo", "sac", "td3", "dqn"] = "ppo"
    """Stable-Baselines3 (or sb3-contrib) algorithm."""
    bonus: BonusName = "vime"
    """Exploration bonus added to the reward."""
    timesteps: int = 100_000
    """Environment steps to train for."""
    seed: int = 0
    """Seed of the environment, the agent and the bonus."""
    out: str = "runs/train"
    """Run directory: config.json, curve.csv, model.zip, bonus.pt and TensorBoard logs (tb/)."""
    eta: float | None = None
    """Bonus scale in r + eta * bonus (default: the bonus's own default)."""
    eta_schedule: Literal["constant", "linear"] = "constant"
    """How eta changes over training: constant, or linear from --eta at the start to 0 at the end."""
    n_envs: int = 1
    """Parallel environments."""
    mode: Literal["auto", "step", "rollout", "relabel"] = "auto"
    """When the bonus is computed: auto = end of rollout (on-policy) / at sampling (off-policy; at each step
    for the episodic e3b, ride and ngu)."""
    train_freq: int = 5000
    """Environment steps between bonus trainings for off-policy algorithms."""
    bootstrap_horizon: bool = True
    """Bootstrap the value where the time limit cuts an episode (SB3); --no-bootstrap-horizon: the horizon
    ends the task, as in rllab and the VIME paper."""
    value_targets: Literal["augmented", "extrinsic"] = "augmented"
    """Rollout mode: fit the value function to returns of the reward plus bonus, or of the extrinsic reward
    alone (the VIME paper's choice; advantages use the bonus either way)."""
    value_baseline: Literal["critic", "linear_feature"] = "critic"
    """The algorithm's own critic, or rllab's least-squares linear-feature baseline (on-policy; the VIME
    paper's HalfCheetah; give TRPO '{"n_critic_updates": 0}' in --algo-kwargs)."""
    algo_kwargs: str = "{}"
    """Extra keyword arguments of the algorithm, as JSON (e.g. '{"n_steps": 2048}')."""
    bonus_kwargs: str = "{}"
    """Extra keyword arguments of the bonus, as JSON (e.g. '{"hidden_sizes": [64, 64]}')."""
    env_kwargs: str = "{}"
    """Keyword arguments of gym.make, as JSON (e.g. '{"frame_stack": 2}' for a pixel task)."""
    threads: int | None = None
    """Torch threads (default: all cores)."""


@dataclass
class EvaluateArgs:
    """Roll out a saved run's policy and report its extrinsic return and success rate."""

    run: str = "runs/train"
    """Run directory written by `curiosity train`."""
    episodes: int = 10
    """Episodes to roll out."""
    stochastic: bool = False
    """Sample actions instead of taking the policy's mode."""


def _parse_json(text: str, name: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(name, f"{name} must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError(name, f"{name} must be a JSON object (e.g. '{{\"key\": 1}}'), got {text!r}")
    return value


def train(args: TrainArgs) -> dict:
    """Run :func:`agents.experiment.run_experiment` from command-line arguments and print the result.

    Raises:
        UsageError: a bad argument, before anything is written to ``--out``.
    """
    from agents.experiment import run_experiment

    if args.eta is not None and args.bonus == "none":
        raise UsageError("eta", "eta has no effect with --bonus none: drop --eta or choose a bonus")
    if args.value_targets != "augmented" and args.bonus == "none":
        raise UsageError("value_targets", "value_targets chooses between returns with and without a bonus: "
                         "it needs a bonus")
    callback_kwargs = {"value_targets": args.value_targets} if args.value_targets != "augmented" else None
    metrics = run_experiment(
        args.env, args.algo, args.bonus, args.timesteps, args.seed, args.out, eta=args.eta,
        eta_schedule=args.eta_schedule, algo_kwargs=_parse_json(args.algo_kwargs, "algo_kwargs"),
        bonus_kwargs=_parse_json(args.bonus_kwargs, "bonus_kwargs"),
        n_envs=args.n_envs, mode=args.mode, train_freq=args.train_freq, tensorboard=True,
        progress_bar=True, threads=args.threads, env_kwargs=_parse_json(args.env_kwargs, "env_kwargs"),
        bootstrap_horizon=args.bootstrap_horizon, callback_kwargs=callback_kwargs,
        value_baseline=args.value_baseline,
    )  # fmt: skip
    (Path(args.out) / "metrics.json").write_text(json.dumps(metrics, indent=2))
    _print_metrics(f"{args.algo} + {args.bonus} on {args.env}", metrics)
    return metrics


def evaluate(args: EvaluateArgs) -> dict:
    """Evaluate a saved run and print the result.

    Raises:
        UsageError: ``--episodes`` < 1, or ``--run`` is not a run directory.
    """
    from agents.experiment import evaluate_run

    try:
        metrics = evaluate_run(args.run, args.episodes, deterministic=not args.stochastic)
    except FileNotFoundError as error:
        raise UsageError("run_dir", f"{error} (give the --out of 'curiosity train')") from error
    _print_metrics(f"evaluation of {args.run}", metrics)
    return metrics


def _print_metrics(title: str, metrics: dict) -> None:
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    Console().print(table)
