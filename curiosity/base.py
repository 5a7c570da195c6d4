"""The contract every exploration bonus follows.

A bonus sees batches of transitions ``(obs, actions, next_obs)`` as arrays whose first axis is the
batch, and answers one non-negative number per transition. Computing, normalising and training are
separate calls, so that evaluation never moves statistics and a wrapper decides when to learn:

* :meth:`IntrinsicBonus.compute` -- raw bonus, no side effects (no training, no statistics update);
* :meth:`IntrinsicBonus.normalize` -- a separate, overridable step with an explicit ``update`` switch;
* :meth:`IntrinsicBonus.add` then :meth:`IntrinsicBonus.train` -- store transitions, learn from them;
* :meth:`IntrinsicBonus.state_dict` / :meth:`IntrinsicBonus.load_state_dict` -- everything needed to
  resume exactly, as plain CPU tensors and numbers (safe to load with ``weights_only=True``, on any device).

Devices: every bonus takes ``device`` (``"auto"``, as Stable-Baselines3: CUDA when available, else CPU).
Its models, pools and statistics live there between calls; arrays come in and go out as numpy at the
public methods. Random draws (minibatch indices, Monte Carlo noise) come from CPU generators and are
moved to the device, so a seeded bonus draws the same numbers on every device and its state does not
depend on where it ran.

Shapes: ``obs`` and ``next_obs`` are ``(batch, *observation_space.shape)``; ``actions`` are
``(batch, *action_space.shape)`` for ``Box`` and ``(batch,)`` integers for ``Discrete`` (encoded one-hot
for the models).
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from curiosity.normalization import RunningMeanStd
from curiosity.runtime import resolve_device
from curiosity.serialization import to_cpu
from curiosity.validation import check_state_keys

#: SB3's schedule convention: a function of the progress remaining (1 at the start of training, 0 at the end)
Schedule = Callable[[float], float]


def _on_cpu(method: Callable) -> Callable:
    """``state_dict`` whose tensors are moved to the CPU (:func:`curiosity.serialization.to_cpu`)."""
    if getattr(method, "_on_cpu", False):
        return method

    @functools.wraps(method)
    def state_dict(self: IntrinsicBonus) -> dict[str, Any]:
        return to_cpu(method(self))

    state_dict._on_cpu = True  # type: ignore[attr-defined]
    return state_dict


class IntrinsicBonus(abc.ABC):
    """Base class of the bonuses in :mod:`curiosity`.

    Args:
        observation_space: a ``Box`` observation space (flat vectors, or images for bonuses that
            accept an encoder).
        action_space: ``Box`` or ``Discrete``.
        eta: scale of the bonus added to the reward, ``r + eta * bonus``: one meaning for every bonus, each
            with its own default (the README's table). A number, or a schedule of training progress in
            SB3's convention (a function of ``progress_remaining``, 1 at the start of training and 0 at the
            end; e.g. :func:`curiosity.schedules.linear`), which :meth:`set_progress` follows.
        device: where the models run: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``,
            ``"cuda:N"`` or a ``torch.device``.

    An empty batch gives an empty ``(0,)`` array from :meth:`compute` (and stores nothing in :meth:`add`)
    for every subclass: the base class guards both.

    Raises:
        TypeError: an unsupported observation or action space.
        ValueError: a negative or non-finite ``eta``, or a ``device`` that is unknown or absent (CUDA
            without CUDA).
    """

    #: whether observations with more than one axis (images) are accepted
    accepts_images: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Every bonus, present or future, answers an empty batch with an empty array and stores nothing:
        # models that reshape a batch to (0, -1) would fail on it otherwise.
        for name in ("compute", "add"):
            if name in cls.__dict__:
                setattr(cls, name, _empty_batch_guard(cls.__dict__[name], empty_result=name == "compute"))
        if "state_dict" in cls.__dict__:  # saved states hold CPU tensors, whatever the device
            cls.state_dict = _on_cpu(cls.__dict__["state_dict"])  # type: ignore[method-assign]

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        eta: float = 1.0,
        device: str | torch.device = "auto",
    ) -> None:
        check_spaces(observation_space, action_space, accepts_images=self.accepts_images)
        self.device = resolve_device(device)
        self.eta = eta
        self.observation_space = observation_space
        self.action_space = action_space
        self.obs_dim = int(np.prod(observation_space.shape))
        self.action_dim = action_dim(action_space)

    @property
    def eta(self) -> float:
        """Scale of the bonus in the reward now: ``r + eta * bonus`` (a schedule's current value)."""
        return self._eta

    @eta.setter
    def eta(self, value: float | Schedule) -> None:
        self.eta_schedule = value if callable(value) else None
        self._eta = _checked_eta(value(1.0) if callable(value) else value)

    def set_progress(self, progress_remaining: float) -> None:
        """Move a scheduled ``eta`` to ``schedule(progress_remaining)`` (a constant ``eta`` stays).

        The SB3 glue calls it at every step with the algorithm's ``_current_progress_remaining``.

        Raises:
            ValueError: ``progress_remaining`` outside ``[0, 1]``, or a schedule value that is not a finite
                number >= 0.
        """
        if not 0.0 <= progress_remaining <= 1.0:
            raise ValueError(f"progress_remaining must lie in [0, 1], got {progress_remaining!r}")
        if self.eta_schedule is not None:
            self._eta = _checked_eta(self.eta_schedule(progress_remaining))

    def _restore_eta(self, value: float) -> None:
        """Set ``eta``'s current value from a saved state, keeping the schedule the bonus was built with."""
        self._eta = _checked_eta(value)

    # -- the contract -------------------------------------------------------------------------------
    @abc.abstractmethod
    def compute(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
        """Raw bonus per transition, shape ``(batch,)``, without side effects."""

    def normalize(self, bonus: np.ndarray, update: bool = True) -> np.ndarray:
        """Scale raw bonuses; ``update=False`` leaves the normaliser's statistics untouched."""
        return bonus

    def __call__(
        self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray, update_stats: bool = True
    ) -> np.ndarray:
        """Reward bonus per transition: ``eta * normalize(compute(...), update_stats)``."""
        return self.eta * self.normalize(self.compute(obs, actions, next_obs), update=update_stats)

    @abc.abstractmethod
    def add(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> None:
        """Store transitions for later training (each row a complete ``(s, a, s')``)."""

    @abc.abstractmethod
    def train(self) -> dict[str, float]:
        """Learn from stored transitions; returns metrics for logging (e.g. ``{"loss": ...}``)."""

    @abc.abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly: weights, optimiser, statistics, counters."""

    @abc.abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""

    # -- helpers shared by the bonuses --------------------------------------------------------------
    def check_batch(
        self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Validate a batch and convert it to float tensors ``(obs, encoded actions, next_obs)`` on the
        bonus's device.

        Raises:
            ValueError: wrong shapes, mismatched batch sizes, or NaN / infinite values.
        """
        obs_shape = tuple(self.observation_space.shape)
        obs = np.asarray(obs)
        next_obs = np.asarray(next_obs)
        actions = np.asarray(actions)
        for name, arr in (("obs", obs), ("next_obs", next_obs)):
            if arr.shape[1:] != obs_shape:
                raise ValueError(
                    f"{name} must have shape (batch, {', '.join(map(str, obs_shape))}), got {arr.shape}"
                )
        n = obs.shape[0]
        if next_obs.shape[0] != n or actions.shape[0] != n:
            raise ValueError(
                f"batch sizes differ: obs {n}, actions {actions.shape[0]}, next_obs {next_obs.shape[0]}"
            )
        act = encode_actions(actions, self.action_space, self.device)
        obs_t, next_t = self._obs_tensor(obs), self._obs_tensor(next_obs)
        for name, t in (("obs", obs_t), ("actions", act), ("next_obs", next_t)):
            if t.is_floating_point() and not torch.isfinite(t).all():
                raise ValueError(f"{name} contains NaN or infinite values")
        return obs_t, act, next_t

    def _obs_tensor(self, arr: np.ndarray) -> torch.Tensor:
        """``uint8`` frames stay bytes (each network converts the chunk it reads, once); the rest float32."""
        if not arr.flags.writeable:  # torch would share a read-only buffer
            arr = arr.copy()
        frames = arr.dtype == np.uint8 and len(self.observation_space.shape) > 1
        return torch.as_tensor(arr, dtype=None if frames else torch.float32, device=self.device)


class StdNormalizedBonus(IntrinsicBonus):
    """A bonus whose :meth:`normalize` divides by the running std of every raw bonus seen.

    RND's intrinsic-reward normalisation; Burda et al.'s large-scale curiosity study applies it to every
    bonus, so that one ``eta`` means the same reward scale whatever the bonus. Subclasses call
    :meth:`init_normalization` and save ``bonus_rms`` with their state.
    """

    normalize_bonus: bool
    bonus_rms: RunningMeanStd

    def init_normalization(self, enabled: bool) -> None:
        """Switch the normalisation on or off and start its statistics."""
        self.normalize_bonus = bool(enabled)
        self.bonus_rms = RunningMeanStd(())

    def normalize(self, bonus: np.ndarray, update: bool = True) -> np.ndarray:
        """Divide by the running std of raw bonuses; ``update=True`` first folds ``bonus`` into it.

        Args:
            bonus: raw bonuses, shape ``(batch,)``.
            update: whether to update the running std (never during evaluation).

        Raises:
            ValueError: ``bonus`` is not one-dimensional.
        """
        b = torch.as_tensor(np.asarray(bonus), dtype=torch.float64)
        if b.dim() != 1:
            raise ValueError(f"bonus must have shape (batch,), got {tuple(b.shape)}")
        if not self.normalize_bonus:
            return np.asarray(bonus, dtype=np.float32)
        if update:
            self.bonus_rms.update(b)
        return (b / (self.bonus_rms.std + 1e-8)).numpy().astype(np.float32)


class LearnedBonus(StdNormalizedBonus):
    """A std-normalised bonus learned by gradient steps (RND, ICM, Disagreement).

    Its state is the ``state_dict`` of each attribute named in :attr:`state_components`, plus ``bonus_rms``,
    the optional ``encoder``, the sampling ``generator``'s state and the ``n_updates`` counter. Subclasses set
    these attributes in ``__init__``.
    """

    #: attributes saved and restored through their own ``state_dict`` / ``load_state_dict``
    state_components: tuple[str, ...] = ()
    generator: torch.Generator
    n_updates: int
    encoder: torch.nn.Module | None = None

    def _component_names(self) -> list[str]:
        return [*self.state_components, "bonus_rms", *(["encoder"] if self.encoder is not None else [])]

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {name: getattr(self, name).state_dict() for name in self._component_names()}
        state["generator"] = self.generator.get_state()
        state["n_updates"] = self.n_updates
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        names = self._component_names()
        check_state_keys(type(self).__name__, state, [*names, "generator", "n_updates"])
        for name in names:
            getattr(self, name).load_state_dict(state[name])
        self.generator.set_state(state["generator"].clone())
        self.n_updates = int(state["n_updates"])


def _checked_eta(value: Any) -> float:
    number = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if not (number and np.isfinite(value) and value >= 0):
        raise ValueError(f"eta must be a finite number >= 0 (or a schedule giving one), got {value!r}")
    return float(value)


def _empty_batch_guard(method: Callable, empty_result: bool) -> Callable:
    """``method(obs, actions, next_obs, ...)`` that validates an empty batch and returns ``(0,)`` float32
    (``empty_result``) or ``None`` without calling ``method``."""
    if getattr(method, "_guards_empty_batch", False):
        return method

    @functools.wraps(method)
    def guarded(
        self: IntrinsicBonus, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray, *args, **kwargs
    ):
        if np.shape(obs)[:1] == (0,):
            self.check_batch(obs, actions, next_obs)
            return np.zeros(0, dtype=np.float32) if empty_result else None
        return method(self, obs, actions, next_obs, *args, **kwargs)

    guarded._guards_empty_batch = True  # type: ignore[attr-defined]
    return guarded


def check_spaces(observation_space: spaces.Space, action_space: spaces.Space, accepts_images: bool) -> None:
    """Raise a ``TypeError`` naming what is supported if the spaces are not."""
    if not isinstance(observation_space, spaces.Box):
        raise TypeError(
            f"unsupported observation space {observation_space}: bonuses accept gymnasium Box "
            "observations (flatten Dict/Tuple observations with gymnasium.wrappers.FlattenObservation)"
        )
    if len(observation_space.shape) == 0:
        raise TypeError(
            "scalar Box observations (shape ()) are not supported: reshape them to (1,), e.g. with "
            "gymnasium.wrappers.ReshapeObservation(env, (1,))"
        )
    if len(observation_space.shape) > 1 and not accepts_images:
        raise TypeError(
            f"observation space of shape {observation_space.shape} looks like images, but this bonus "
            "models flat vectors only: give it an encoder (see generative.encoders) or flatten the input"
        )
    if not isinstance(action_space, (spaces.Box, spaces.Discrete)):
        raise TypeError(f"unsupported action space {action_space}: bonuses accept Box and Discrete actions")
    if isinstance(action_space, spaces.Box) and len(action_space.shape) != 1:
        raise TypeError(f"Box action spaces must be 1-D, got shape {action_space.shape}")


def check_built_for(
    bonus: IntrinsicBonus, observation_space: spaces.Space, action_space: spaces.Space, wrapper: str
) -> None:
    """Raise unless ``bonus`` was built for these env spaces (``wrapper`` names the caller in the message).

    Discrete actions must agree in ``n`` and ``start`` too: a bonus one-hot encodes them, so a
    ``Discrete(4)`` bonus on a ``Discrete(3)`` env would model actions the env never takes.
    """
    if not isinstance(observation_space, spaces.Box):
        raise TypeError(
            f"{wrapper} supports Box observations (vectors or images), got {observation_space}; flatten "
            "Dict/Tuple observations first (gymnasium.wrappers.FlattenObservation)"
        )
    if not isinstance(action_space, (spaces.Box, spaces.Discrete)):
        raise TypeError(f"{wrapper} supports Box and Discrete actions, got {action_space}")
    if tuple(bonus.observation_space.shape) != tuple(observation_space.shape):
        raise ValueError(
            f"the bonus was built for observations of shape {bonus.observation_space.shape}, "
            f"the env has {observation_space.shape}"
        )
    built = bonus.action_space
    same = type(built) is type(action_space) and built.shape == action_space.shape
    if same and isinstance(action_space, spaces.Discrete):
        same = (built.n, built.start) == (action_space.n, action_space.start)
    if not same:
        raise ValueError(f"the bonus was built for actions {built}, the env has {action_space}")


def action_dim(action_space: spaces.Space) -> int:
    """Width of the encoded action: ``n`` for ``Discrete(n)`` (one-hot), the flat size for ``Box``."""
    if isinstance(action_space, spaces.Discrete):
        return int(action_space.n)
    return int(np.prod(action_space.shape))


def encode_actions(
    actions: np.ndarray, action_space: spaces.Space, device: torch.device | None = None
) -> torch.Tensor:
    """Actions as a float tensor ``(batch, action_dim)`` on ``device`` (default: the CPU): one-hot for
    ``Discrete``, as is for ``Box``."""
    actions = np.asarray(actions)
    if isinstance(action_space, spaces.Discrete):
        flat = actions.reshape(actions.shape[0], int(np.prod(actions.shape[1:])))  # (0, -1) is ambiguous
        if flat.shape[1] != 1:
            raise ValueError(f"Discrete actions must have shape (batch,) or (batch, 1), got {actions.shape}")
        if flat.dtype.kind not in "biu" and not np.all(flat == np.round(flat)):  # 1.7 would pass as 1
            raise ValueError(f"Discrete actions must be whole numbers, got {flat[:, 0]}")
        idx = torch.as_tensor(flat[:, 0].astype(np.int64) - int(action_space.start), device=device)
        if (idx < 0).any() or (idx >= action_space.n).any():
            start = int(action_space.start)
            raise ValueError(
                f"Discrete actions must lie in [{start}, {start + int(action_space.n)}), got {flat[:, 0]}"
            )
        return torch.nn.functional.one_hot(idx, int(action_space.n)).float()
    expected = (actions.shape[0], *action_space.shape)
    if actions.shape != expected:
        raise ValueError(f"actions must have shape {expected}, got {actions.shape}")
    return torch.as_tensor(actions, dtype=torch.float32, device=device)
