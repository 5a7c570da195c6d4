"""Curiosity for any gymnasium env: a ``gymnasium.Wrapper`` and a ``gymnasium.vector.VectorWrapper``.

They add ``eta * bonus(s, a, s')`` to every step's reward and train the bonus on their own schedule, for a
training loop of your own (CleanRL, TorchRL, a research script); no Stable-Baselines3 import. They call the
bonus contract (:mod:`curiosity.base`) as the SB3 glue's step mode does (``agents.CuriosityVecEnv`` with
``agents.CuriosityCallback``), so the same transitions give the same rewards:

* at each step, the raw bonus of the transitions (the true final observation at episode ends) is scaled by
  the stored normalisation statistics only (``normalize(raw, update=False)``), added to the reward, and the
  transitions are handed to ``bonus.add``;
* every ``train_freq`` environment steps, the raw bonuses seen since the last training are folded into the
  normalisation statistics (``normalize(raw, update=True)``), then ``bonus.train()`` runs.

Usage::

    envs = gym.vector.SyncVectorEnv([lambda: gym.make("SparseMountainCar-v1")] * 4)
    envs = CuriosityVectorWrapper(envs, "vime", train_freq=2048, bonus_kwargs={"eta": 1e-3})
    obs, _ = envs.reset(seed=0)  # then step as usual; info["extrinsic_reward"] keeps the env's reward

A bonus built with an ``eta`` schedule (``bonus_kwargs={"eta": curiosity.schedules.linear(1e-3)}``) follows
the training progress when the wrapper is told the run's length, ``total_timesteps``: before each step, eta
becomes ``schedule(1 - steps_done / total_timesteps)`` (clipped at 0), as SB3 computes its progress. Without
``total_timesteps`` the wrapper leaves ``eta`` alone; call ``wrapper.bonus.set_progress(p)`` yourself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper

from curiosity.base import IntrinsicBonus, check_built_for
from curiosity.registry import make_bonus
from curiosity.serialization import atomic_save, safe_load

#: keys written into each step's ``info`` (the same as the SB3 glue's)
EXTRINSIC_KEY = "extrinsic_reward"
INTRINSIC_KEY = "intrinsic_reward"


class _BonusSchedule:
    """What both wrappers share: the bonus, its per-step use and its training schedule."""

    bonus: IntrinsicBonus
    train_freq: int
    learning: bool
    train_metrics: dict[str, float]

    def _init_bonus(
        self,
        bonus: IntrinsicBonus | str,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        train_freq: int,
        bonus_kwargs: Mapping[str, Any] | None,
        total_timesteps: int | None = None,
    ) -> None:
        if total_timesteps is not None and (
            isinstance(total_timesteps, bool) or not isinstance(total_timesteps, (int, np.integer))
            or total_timesteps < 1
        ):
            raise ValueError(f"total_timesteps must be a positive integer or None, got {total_timesteps!r}")
        if isinstance(train_freq, bool) or not isinstance(train_freq, (int, np.integer)) or train_freq < 1:
            raise ValueError(f"train_freq must be a positive integer (environment steps), got {train_freq!r}")
        if isinstance(bonus, str):
            bonus = make_bonus(bonus, observation_space, action_space, **dict(bonus_kwargs or {}))
        elif not isinstance(bonus, IntrinsicBonus):
            raise TypeError(
                f"bonus must be a curiosity.IntrinsicBonus or a bonus name such as 'vime', got "
                f"{type(bonus).__name__}"
            )
        elif bonus_kwargs:
            raise ValueError("bonus_kwargs only apply when bonus is given by name")
        check_built_for(bonus, observation_space, action_space, "curiosity wrappers")
        self.bonus = bonus
        self.train_freq = int(train_freq)
        self.learning = True  # False: bonuses computed, nothing stored or trained (episodes still move on)
        self.train_metrics = {}  # what the last bonus.train() returned
        self._steps_since_train = 0
        self.total_timesteps = None if total_timesteps is None else int(total_timesteps)
        self.steps_done = 0  # environment steps while learning: the progress of an eta schedule
        self._follow_progress()
        self._pending_raw: list[np.ndarray] = []
        # Episodic bonuses (curiosity.episodic) take the episode ends (``dones``, row i = env i) and forget
        # their memories when every env is reset.
        self._episodic = bool(getattr(bonus, "episodic", False))

    def _on_transitions(
        self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray, dones: np.ndarray
    ) -> np.ndarray:
        """Intrinsic rewards of a batch of transitions; hand them to the bonus (if learning)."""
        batch = (obs, actions, next_obs)
        episodes = {"dones": np.asarray(dones, dtype=bool)} if self._episodic else {}
        raw = self.bonus.compute(*batch, **episodes)
        intrinsic = (self.bonus.eta * self.bonus.normalize(raw, update=False)).astype(np.float32)
        if self.learning:
            self._pending_raw.append(np.asarray(raw))
            self.bonus.add(*batch, **episodes)
        elif self._episodic:  # not learning: the episodes still move on, nothing is stored
            self.bonus.advance(*batch, **episodes)
        return intrinsic

    def _count_steps(self, n_steps: int) -> None:
        """Count environment steps towards the schedule; train when due; move a scheduled eta."""
        if self.learning:
            self.steps_done += n_steps
            self._steps_since_train += n_steps
            if self._steps_since_train >= self.train_freq:
                self.train_bonus()
            self._follow_progress()

    def _follow_progress(self) -> None:
        if self.total_timesteps is not None:
            self.bonus.set_progress(max(0.0, 1.0 - self.steps_done / self.total_timesteps))

    def _reset_episodes(self) -> None:
        if self._episodic:
            self.bonus.reset_episodes()  # every env starts a new episode

    def train_bonus(self) -> dict[str, float]:
        """Fold the raw bonuses seen since the last training into the normaliser, then train the bonus.

        Called every ``train_freq`` environment steps; call it yourself to train at other times (e.g. at
        the end of each rollout). Returns the bonus's training metrics (also kept in ``train_metrics``).
        """
        if self._pending_raw:
            self.bonus.normalize(np.concatenate(self._pending_raw), update=True)
            self._pending_raw.clear()
        self.train_metrics = self.bonus.train()
        self._steps_since_train = 0
        return self.train_metrics

    # -- persistence ----------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The bonus's state and the schedule's (steps since training, raw bonuses not yet folded in).

        The layout extends ``agents.save_bonus``'s (``bonus_class``, ``state``): either can read the other.
        """
        pending = np.concatenate(self._pending_raw) if self._pending_raw else np.zeros(0, np.float32)
        return {
            "bonus_class": type(self.bonus).__name__,
            "state": self.bonus.state_dict(),
            "steps_since_train": self._steps_since_train,
            "steps_done": self.steps_done,
            "pending_raw": torch.as_tensor(pending),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`; a state without the schedule (``agents.save_bonus``) restarts it.

        Raises:
            ValueError: not a bonus state, or one of another kind of bonus.
        """
        if not isinstance(state, Mapping) or "state" not in state:
            raise ValueError("not a bonus state: expected a dict with 'bonus_class' and 'state'")
        if state.get("bonus_class") != type(self.bonus).__name__:
            raise ValueError(
                f"the state holds a {state.get('bonus_class')}, not a {type(self.bonus).__name__}"
            )
        self.bonus.load_state_dict(state["state"])
        self._steps_since_train = int(state.get("steps_since_train", 0))
        self.steps_done = int(state.get("steps_done", 0))
        self._follow_progress()
        pending = np.asarray(state.get("pending_raw", np.zeros(0, np.float32)))
        self._pending_raw = [pending] if len(pending) else []

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`state_dict` to ``path`` atomically (a crash mid-write keeps any previous file)."""
        return atomic_save(self.state_dict(), path)

    def load(self, path: str | os.PathLike) -> None:
        """Restore a file written by :meth:`save` (or ``agents.save_bonus``); it cannot run code when read.

        Raises:
            FileNotFoundError: no file at ``path``.
            ValueError: the file holds no bonus state, or one of another kind of bonus.
        """
        self.load_state_dict(safe_load(path))


class CuriosityWrapper(gym.Wrapper, _BonusSchedule):
    """Adds ``eta * bonus(s, a, s')`` to the reward of one gymnasium env, for any bonus of :mod:`curiosity`.

    Returns the env's observations, terminations and truncations unchanged; the reward becomes
    ``r + eta * bonus``, with the env's own reward in ``info["extrinsic_reward"]`` and the bonus in
    ``info["intrinsic_reward"]``. The bonus is trained every ``train_freq`` steps (see the module).
    Episodic bonuses get each step's episode end, and forget their memory when ``reset()`` cuts an episode.

    Args:
        env: the environment (Box observations, Box or Discrete actions).
        bonus: an :class:`~curiosity.IntrinsicBonus`, or a bonus name (``"vime"``, ``"rnd"``, ...) built
            for the env's spaces with ``bonus_kwargs``.
        train_freq: environment steps between trainings of the bonus.
        bonus_kwargs: constructor arguments when ``bonus`` is a name (e.g. ``{"eta": 1e-3, "seed": 0}``).
        total_timesteps: the run's length in environment steps, for a bonus whose ``eta`` is a schedule
            (see the module); ``None`` leaves ``eta`` alone.

    Raises:
        TypeError: unsupported spaces, or ``bonus`` neither a bonus nor a name.
        ValueError: an unknown bonus name, a bonus built for other spaces, ``bonus_kwargs`` with a built
            bonus, or a non-positive ``train_freq`` or ``total_timesteps``.
    """

    def __init__(
        self,
        env: gym.Env,
        bonus: IntrinsicBonus | str = "vime",
        train_freq: int = 5000,
        bonus_kwargs: Mapping[str, Any] | None = None,
        total_timesteps: int | None = None,
    ) -> None:
        gym.Wrapper.__init__(self, env)
        spaces_ = (env.observation_space, env.action_space)
        self._init_bonus(bonus, *spaces_, train_freq, bonus_kwargs, total_timesteps)
        self._last_obs: np.ndarray | None = None
        self._cut = True  # whether a reset now cuts an episode short (one that ended left a fresh memory)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        obs, info = self.env.reset(seed=seed, options=options)
        self._last_obs = np.array(obs, copy=True)
        if self._cut:
            self._reset_episodes()
        self._cut = False
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._last_obs is None:
            raise RuntimeError("CuriosityWrapper.step called before reset()")
        obs, reward, terminated, truncated, info = self.env.step(action)
        if not np.isfinite(reward):
            raise ValueError(f"the environment returned a non-finite reward: {reward}")
        done = np.array([terminated or truncated])
        batch = (self._last_obs[None], np.asarray(action)[None], np.asarray(obs)[None])
        intrinsic = float(self._on_transitions(*batch, done)[0])
        self._count_steps(1)
        self._cut = not done[0]
        self._last_obs = np.array(obs, copy=True)
        info = {**info, EXTRINSIC_KEY: float(reward), INTRINSIC_KEY: intrinsic}
        return obs, float(reward) + intrinsic, terminated, truncated, info


class CuriosityVectorWrapper(VectorWrapper, _BonusSchedule):
    """Adds ``eta * bonus(s, a, s')`` to the rewards of a gymnasium vector env, for any bonus.

    Works with every autoreset mode of ``gymnasium.vector``, and the bonus always sees the true final
    observation of an episode:

    * ``NEXT_STEP`` (the default): the step that ends an episode returns its final observation; the next
      step of that env only resets it, so it is no transition: its intrinsic reward is 0 and the bonus does
      not see it.
    * ``SAME_STEP``: the final observation comes from ``info["final_obs"]``.
    * ``DISABLED``: reset finished envs with ``reset(options={"reset_mask": mask})`` as usual.

    Episodic bonuses (E3B, RIDE, NGU: :mod:`curiosity.episodic`) get each step's episode ends and
    forget their memories on a full ``reset()``; they need ``SAME_STEP`` or ``DISABLED``.

    Observations, terminations and truncations pass unchanged; rewards become ``r + eta * bonus``; ``info``
    gains ``"extrinsic_reward"`` and ``"intrinsic_reward"`` arrays ``(num_envs,)`` (with gymnasium's
    ``"_<key>"`` masks). The bonus is trained every ``train_freq`` environment steps, a vector step counting
    ``num_envs``: ``train_freq = num_steps * num_envs`` trains once per on-policy rollout, at its last step.

    Args:
        env: the vector env (Box observations, Box or Discrete actions per sub-env).
        bonus: an :class:`~curiosity.IntrinsicBonus`, or a bonus name (``"vime"``, ``"rnd"``, ...) built
            for the sub-envs' spaces with ``bonus_kwargs``.
        train_freq: environment steps between trainings of the bonus.
        bonus_kwargs: constructor arguments when ``bonus`` is a name (e.g. ``{"eta": 1e-3, "seed": 0}``).
        total_timesteps: the run's length in environment steps, for a bonus whose ``eta`` is a schedule
            (see the module); ``None`` leaves ``eta`` alone.

    Raises:
        TypeError: unsupported spaces, or ``bonus`` neither a bonus nor a name.
        ValueError: an unknown bonus name or autoreset mode, a bonus built for other spaces,
            ``bonus_kwargs`` with a built bonus, a non-positive ``train_freq`` or ``total_timesteps``, or an
            episodic bonus with ``NEXT_STEP`` autoreset.
    """

    def __init__(
        self,
        env: VectorEnv,
        bonus: IntrinsicBonus | str = "vime",
        train_freq: int = 5000,
        bonus_kwargs: Mapping[str, Any] | None = None,
        total_timesteps: int | None = None,
    ) -> None:
        super().__init__(env)
        mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        try:
            self.autoreset_mode = AutoresetMode(mode)
        except ValueError:
            raise ValueError(
                f"unknown autoreset_mode {mode!r} in the vector env's metadata; expected one of "
                f"{[m.value for m in AutoresetMode]}"
            ) from None
        single = (env.single_observation_space, env.single_action_space)
        self._init_bonus(bonus, *single, train_freq, bonus_kwargs, total_timesteps)
        if self._episodic and self.autoreset_mode == AutoresetMode.NEXT_STEP:
            raise ValueError(
                f"{type(self.bonus).__name__} is episodic: it needs one transition per env at every step "
                "(row i = env i), but autoreset_mode NEXT_STEP makes steps that only reset an env; build the "
                "vector env with autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP"
            )
        self._last_obs: np.ndarray | None = None
        self._resetting = np.zeros(self.num_envs, dtype=bool)  # NEXT_STEP: envs whose next step resets them

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        mask = None if options is None else options.get("reset_mask")  # read first: the env pops it
        obs, info = self.env.reset(seed=seed, options=options)
        if mask is None or self._last_obs is None:
            self._last_obs = np.array(obs, copy=True)
            self._resetting[:] = False
            self._reset_episodes()
        else:
            self._last_obs[mask] = obs[mask]
            self._resetting[mask] = False
            if self._episodic:  # an episode reset before its end starts afresh too
                self.bonus.reset_episodes(mask)
        return obs, info

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self._last_obs is None:
            raise RuntimeError("CuriosityVectorWrapper.step called before reset()")
        actions = np.array(actions, copy=True)  # the env may change them in place
        obs, rewards, terminated, truncated, infos = self.env.step(actions)
        if not np.all(np.isfinite(rewards)):
            raise ValueError(f"the environment returned a non-finite reward: {rewards}")
        dones = np.logical_or(terminated, truncated)
        real = ~self._resetting  # rows that are transitions (not NEXT_STEP's reset steps)
        intrinsic = np.zeros(self.num_envs, dtype=np.float32)
        if real.any():
            next_obs = self._final_obs(obs, dones, infos)
            intrinsic[real] = self._on_transitions(
                self._last_obs[real], actions[real], next_obs[real], dones[real]
            )
        self._count_steps(self.num_envs)  # reset steps count too: the schedule follows the caller's steps
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            self._resetting = dones
        self._last_obs = np.array(obs, copy=True)
        everywhere = np.ones(self.num_envs, dtype=bool)
        infos = {
            **infos,
            EXTRINSIC_KEY: np.array(rewards, copy=True), f"_{EXTRINSIC_KEY}": everywhere,
            INTRINSIC_KEY: intrinsic, f"_{INTRINSIC_KEY}": everywhere.copy(),
        }  # fmt: skip
        return obs, rewards + intrinsic, terminated, truncated, infos

    def _final_obs(self, obs: np.ndarray, dones: np.ndarray, infos: dict[str, Any]) -> np.ndarray:
        """``obs`` with, in ``SAME_STEP`` mode, each finished env's row replaced by its final observation."""
        if self.autoreset_mode != AutoresetMode.SAME_STEP or not dones.any():
            return obs
        has_final = infos.get("_final_obs", np.zeros(self.num_envs, dtype=bool))
        if not np.all(has_final[dones]):
            raise KeyError(
                "an env finished an episode without info['final_obs'] although the vector env's "
                "autoreset_mode is SAME_STEP"
            )
        next_obs = np.array(obs, copy=True)
        for i in np.flatnonzero(dones):
            next_obs[i] = infos["final_obs"][i]
        return next_obs
