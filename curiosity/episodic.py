"""Episode boundaries for episodic bonuses (E3B, RIDE, NGU): one memory per parallel episode.

An episodic bonus depends on the states seen earlier in the *same episode*, so it needs to know which rows of
a batch belong to which environment, in which order, and where episodes end. Those bonuses take one more
argument, ``dones``, in :meth:`EpisodicBonus.compute`, :meth:`EpisodicBonus.add` and ``__call__``:

* ``dones=None``: the rows are consecutive transitions of **one** episode of **one** environment (nothing
  ends inside the batch);
* ``dones`` of shape ``(batch,)``: **one step** of ``batch`` parallel environments (what a ``VecEnv`` step
  gives); row ``i`` is environment ``i``, and ``dones[i]`` says that its episode ended with this transition;
* ``dones`` of shape ``(n_steps, n_envs)`` with ``n_steps * n_envs == batch``: a rollout flattened
  time-major, row ``t * n_envs + e`` being step ``t`` of environment ``e`` (``rollout.reshape(-1, ...)``).

Each environment's memory starts empty ("fresh"); the first transition of an episode puts its ``obs`` (the
episode's first state) into the memory before the bonus of its ``next_obs`` is computed, and a transition
with ``dones`` true empties the memory after its bonus. So the bonus of transition ``t`` of an episode is the
novelty of ``s_{t+1}`` against ``s_0, ..., s_t`` -- the papers' ``b(s_{t+1})`` credited to the action that
reached it.

:meth:`EpisodicBonus.compute` walks the batch from the stored memories without changing them;
:meth:`EpisodicBonus.add` walks it again and keeps the memories it ends with (and stores the transitions for
training, as every bonus does). :meth:`EpisodicBonus.reset_episodes` forgets every memory (call it when the
environments are reset), or those of a mask of environments (reset while the others go on). The number of
parallel environments is fixed by the first batch after a reset; a batch laid out for another number raises a
``ValueError``.

Replay samples drawn out of order carry no episode, so these bonuses cannot be recomputed at sample time
(the SB3 glue refuses its ``"relabel"`` mode for them); in ``"step"`` mode the value computed at collection
time is what an off-policy algorithm stores in its replay buffer.
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np
import torch

from curiosity.base import LearnedBonus
from curiosity.validation import check_state_keys


def episode_layout(batch: int, dones: np.ndarray | None) -> tuple[int, int, np.ndarray]:
    """``(n_steps, n_envs, ends)`` of a batch of ``batch`` rows, ``ends`` a bool ``(n_steps, n_envs)``.

    Raises:
        ValueError: ``dones`` of a shape that does not fit ``batch`` rows (the message lists the layouts).
    """
    if dones is None:
        return batch, 1, np.zeros((batch, 1), dtype=bool)
    ends = np.asarray(dones)
    if ends.ndim == 1 and ends.shape[0] == batch:
        ends = ends.reshape(1, batch)
    elif not (ends.ndim == 2 and ends.shape[0] * ends.shape[1] == batch):
        raise ValueError(
            f"dones must be None, of shape ({batch},) (one step of {batch} envs) or (n_steps, n_envs) with "
            f"n_steps * n_envs = {batch} (a time-major rollout), got shape {ends.shape}"
        )
    if ends.dtype != bool and not np.isin(ends, (0, 1)).all():
        raise ValueError(f"dones must be booleans (or 0/1), got values {np.unique(ends)[:5]}")
    return ends.shape[0], ends.shape[1], ends.astype(bool)


def segments(ends: np.ndarray) -> list[tuple[int, list[tuple[np.ndarray, bool]]]]:
    """Per environment, the row indices of each piece of an episode in the batch, in time order.

    Returns:
        ``[(env, [(rows, ended), ...]), ...]``: ``rows`` index the flat time-major batch; ``ended`` says the
        last row ends its episode.
    """
    n_steps, n_envs = ends.shape
    out = []
    for env in range(n_envs):
        rows = np.arange(n_steps) * n_envs + env
        stops = np.flatnonzero(ends[:, env])
        pieces, start = [], 0
        for stop in stops:
            pieces.append((rows[start : stop + 1], True))
            start = stop + 1
        if start < n_steps:
            pieces.append((rows[start:], False))
        out.append((env, pieces))
    return out


class EpisodicBonus(LearnedBonus):
    """A learned bonus with one episodic memory per parallel environment (see the module docstring).

    Subclasses implement :meth:`row_features` (what the walk needs per row, computed in one batched pass),
    :meth:`walk_piece` (the bonus of a piece of one episode from a memory, and the memory after it),
    :meth:`fresh_memory`, :meth:`store` (what ``add`` keeps for training) and the memory (de)serialisers.
    """

    episodic = True
    #: per environment, the memory of its current episode (``None``: nothing tracked since the last reset)
    memories: list[Any] | None = None
    #: the last :meth:`compute`'s inputs and walk, for :meth:`add` to reuse
    _last_walk: tuple[tuple[Any, ...], Any] | None = None

    # -- hooks for subclasses ----------------------------------------------------------------------------
    @abc.abstractmethod
    def row_features(
        self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor
    ) -> dict[str, Any]:
        """Per-row inputs of the walk, computed without gradients for the whole batch at once."""

    @abc.abstractmethod
    def walk_piece(self, memory: Any, rows: np.ndarray, features: dict[str, Any]) -> tuple[np.ndarray, Any]:
        """Bonuses of ``rows`` (one piece of one episode, in time order) and the memory after them.

        Must not modify ``memory`` in place (``compute`` walks from the stored memories).
        """

    @abc.abstractmethod
    def fresh_memory(self, previous: Any | None) -> Any:
        """The memory of an episode that has not started (``previous``: the ended episode's, or ``None``)."""

    @abc.abstractmethod
    def store(
        self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor, features: dict[str, Any]
    ) -> None:
        """Keep validated transitions for :meth:`train` (and update statistics; ``features``: the walk's)."""

    @abc.abstractmethod
    def memories_state(self) -> dict[str, Any]:
        """:attr:`memories` as tensors and numbers (``memories`` is not ``None``)."""

    @abc.abstractmethod
    def load_memories_state(self, state: dict[str, Any]) -> list[Any]:
        """The memories that :meth:`memories_state` saved."""

    # -- the contract --------------------------------------------------------------------------------------
    def compute(
        self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray, dones: np.ndarray | None = None
    ) -> np.ndarray:
        """Raw episodic bonus per transition, shape ``(batch,)``; memories and statistics stay as they are.

        Args:
            obs: ``(batch, *obs_shape)``.
            actions: ``(batch, *action_shape)`` for ``Box``, ``(batch,)`` integers for ``Discrete``.
            next_obs: ``(batch, *obs_shape)``.
            dones: episode ends, laid out as the module docstring says (``None``: one ongoing episode).

        Raises:
            ValueError: bad shapes or values, or a layout for another number of environments.
        """
        values, walk = self._walk(obs, actions, next_obs, dones)
        self._last_walk = (self._walk_inputs(obs, actions, next_obs, dones), walk)
        return values

    def add(
        self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray, dones: np.ndarray | None = None
    ) -> None:
        """Advance the episodic memories through the batch and store its transitions for training.

        The walk of the last :meth:`compute` is reused when it was made on equal arrays, from the same
        memories and with no training since (the SB3 glue computes, then adds, each batch).
        """
        memories, tensors, features = self._walk_once(obs, actions, next_obs, dones)
        self.memories = memories
        self.store(*tensors, features)

    def advance(
        self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray, dones: np.ndarray | None = None
    ) -> None:
        """Advance the episodic memories through the batch as :meth:`add` does, storing nothing for training
        and moving no statistics (an evaluation's episodes)."""
        if len(obs) == 0:
            self.check_batch(obs, actions, next_obs)
            return
        self.memories = self._walk_once(obs, actions, next_obs, dones)[0]

    def __call__(
        self,
        obs: np.ndarray,
        actions: np.ndarray,
        next_obs: np.ndarray,
        update_stats: bool = True,
        dones: np.ndarray | None = None,
    ) -> np.ndarray:
        """Reward bonus per transition: ``eta * normalize(compute(..., dones), update_stats)``."""
        return self.eta * self.normalize(self.compute(obs, actions, next_obs, dones), update=update_stats)

    def reset_episodes(self, envs: np.ndarray | None = None) -> None:
        """Forget episode memories: every one (all environments start new episodes), or with ``envs`` (a bool
        mask over the parallel environments) those of the environments that start new episodes.

        Raises:
            ValueError: a mask whose length is not the number of parallel episodes tracked.
        """
        if envs is None or self.memories is None:  # nothing tracked yet: every memory starts fresh anyway
            self.memories = None
            return
        mask = np.asarray(envs, dtype=bool).reshape(-1)
        if len(mask) != len(self.memories):
            raise ValueError(f"{type(self).__name__} is tracking {len(self.memories)} parallel episodes, got "
                             f"a reset mask of length {len(mask)}")
        self.memories = [self.fresh_memory(m) if reset else m
                         for m, reset in zip(self.memories, mask, strict=True)]

    def _walk_inputs(self, *arrays: np.ndarray | None) -> tuple[Any, ...]:
        """What a walk depends on: the memories it starts from, the training steps made and the arrays."""
        copies = (None if a is None else np.array(a, copy=True) for a in arrays)
        return (self.memories, self.n_updates, *copies)

    def _walk_once(
        self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray, dones: np.ndarray | None
    ) -> tuple[list[Any], tuple[torch.Tensor, ...], dict[str, Any]]:
        """The last :meth:`compute`'s walk if it was made on the same inputs, else a new walk."""
        last, self._last_walk = self._last_walk, None
        now = (self.memories, self.n_updates, obs, actions, next_obs, dones)
        if last is not None and _same_inputs(last[0], now):
            return last[1]
        return self._walk(obs, actions, next_obs, dones)[1]

    def _walk(
        self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray, dones: np.ndarray | None
    ) -> tuple[np.ndarray, tuple[list[Any], tuple[torch.Tensor, ...], dict[str, Any]]]:
        obs_t, act, next_t = self.check_batch(obs, actions, next_obs)
        _, n_envs, ends = episode_layout(len(obs_t), dones)
        if self.memories is not None and len(self.memories) != n_envs:
            raise ValueError(
                f"{type(self).__name__} is tracking {len(self.memories)} parallel episodes but the batch is "
                f"laid out for {n_envs} (dones shape {None if dones is None else np.shape(dones)}); call "
                "reset_episodes() when the number of environments changes"
            )
        memories = list(self.memories) if self.memories is not None else [self.fresh_memory(None)] * n_envs
        values = np.zeros(len(obs_t), dtype=np.float32)
        with torch.no_grad():
            features = self.row_features(obs_t, act, next_t)
            for env, pieces in segments(ends):
                for rows, ended in pieces:
                    values[rows], memories[env] = self.walk_piece(memories[env], rows, features)
                    if ended:
                        memories[env] = self.fresh_memory(memories[env])
        return values, (memories, (obs_t, act, next_t), features)

    # -- state ---------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["episodes"] = None if self.memories is None else self.memories_state()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        check_state_keys(type(self).__name__, state, ["episodes"])
        super().load_state_dict({k: v for k, v in state.items() if k != "episodes"})
        episodes = state["episodes"]
        self.memories = None if episodes is None else self.load_memories_state(episodes)
        self._last_walk = None


def _same_inputs(stored: tuple[Any, ...], now: tuple[Any, ...]) -> bool:
    """Whether a walk's inputs (:meth:`EpisodicBonus._walk_inputs`) are those of ``now``: the same memories
    object, training steps and equal arrays (dtype and shape included)."""
    if stored[0] is not now[0] or stored[1] != now[1]:
        return False
    for old, new in zip(stored[2:], now[2:], strict=True):
        if old is None or new is None:
            if old is not new:
                return False
            continue
        new = np.asarray(new)
        if old.dtype != new.dtype or old.shape != new.shape or not np.array_equal(old, new):
            return False
    return True
