"""Mid-run checkpoints, so that a long training run killed part-way resumes where it stopped.

A checkpoint is one file written atomically (``curiosity.serialization.atomic_save``) and read with
``torch.load(weights_only=True)``: every torch object SB3's own ``save`` keeps (the policy, its optimisers,
SAC's entropy coefficient), an off-policy algorithm's replay buffer (its filled rows, as tensors: nothing
is unpickled), the bonus's full state, the step and update counters, and the episodes recorded so far. It
is taken at the start of a rollout, when the previous policy update and bonus training are complete, so the
pieces are consistent. Off-policy algorithms start a "rollout" every ``train_freq`` steps (often one), so
for them ``every`` counts blocks of :data:`OFF_POLICY_BLOCK` environment steps instead.

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
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.save_util import recursive_getattr

from agents.linear_baseline import LinearFeatureBaseline
from agents.recorder import EpisodeRecorder
from agents.vec_env import CuriosityVecEnv
from curiosity.serialization import atomic_save, safe_load

CHECKPOINT_FILE = "checkpoint.pt"
#: 2: SB3's torch objects by name, and the replay buffer; 1 (still read): the policy and its optimiser only
FORMAT = 2
#: environment steps an off-policy algorithm's ``every`` counts in (their collections are a step or a few)
OFF_POLICY_BLOCK = 1_000


def _torch_objects(model: BaseAlgorithm) -> tuple[list[str], list[str]]:
    """The names of what SB3's ``save`` keeps: objects with a state dict, and plain tensors."""
    state_dicts, tensors = model._get_torch_save_params()
    return list(state_dicts), list(tensors or [])


def _buffer_state(buffer: ReplayBuffer) -> dict[str, Any]:
    """The replay buffer's filled rows (and the row after them, which ``optimize_memory_usage`` reads)."""
    if isinstance(buffer.observations, dict):
        raise ValueError("checkpoints hold replay buffers of Box observations, not dict observations")
    rows = buffer.buffer_size if buffer.full else min(buffer.pos + 1, buffer.buffer_size)
    arrays = {name: torch.from_numpy(value[:rows].copy()) for name, value in vars(buffer).items()
              if isinstance(value, np.ndarray) and value.shape[:1] == (buffer.buffer_size,)}  # fmt: skip
    return {"pos": int(buffer.pos), "full": bool(buffer.full), "arrays": arrays}


def _restore_buffer(buffer: ReplayBuffer, state: dict[str, Any], path: str | os.PathLike) -> None:
    arrays = state["arrays"]
    rows = max((len(a) for a in arrays.values()), default=0)
    if rows > buffer.buffer_size or (state["full"] and rows != buffer.buffer_size):
        full = " (a full buffer)" if state["full"] else ""
        raise ValueError(f"{path} holds {rows} replay rows{full}; this run's buffer has "
                         f"{buffer.buffer_size}: resume with the checkpoint's buffer_size")
    for name, value in arrays.items():
        target = getattr(buffer, name, None)
        if not isinstance(target, np.ndarray) or target.shape[1:] != tuple(value.shape[1:]):
            raise ValueError(f"{path}: replay array {name!r} does not fit this run's buffer")
        target[: len(value)] = value.numpy()
    buffer.pos, buffer.full = state["pos"], state["full"]
    if buffer.optimize_memory_usage and (buffer.full or buffer.pos > 0):
        # the resumed run starts fresh episodes, and its first observation overwrites the next observation
        # of the last stored transition: end that transition, as SB3's OffPolicyAlgorithm._setup_learn does
        buffer.dones[(buffer.pos - 1) % buffer.buffer_size] = True


def save_checkpoint(
    path: str | os.PathLike, model: BaseAlgorithm, wrapper: CuriosityVecEnv | None, recorder: EpisodeRecorder,
    baseline: LinearFeatureBaseline | None = None,
) -> Path:
    """Write the run's state to ``path`` atomically (a crash mid-write leaves the previous file)."""
    state_dicts, tensors = _torch_objects(model)
    buffer = getattr(model, "replay_buffer", None)
    state: dict[str, Any] = {
        "format": FORMAT,
        "torch": {name: recursive_getattr(model, name).state_dict() for name in state_dicts},
        "tensors": {name: recursive_getattr(model, name).detach().clone() for name in tensors},
        "replay_buffer": None if buffer is None else _buffer_state(buffer),
        "num_timesteps": int(model.num_timesteps),
        "n_updates": int(getattr(model, "_n_updates", 0)),
        "n_calls": int(getattr(model, "_n_calls", 0)),  # DQN: its target network updates every so many
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
    if not isinstance(state, dict) or state.get("format") not in (1, FORMAT):
        raise ValueError(f"{path} is not a run checkpoint of format 1 or {FORMAT}")
    if state["format"] == 1:  # on-policy runs of earlier versions
        state = state | {"torch": {"policy": state["policy"], "policy.optimizer": state["optimizer"]},
                         "tensors": {}, "replay_buffer": None}  # fmt: skip
    state_dicts, tensors = _torch_objects(model)
    if sorted(state["torch"]) != sorted(state_dicts) or sorted(state["tensors"]) != sorted(tensors):
        raise ValueError(f"{path} holds {sorted(state['torch']) + sorted(state['tensors'])}; this run's "
                         f"{type(model).__name__} has {sorted(state_dicts) + sorted(tensors)}")
    buffer = getattr(model, "replay_buffer", None)
    if (state["replay_buffer"] is None) != (buffer is None):
        raise ValueError(f"{path} was written by a run {'without' if buffer is not None else 'with'} a "
                         "replay buffer; this run is the other kind")
    if (state["bonus"] is None) != (wrapper is None):
        raise ValueError(f"{path} was written by a run {'without' if state['bonus'] is None else 'with'} "
                         "a bonus; this run is the other kind")
    if (state.get("baseline") is None) != (baseline is None):
        raise ValueError(f"{path} was written by a run {'without' if baseline is not None else 'with'} a "
                         "linear-feature baseline; this run is the other kind")
    for name, value in state["torch"].items():
        recursive_getattr(model, name).load_state_dict(value)
    for name, value in state["tensors"].items():
        recursive_getattr(model, name).data.copy_(value)
    if buffer is not None:
        _restore_buffer(buffer, state["replay_buffer"], path)
    model.num_timesteps = state["num_timesteps"]
    if hasattr(model, "_n_updates"):
        model._n_updates = state["n_updates"]
    if hasattr(model, "_n_calls"):  # files without it: one call per step of each env, from the start
        model._n_calls = state.get("n_calls", model.num_timesteps // model.n_envs)
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
        every: rollouts between checkpoints (off-policy algorithms: blocks of :data:`OFF_POLICY_BLOCK`
            environment steps, at the first collection after each).
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
        self._saved_at = 0  # off-policy: the step count of the last checkpoint (or of the start)

    def _on_training_start(self) -> None:
        self._saved_at = self.model.num_timesteps  # a resumed run counts from its checkpoint's step

    def _on_rollout_start(self) -> None:
        if isinstance(self.model, OffPolicyAlgorithm):
            due = self.model.num_timesteps - self._saved_at >= self.every * OFF_POLICY_BLOCK
        else:
            due = self._rollouts > 0 and self._rollouts % self.every == 0
        if due:
            save_checkpoint(self.path, self.model, self.wrapper, self.recorder, self.baseline)
            self._saved_at = self.model.num_timesteps
        self._rollouts += 1

    def _on_step(self) -> bool:
        return True
