"""Mid-run checkpoints, so that a long training run killed part-way resumes where it stopped.

A checkpoint is one file written atomically (``curiosity.serialization.atomic_save``) and read with
``torch.load(weights_only=True)``: the policy's and its optimiser's tensors, the bonus's full state, the
step and update counters, and the episodes recorded so far. It is taken at the start of a rollout, when
the previous policy update and bonus training are complete, so the pieces are consistent.

On resume the environments start fresh episodes (an episode in progress at the checkpoint is lost, as
with a restart of the original code), and the random generators are reseeded from ``seed`` and the step
count: a resumed run is a valid run of the same protocol, not a bit-identical copy of an uninterrupted one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback

from agents.linear_baseline import LinearFeatureBaseline
from agents.recorder import EpisodeRecorder
from agents.vec_env import CuriosityVecEnv
from curiosity.serialization import atomic_save, safe_load

CHECKPOINT_FILE = "checkpoint.pt"
FORMAT = 1


def save_checkpoint(
    path: str | os.PathLike, model: BaseAlgorithm, wrapper: CuriosityVecEnv | None, recorder: EpisodeRecorder,
    baseline: LinearFeatureBaseline | None = None,
) -> Path:
    """Write the run's state to ``path`` atomically (a crash mid-write leaves the previous file)."""
    state: dict[str, Any] = {
        "format": FORMAT,
        "policy": model.policy.state_dict(),
        "optimizer": model.policy.optimizer.state_dict(),
        "num_timesteps": int(model.num_timesteps),
        "n_updates": int(getattr(model, "_n_updates", 0)),
        "episodes": [dict(e) for e in recorder.episodes],
        "visits": torch.as_tensor(recorder.visits),
        "early_visits": torch.as_tensor(recorder.early_visits),
        "bonus": None if wrapper is None else wrapper.bonus.state_dict(),
        "baseline": None if baseline is None else baseline.state_dict(),
    }
    return atomic_save(state, path)


def load_checkpoint(
    path: str | os.PathLike,
    model: BaseAlgorithm,
    wrapper: CuriosityVecEnv | None,
    recorder: EpisodeRecorder,
    seed: int,
    baseline: LinearFeatureBaseline | None = None,
) -> int:
    """Restore a state written by :func:`save_checkpoint` into a freshly built run; return its step count.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not a checkpoint of this kind of run (format, bonus or linear baseline
            present or not).
    """
    state = safe_load(path)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path} is not a run checkpoint of format {FORMAT}")
    if (state["bonus"] is None) != (wrapper is None):
        raise ValueError(f"{path} was written by a run {'without' if state['bonus'] is None else 'with'} "
                         "a bonus; this run is the other kind")
    if (state.get("baseline") is None) != (baseline is None):
        raise ValueError(f"{path} was written by a run {'without' if baseline is not None else 'with'} a "
                         "linear-feature baseline; this run is the other kind")
    model.policy.load_state_dict(state["policy"])
    model.policy.optimizer.load_state_dict(state["optimizer"])
    model.num_timesteps = state["num_timesteps"]
    if hasattr(model, "_n_updates"):
        model._n_updates = state["n_updates"]
    if wrapper is not None:
        wrapper.bonus.load_state_dict(state["bonus"])
    if baseline is not None:
        baseline.load_state_dict(state["baseline"])
    recorder.restore(state["episodes"], np.asarray(state["visits"]), np.asarray(state["early_visits"]))
    # fresh, distinct randomness for the rest of the run (envs reset with these seeds at learn start)
    model.set_random_seed(seed + model.num_timesteps)
    return model.num_timesteps


class CheckpointCallback(BaseCallback):
    """Saves a checkpoint at the start of every ``every``-th rollout (after the previous update).

    Args:
        path: the checkpoint file.
        wrapper: the run's curiosity wrapper, or ``None`` without a bonus.
        recorder: the run's episode recorder (its episodes go into the checkpoint).
        every: rollouts between checkpoints.
        baseline: the run's linear-feature baseline, if it has one.

    Raises:
        ValueError: ``every`` is not a positive integer.
    """

    def __init__(self, path: str | os.PathLike, wrapper: CuriosityVecEnv | None, recorder: EpisodeRecorder,
                 every: int, baseline: LinearFeatureBaseline | None = None) -> None:
        super().__init__()
        if int(every) != every or every < 1:
            raise ValueError(f"checkpoint_every must be a positive number of rollouts, got {every!r}")
        self.path, self.wrapper, self.recorder, self.every = Path(path), wrapper, recorder, int(every)
        self.baseline = baseline
        self._rollouts = 0

    def _on_rollout_start(self) -> None:
        if self._rollouts and self._rollouts % self.every == 0:
            save_checkpoint(self.path, self.model, self.wrapper, self.recorder, self.baseline)
        self._rollouts += 1

    def _on_step(self) -> bool:
        return True
