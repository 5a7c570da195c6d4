"""One training run: an SB3 algorithm on a gymnasium task, with or without an exploration bonus.

This is what ``curiosity train`` and each job of a benchmark suite call. A run directory holds
``config.json``, ``curve.csv`` (one row per episode), ``visitation.npz`` (MountainCar), ``model.zip``,
``bonus.pt`` and TensorBoard logs under ``tb/`` when asked. Nothing is written before the arguments are
checked. Evaluation rebuilds the model from ``config.json`` and reads only the policy's tensors from
``model.zip`` (:func:`agents.persistence.load_policy`): SB3's ``load`` would unpickle the zip's data.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from sb3_contrib import TRPO
from stable_baselines3 import A2C, DQN, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.utils import set_random_seed

import envs  # noqa: F401  (registers the sparse tasks)
from agents.callback import CuriosityCallback
from agents.checkpoint import CHECKPOINT_FILE, CheckpointCallback, load_checkpoint
from agents.errors import UsageError
from agents.horizon import HorizonAsTermination
from agents.linear_baseline import LinearBaselineCallback
from agents.persistence import load_policy, save_bonus
from agents.pixels import ENCODER_KEYS, policy_for, resolve_bonus_kwargs
from agents.recorder import EpisodeRecorder
from agents.replay_buffer import CuriosityReplayBuffer
from agents.vec_env import CuriosityVecEnv
from curiosity import BONUSES
from curiosity.registry import check_kwargs
from curiosity.runtime import configure_torch, resolve_device
from curiosity.schedules import SCHEDULES, make_schedule

ALGOS: dict[str, type[BaseAlgorithm]] = {
    "ppo": PPO, "a2c": A2C, "trpo": TRPO, "sac": SAC, "td3": TD3, "dqn": DQN,
}  # fmt: skip
BONUS_NAMES = ("none", *BONUSES)
MODES = ("auto", "step", "rollout", "relabel")
#: what a run's advantages are measured against (:func:`run_experiment`)
VALUE_BASELINES = ("critic", "linear_feature")


def check_choices(env_id: str, algo: str, bonus: str) -> None:
    """Raise a :class:`UsageError` naming the known choices for an unknown env id, algorithm or bonus."""
    if algo not in ALGOS:
        raise UsageError("algo", f"unknown algorithm {algo!r}; choose one of {', '.join(ALGOS)}")
    if bonus not in BONUS_NAMES:
        raise UsageError("bonus", f"unknown bonus {bonus!r}; choose one of {', '.join(BONUS_NAMES)}")
    if env_id not in gym.registry:
        sparse = ", ".join(k for k in gym.registry if k.startswith(("Sparse", "SwimmerGather")))
        raise UsageError("env_id", f"unknown environment id {env_id!r} (the toolkit's tasks: {sparse})")


def check_run_args(
    env_id: str,
    algo: str,
    bonus: str,
    n_envs: int = 1,
    eta: float | None = None,
    bonus_kwargs: dict[str, Any] | None = None,
    mode: str = "auto",
    eta_schedule: str = "constant",
) -> None:
    """Check a run's arguments before anything is built or written.

    Raises:
        UsageError: an unknown choice, ``n_envs`` < 1, a mode the algorithm cannot use, a keyword the
            bonus does not take, a bonus ``device`` that is unknown or absent, or bonus settings with
            ``bonus="none"`` (they would be ignored).
    """
    check_choices(env_id, algo, bonus)
    if not _positive_int(n_envs):
        raise UsageError("n_envs", f"n_envs must be an integer >= 1, got {n_envs!r}")
    if mode not in MODES:
        raise UsageError("mode", f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if eta_schedule not in SCHEDULES:
        raise UsageError("eta_schedule", f"eta_schedule must be one of {', '.join(SCHEDULES)}, got "
                         f"{eta_schedule!r}")
    if eta_schedule != "constant" and eta is None:
        raise UsageError("eta_schedule", f"eta_schedule={eta_schedule!r} schedules a given eta: set eta too")
    if bonus == "none":
        if eta:  # a suite's "none" method carries eta 0
            raise UsageError("eta", f"eta={eta!r} has no effect without a bonus: drop it or choose a bonus")
        if bonus_kwargs:
            raise UsageError("bonus_kwargs", "bonus settings have no effect without a bonus: drop them or "
                             "choose a bonus")  # fmt: skip
        return
    off_policy = issubclass(ALGOS[algo], OffPolicyAlgorithm)
    if mode == "relabel" and not off_policy:
        raise UsageError("mode", f"mode 'relabel' relabels a replay buffer, which {algo} has not: use "
                         "'rollout' or 'step', or an off-policy algorithm (sac, td3, dqn)")  # fmt: skip
    if mode == "rollout" and off_policy:
        raise UsageError("mode", f"mode 'rollout' rewrites an on-policy rollout, which {algo} has not: use "
                         "'relabel' or 'step', or an on-policy algorithm (ppo, a2c, trpo)")  # fmt: skip
    try:  # before an encoder is pretrained or anything is written
        check_kwargs(bonus, BONUSES[bonus], {k: 0 for k in bonus_kwargs or {} if k not in ENCODER_KEYS})
    except TypeError as error:
        raise UsageError("bonus_kwargs", str(error)) from None
    if "device" in (bonus_kwargs or {}):  # e.g. CUDA asked for on a machine without it
        try:
            resolve_device(bonus_kwargs["device"])
        except (TypeError, ValueError) as error:
            raise UsageError("bonus_kwargs", str(error)) from None


def _positive_int(value: Any) -> bool:
    number = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    return number and float(value).is_integer() and value >= 1


def build(
    env_id: str,
    algo: str = "ppo",
    bonus: str = "vime",
    seed: int = 0,
    n_envs: int = 1,
    eta: float | None = None,
    algo_kwargs: dict[str, Any] | None = None,
    bonus_kwargs: dict[str, Any] | None = None,
    mode: str = "auto",
    tensorboard_log: str | None = None,
    env_kwargs: dict[str, Any] | None = None,
    bootstrap_horizon: bool = True,
    eta_schedule: str = "constant",
) -> tuple[BaseAlgorithm, CuriosityVecEnv | None]:
    """The model (and its curiosity wrapper, ``None`` for ``bonus="none"``) of a run.

    ``mode="auto"`` picks the original semantics: ``"rollout"`` for on-policy algorithms, ``"relabel"``
    (fresh bonuses at sample time) for off-policy ones, except ``"step"`` for episodic bonuses (E3B, RIDE,
    NGU), which a replay sample cannot relabel (it carries no episode). ``env_kwargs`` go to every
    ``gym.make`` of the task (the training copies and an encoder's pretraining frames alike).
    ``bootstrap_horizon=False`` treats the time limit as the end of the task, as rllab did
    (:class:`agents.horizon.HorizonAsTermination`).
    ``eta_schedule`` names how ``eta`` changes with training progress (:mod:`curiosity.schedules`).

    Raises:
        UsageError: see :func:`check_run_args`.
    """
    check_run_args(env_id, algo, bonus, n_envs, eta, bonus_kwargs, mode, eta_schedule)
    set_random_seed(seed)
    algo_cls = ALGOS[algo]
    algo_kwargs = dict(algo_kwargs or {})
    # int(): a whole float (e.g. 2.0 from a config file) passes the check, but make_vec_env takes ints only
    venv = make_vec_env(env_id, n_envs=int(n_envs), seed=seed, env_kwargs=env_kwargs)
    if not bootstrap_horizon:
        venv = HorizonAsTermination(venv)
    wrapper = None
    if bonus != "none":
        off_policy = issubclass(algo_cls, OffPolicyAlgorithm)
        if mode == "auto":  # an episodic bonus depends on its episode, which a replay sample has not
            episodic = getattr(BONUSES[bonus], "episodic", False)
            mode = "rollout" if not off_policy else "step" if episodic else "relabel"
        if mode == "relabel":
            algo_kwargs.setdefault("replay_buffer_class", CuriosityReplayBuffer)
        kwargs = {"seed": seed, **resolve_bonus_kwargs(env_id, bonus_kwargs, seed, env_kwargs)}
        if eta is not None:
            kwargs["eta"] = make_schedule(eta_schedule, eta) if eta_schedule != "constant" else eta
        wrapper = CuriosityVecEnv(venv, bonus, mode=mode, bonus_kwargs=kwargs)
        venv = wrapper
    policy = policy_for(venv.observation_space)  # CnnPolicy for pixel tasks
    model = algo_cls(policy, venv, seed=seed, tensorboard_log=tensorboard_log, **algo_kwargs)
    return model, wrapper


def run_experiment(
    env_id: str,
    algo: str = "ppo",
    bonus: str = "vime",
    total_timesteps: int = 100_000,
    seed: int = 0,
    out_dir: str | Path = "runs/run",
    eta: float | None = None,
    algo_kwargs: dict[str, Any] | None = None,
    bonus_kwargs: dict[str, Any] | None = None,
    n_envs: int = 1,
    mode: str = "auto",
    train_freq: int = 5000,
    tensorboard: bool = False,
    progress_bar: bool = False,
    threads: int | None = 1,
    save: bool = True,
    env_kwargs: dict[str, Any] | None = None,
    callback_kwargs: dict[str, Any] | None = None,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 50,
    bootstrap_horizon: bool = True,
    eta_schedule: str = "constant",
    value_baseline: str = "critic",
) -> dict[str, Any]:
    """Train, record and save one run; return its final metrics.

    Args:
        env_id: a registered gymnasium id (the toolkit's tasks register on ``import envs``).
        algo: ``ppo``, ``a2c``, ``trpo``, ``sac``, ``td3`` or ``dqn``.
        bonus: ``none`` or a name in ``curiosity.BONUSES`` (``vime``, ``rnd``, ``icm``, ...).
        total_timesteps: environment steps.
        seed: seeds the env, the agent and the bonus.
        out_dir: the run directory.
        eta: bonus scale (default: the bonus's own default).
        algo_kwargs: keyword arguments of the SB3 algorithm.
        bonus_kwargs: keyword arguments of the bonus.
        n_envs: parallel environments.
        mode: the wrapper's mode (``auto``, ``step``, ``rollout``, ``relabel``).
        train_freq: steps between bonus trainings for off-policy algorithms.
        tensorboard: write TensorBoard logs under ``out_dir/tb``.
        progress_bar: show SB3's progress bar.
        threads: torch threads (``None``: all cores).
        save: save ``model.zip`` and ``bonus.pt``.
        env_kwargs: keyword arguments of ``gym.make`` (e.g. ``{"frame_stack": 2}`` for a pixel task).
        callback_kwargs: keyword arguments of :class:`CuriosityCallback` (e.g. ``{"value_targets":
            "extrinsic"}``).
        checkpoint_dir: where to keep a mid-run checkpoint (:mod:`agents.checkpoint`); a run started with
            a checkpoint there resumes from it. ``None``: no checkpoints.
        checkpoint_every: rollouts between checkpoints (off-policy algorithms: blocks of
            ``agents.checkpoint.OFF_POLICY_BLOCK`` environment steps; their checkpoints hold the replay
            buffer).
        bootstrap_horizon: let SB3 bootstrap the value where the time limit cuts an episode (its default);
            ``False``: rllab's semantics, the horizon ends the task (:mod:`agents.horizon`).
        eta_schedule: ``"constant"`` or ``"linear"`` (from ``eta`` at the start to 0 at the end of
            training; :mod:`curiosity.schedules`); needs ``eta``.
        value_baseline: ``"critic"``: the algorithm's own value network; ``"linear_feature"``: rllab's
            least-squares baseline in its place (:mod:`agents.linear_baseline`; on-policy algorithms; give
            TRPO ``n_critic_updates=0`` so that the unused critic is not fitted).

    Returns:
        ``final_return`` (mean extrinsic return of the last 10% of episodes, at least one),
        ``success`` (any successful episode), ``steps_to_first_success`` (or ``None``),
        ``success_rate_last`` (over the same last episodes), ``episodes``, ``seconds``, ``timesteps``.
    """
    if not _positive_int(total_timesteps):
        raise UsageError(
            "total_timesteps", f"total_timesteps must be a positive integer, got {total_timesteps!r}"
        )
    check_run_args(env_id, algo, bonus, n_envs, eta, bonus_kwargs, mode, eta_schedule)
    if bonus == "none" and callback_kwargs:
        raise UsageError("callback_kwargs", f"callback_kwargs {sorted(callback_kwargs)} need a bonus; this "
                         "run has bonus='none'")  # fmt: skip
    if checkpoint_dir is not None and not _positive_int(checkpoint_every):  # before anything is written
        raise UsageError("checkpoint_every", f"checkpoint_every must be a positive number of rollouts, got "
                         f"{checkpoint_every!r}")
    if value_baseline not in VALUE_BASELINES:
        raise UsageError("value_baseline", f"value_baseline must be one of {', '.join(VALUE_BASELINES)}, got "
                         f"{value_baseline!r}")
    if value_baseline == "linear_feature" and issubclass(ALGOS[algo], OffPolicyAlgorithm):
        raise UsageError("value_baseline", f"value_baseline 'linear_feature' replaces an on-policy critic; "
                         f"{algo} is off-policy")
    callbacks: list = [] if bonus == "none" else [CuriosityCallback(train_freq, **(callback_kwargs or {}))]
    baseline = LinearBaselineCallback() if value_baseline == "linear_feature" else None
    if baseline is not None:
        callbacks.append(baseline)  # after the bonus is in the rewards
    configure_torch(threads)
    out = Path(out_dir)
    model, wrapper = build(
        env_id, algo, bonus, seed, n_envs, eta, algo_kwargs, bonus_kwargs, mode,
        tensorboard_log=str(out / "tb") if tensorboard else None, env_kwargs=env_kwargs,
        bootstrap_horizon=bootstrap_horizon, eta_schedule=eta_schedule,
    )  # fmt: skip
    config = {
        "env_id": env_id, "algo": algo, "bonus": bonus, "total_timesteps": int(total_timesteps),
        "seed": seed, "eta": eta, "algo_kwargs": algo_kwargs or {}, "bonus_kwargs": bonus_kwargs or {},
        "n_envs": n_envs, "mode": mode, "train_freq": train_freq, "env_kwargs": env_kwargs or {},
        "callback_kwargs": callback_kwargs or {}, "bootstrap_horizon": bootstrap_horizon,
        "eta_schedule": eta_schedule, "value_baseline": value_baseline,
    }  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)  # only now that every argument has been checked
    (out / "config.json").write_text(json.dumps(config, indent=2))
    recorder = EpisodeRecorder(out, curiosity=callbacks[0] if bonus != "none" else None)
    callbacks.append(recorder)  # after the curiosity callback: it sums the rollout's bonuses first
    linear = None if baseline is None else baseline.baseline
    done = 0
    if checkpoint_dir is not None:
        checkpoint = Path(checkpoint_dir) / CHECKPOINT_FILE
        if checkpoint.is_file():
            done = load_checkpoint(checkpoint, model, wrapper, recorder, seed, linear)
            # SB3 moves the progress only after a rollout (or step): until then a scheduled eta would read the
            # 1.0 of a fresh model, not the uninterrupted run's value
            model._update_current_progress_remaining(min(done, int(total_timesteps)), int(total_timesteps))
        callbacks.append(CheckpointCallback(checkpoint, wrapper, recorder, checkpoint_every, linear))
    start = time.perf_counter()
    with warnings.catch_warnings():
        if baseline is not None:  # TRPO with n_critic_updates=0 logs the mean of no critic losses (NaN)
            warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
            warnings.filterwarnings("ignore", "invalid value encountered in scalar divide", RuntimeWarning)
        model.learn(max(int(total_timesteps) - done, 0), callback=CallbackList(callbacks),
                    progress_bar=progress_bar, reset_num_timesteps=done == 0)  # fmt: skip
    seconds = time.perf_counter() - start
    if save:
        model.save(out / "model.zip")
        if wrapper is not None:
            save_bonus(wrapper.bonus, out / "bonus.pt")
    metrics = summarize(recorder.episodes)
    metrics.update(seconds=round(seconds, 2), timesteps=int(model.num_timesteps), resumed_from=done)
    return metrics


def summarize(episodes: list[dict[str, float]]) -> dict[str, Any]:
    """Final metrics from the recorded episodes (see :func:`run_experiment`)."""
    if not episodes:
        return {"final_return": 0.0, "success": False, "steps_to_first_success": None,
                "success_rate_last": 0.0, "episodes": 0}  # fmt: skip
    last = episodes[-max(1, len(episodes) // 10) :]
    first = next((e["timesteps"] for e in episodes if e["success"]), None)
    return {
        "final_return": float(np.mean([e["episode_return"] for e in last])),
        "success": first is not None,
        "steps_to_first_success": None if first is None else int(first),
        "success_rate_last": float(np.mean([e["success"] for e in last])),
        "episodes": len(episodes),
    }


def evaluate_run(run_dir: str | Path, episodes: int = 10, deterministic: bool = True) -> dict[str, Any]:
    """Roll out a saved run's policy on its task (extrinsic reward only).

    The model is rebuilt from ``config.json`` and only the policy's tensors are read from ``model.zip``
    (``weights_only=True``): nothing in the run directory is unpickled.

    Raises:
        UsageError: ``episodes`` < 1, or no such run directory.
        FileNotFoundError: the directory lacks ``config.json`` or ``model.zip``.
        ValueError: ``model.zip`` holds no policy weights, or weights that do not fit the rebuilt policy.
    """
    if not _positive_int(episodes):
        raise UsageError("episodes", f"episodes must be an integer >= 1, got {episodes!r}")
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UsageError("run_dir", f"no run directory {str(run_dir)!r}: give the --out of a training run")
    for name in ("config.json", "model.zip"):
        if not (run_dir / name).is_file():
            raise FileNotFoundError(f"{run_dir / name} is missing: is {run_dir} a run directory?")
    config = json.loads((run_dir / "config.json").read_text())
    model = rebuild_model(config)
    load_policy(model, run_dir / "model.zip")
    env = gym.make(config["env_id"], **config.get("env_kwargs", {}))
    returns, successes = [], []
    for episode in range(episodes):
        obs, _ = env.reset(seed=10_000 + episode)
        done, total, success = False, 0.0, False
        while not done:
            action, _ = model.predict(obs, deterministic=deterministic)
            obs, reward, terminated, truncated, info = env.step(action)
            total += float(reward)
            success |= bool(info.get("is_success", False))
            done = terminated or truncated
        returns.append(total)
        successes.append(success)
    env.close()
    return {"mean_return": float(np.mean(returns)), "success_rate": float(np.mean(successes)),
            "episodes": episodes}  # fmt: skip


def rebuild_model(config: dict[str, Any]) -> BaseAlgorithm:
    """The untrained model of a run, built from its ``config.json`` (no bonus: the policy does not see it)."""
    algo_kwargs = dict(config.get("algo_kwargs") or {})
    if issubclass(ALGOS[config["algo"]], OffPolicyAlgorithm):
        algo_kwargs["buffer_size"] = 1  # never filled: no need for a million-transition replay buffer
    model, _ = build(config["env_id"], config["algo"], "none", config.get("seed", 0), algo_kwargs=algo_kwargs,
                     env_kwargs=config.get("env_kwargs"))  # fmt: skip
    model.get_env().close()
    return model
