"""A Stable-Baselines3 ``VecEnvWrapper`` that adds an exploration bonus to every step's reward."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn

from curiosity import IntrinsicBonus, make_bonus
from curiosity.base import check_built_for

#: keys written into each step's ``info``
EXTRINSIC_KEY = "extrinsic_reward"
INTRINSIC_KEY = "intrinsic_reward"
EPISODE_KEY = "curiosity_episode"  # at episode ends: {"r_ext": ..., "r_int": ..., "l": ...}

Mode = Literal["step", "rollout", "relabel"]


class CuriosityVecEnv(VecEnvWrapper):
    """Adds ``eta * bonus(s, a, s')`` to the reward of every step, for any bonus of :mod:`curiosity`.

    The bonus sees the true next observation at episode ends (SB3's ``terminal_observation``, since
    vectorised envs reset automatically), and every transition is handed to ``bonus.add`` as a whole
    ``(s, a, s')`` row, so no transition pairs two episodes. The extrinsic and intrinsic rewards are kept
    in each step's ``info`` (``"extrinsic_reward"``, ``"intrinsic_reward"``); at an episode end
    ``info["curiosity_episode"]`` holds both returns (the intrinsic one is NaN in the modes that compute
    bonuses after the step). Training the bonus is :class:`CuriosityCallback`'s job.

    Modes:
        ``"step"``: the bonus is computed at each step and added to the reward (any algorithm).
            Normalisation statistics are not moved at step time; the callback folds in the raw bonuses
            collected since the last training when it trains.
        ``"rollout"``: the original VIME semantics for on-policy algorithms: rewards pass through
            unchanged, the transitions of the rollout are kept, and :class:`CuriosityCallback` computes
            all their bonuses at the rollout's end (one batch median), writes them into the rollout
            buffer and recomputes returns and advantages.
        ``"relabel"``: for off-policy algorithms with :class:`CuriosityReplayBuffer`: rewards pass through
            unchanged and the buffer adds fresh bonuses at sample time.

    Episodic bonuses (E3B, RIDE, NGU: :mod:`curiosity.episodic`) get each step's ``dones`` (step mode) or the
    rollout's ``(n_steps, n_envs)`` dones (rollout mode), and forget their memories at ``reset()``; the
    relabel mode refuses them (a replay sample carries no episode). With ``learning = False`` their memories
    still follow each episode in step mode (``bonus.advance``), storing nothing for training.

    Put it inside ``VecNormalize`` (``VecNormalize(CuriosityVecEnv(venv, ...))``) so the bonus models raw
    observations. In step mode VecNormalize then scales extrinsic and intrinsic rewards together; the other
    modes add the bonus after VecNormalize has scaled the extrinsic reward, so :class:`CuriosityCallback`
    refuses ``norm_reward=True`` there.

    Without a :class:`CuriosityCallback` driving it (attached by ``model.learn(callback=...)``), the wrapper
    warns once at its first learning step and keeps nothing of its own (no rollout, no raw bonuses), so an
    evaluation env wrapped the same way (rl_zoo3 does) stays bounded; set ``learning = False`` there.

    Args:
        venv: the vectorised environment.
        bonus: an :class:`~curiosity.IntrinsicBonus`, or a bonus name (``"vime"``, ``"rnd"``, ...) built
            for the env's spaces with ``bonus_kwargs`` (the form rl_zoo3's ``vec_env_wrapper`` uses).
        mode: see above.
        bonus_kwargs: constructor arguments when ``bonus`` is a name (e.g. ``{"eta": 1e-3}``).

    Raises:
        TypeError: unsupported observation or action spaces (the message says what is supported).
        ValueError: an unknown mode or bonus name, or a bonus built for other spaces.
    """

    def __init__(
        self,
        venv: VecEnv,
        bonus: IntrinsicBonus | str = "vime",
        mode: Mode = "step",
        bonus_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(venv)
        if mode not in ("step", "rollout", "relabel"):
            raise ValueError(f"mode must be 'step', 'rollout' or 'relabel', got {mode!r}")
        if isinstance(bonus, str):
            bonus = make_bonus(bonus, venv.observation_space, venv.action_space, **dict(bonus_kwargs or {}))
        elif bonus_kwargs:
            raise ValueError("bonus_kwargs only apply when bonus is given by name")
        check_built_for(bonus, venv.observation_space, venv.action_space, "CuriosityVecEnv")
        if mode == "relabel" and getattr(bonus, "episodic", False):
            raise ValueError(
                f"{type(bonus).__name__} is episodic: its bonus depends on the episode's earlier states, "
                "which replay samples drawn out of order do not carry, so it cannot be relabelled; use "
                "mode='step' (the bonus computed at collection time is stored with the reward)"
            )
        self.bonus = bonus
        self.mode = mode
        self.learning = True  # set False to stop handing transitions to the bonus (e.g. evaluation)
        self.callback_attached = False  # set by CuriosityCallback while it trains the bonus
        self._warned_alone = False
        self._last_obs: np.ndarray | None = None
        self._actions: np.ndarray | None = None
        self._ext_return = np.zeros(self.num_envs)
        self._int_return = np.zeros(self.num_envs)
        self._length = np.zeros(self.num_envs, dtype=np.int64)
        self.pending_raw: list[np.ndarray] = []  # raw bonuses since the last training (step mode)
        # (s, a, s', done) per step of the current rollout (rollout mode)
        self.rollout: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def reset(self) -> np.ndarray:
        obs = self.venv.reset()
        self._last_obs = np.array(obs, copy=True)
        self._ext_return[:] = 0.0
        self._int_return[:] = 0.0
        self._length[:] = 0
        self.rollout.clear()
        if getattr(self.bonus, "episodic", False):
            self.bonus.reset_episodes()  # every env starts a new episode
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.array(actions, copy=True)
        self.venv.step_async(actions)

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, dones, infos = self.venv.step_wait()
        if self._last_obs is None or self._actions is None:
            raise RuntimeError("CuriosityVecEnv.step_wait called before reset() and step_async()")
        if not np.all(np.isfinite(rewards)):
            raise ValueError(f"the environment returned a non-finite reward: {rewards}")
        next_obs = _true_next_obs(obs, dones, infos)
        transition = (self._last_obs, self._actions, next_obs)
        intrinsic = np.zeros(self.num_envs, dtype=np.float32)
        episodes = episodic_kwargs(self.bonus, dones)  # episodic bonuses: where this step's episodes end
        if self.mode == "step":
            raw = self.bonus.compute(*transition, **episodes)  # scaled by stored statistics only
            intrinsic = (self.bonus.eta * self.bonus.normalize(raw, update=False)).astype(np.float32)
        if self.learning:
            driven = self._driven()  # without a callback nothing would consume these: keep none
            if self.mode == "rollout" and driven:
                self.rollout.append((*transition, np.array(dones, dtype=bool)))
            elif self.mode != "rollout":
                self.bonus.add(*transition, **episodes)  # the bonus's own pool is bounded
                if self.mode == "step" and driven:
                    self.pending_raw.append(raw)
        elif self.mode == "step" and episodes:  # not learning: episodes still move on, nothing is stored
            self.bonus.advance(*transition, **episodes)
        self._record(rewards, intrinsic, dones, infos)
        self._last_obs = np.array(obs, copy=True)
        return obs, (rewards + intrinsic).astype(np.float32), dones, infos

    def _record(
        self, rewards: np.ndarray, intrinsic: np.ndarray, dones: np.ndarray, infos: list[dict]
    ) -> None:
        """Keep both rewards in ``info`` and report both returns at episode ends."""
        self._ext_return += rewards
        self._int_return += intrinsic
        self._length += 1
        for i, info in enumerate(infos):
            info[EXTRINSIC_KEY] = float(rewards[i])
            info[INTRINSIC_KEY] = float(intrinsic[i])
            if dones[i]:
                info[EPISODE_KEY] = {
                    "r_ext": float(self._ext_return[i]),
                    # rollout/relabel modes compute bonuses after the step: the return is unknown here
                    "r_int": float(self._int_return[i]) if self.mode == "step" else float("nan"),
                    "l": int(self._length[i]),
                }
                self._ext_return[i] = self._int_return[i] = 0.0
                self._length[i] = 0

    def _driven(self) -> bool:
        """Whether a callback consumes what is stored; warns once when none does."""
        if not self.callback_attached and not self._warned_alone:
            self._warned_alone = True
            effect = {
                "step": "the bonus is never trained nor its scale updated",
                "rollout": "no bonus reaches the rewards and no transition is kept",
                "relabel": "no bonus reaches the sampled rewards",
            }[self.mode]
            warnings.warn(
                f"CuriosityVecEnv in {self.mode!r} mode is stepped without a CuriosityCallback: {effect}. "
                "Pass callback=agents.CuriosityCallback() to model.learn (for an evaluation env, set "
                "wrapper.learning = False)",
                stacklevel=3,
            )
        return self.callback_attached

    def take_rollout(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The stored rollout as time-major arrays ``(obs, actions, next_obs, dones)``, each
        ``(n_steps, n_envs, ...)``, then forget it."""
        if not self.rollout:
            raise RuntimeError("no transitions stored: is the wrapper in 'rollout' mode and learning?")
        obs, actions, next_obs, dones = (np.stack(parts) for parts in zip(*self.rollout, strict=True))
        self.rollout.clear()
        return obs, actions, next_obs, dones

    def take_pending_raw(self) -> np.ndarray:
        """Raw bonuses computed since the last call, flattened, then forget them."""
        raw = np.concatenate(self.pending_raw) if self.pending_raw else np.zeros(0, dtype=np.float32)
        self.pending_raw.clear()
        return raw


def episodic_kwargs(bonus: IntrinsicBonus, dones: np.ndarray) -> dict[str, np.ndarray]:
    """``{"dones": dones}`` for an episodic bonus (:mod:`curiosity.episodic`), ``{}`` for the others."""
    return {"dones": np.asarray(dones, dtype=bool)} if getattr(bonus, "episodic", False) else {}


def _true_next_obs(obs: np.ndarray, dones: np.ndarray, infos: list[dict]) -> np.ndarray:
    """``obs`` with each finished env's row replaced by its ``terminal_observation``."""
    if not np.any(dones):
        return obs
    next_obs = np.array(obs, copy=True)
    for i in np.flatnonzero(dones):
        terminal = infos[i].get("terminal_observation")
        if terminal is None:
            raise KeyError(
                f"env {i} finished an episode without info['terminal_observation']: CuriosityVecEnv needs "
                "an SB3 VecEnv (DummyVecEnv / SubprocVecEnv) beneath it"
            )
        next_obs[i] = terminal
    return next_obs
