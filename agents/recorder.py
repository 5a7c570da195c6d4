"""A callback that writes one CSV row per finished episode, and a state-visitation histogram."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from agents.vec_env import EPISODE_KEY

if TYPE_CHECKING:
    from agents.callback import CuriosityCallback

CURVE_COLUMNS = ("timesteps", "episode_return", "episode_length", "success", "intrinsic_return")
# MountainCar's position and velocity ranges (gymnasium's constants), for visitation histograms of envs that
# do not declare their own ``visitation_range`` attribute
VISITATION_RANGE = ((-1.2, 0.6), (-0.07, 0.07))
#: the visits of the first this many steps are also kept apart: where exploration differs, early on
EARLY_BUDGET = 100_000


class EpisodeRecorder(BaseCallback):
    """Appends ``timesteps, episode_return, episode_length, success, intrinsic_return`` to ``curve.csv``.

    The extrinsic return and length come from SB3's ``Monitor`` (``info["episode"]``); an episode is a
    success if any of its steps reported ``info["is_success"]``; the intrinsic return comes from
    :class:`~agents.CuriosityVecEnv` (0 without a bonus). In the ``"rollout"`` mode the bonuses are known only
    when the rollout ends: given the run's ``curiosity`` callback, the recorder holds the rollout's rows until
    then and takes each episode's sum from ``curiosity.episode_intrinsic_returns`` (rows stay in the order the
    episodes ended; the first episode after a resumed checkpoint sums only the bonuses since the resume).
    NaN (written ``nan``) where the sum is not known: the ``"relabel"`` mode, or no ``curiosity`` given.
    Where steps report ``position`` and ``velocity`` (MountainCar), their visits are counted on a 50x50
    grid over the env's ``visitation_range`` attribute (default: gymnasium MountainCar's ranges) and saved
    as ``visitation.npz``: ``hist`` (the whole run), ``hist_early`` (the first ``early_budget`` steps),
    ``xedges``, ``yedges``.

    Args:
        out_dir: directory of ``curve.csv`` and ``visitation.npz``.
        bins: grid size of the visitation histogram.
        early_budget: steps whose visits are also counted apart.
        curiosity: the run's :class:`~agents.CuriosityCallback`, placed before this recorder among ``learn``'s
            callbacks (its rollout-end rewrite must come first).
    """

    def __init__(self, out_dir: str | Path, bins: int = 50, early_budget: int = EARLY_BUDGET,
                 curiosity: CuriosityCallback | None = None) -> None:
        super().__init__()
        self.curiosity = curiosity
        # rows of this rollout not yet written: (env index, row); they wait for the rollout's bonuses
        self._held: list[tuple[int, dict[str, float]]] = []
        self._rollouts = 0
        self.out_dir = Path(out_dir)
        self.bins = bins
        self.early_budget = early_budget
        self.episodes: list[dict[str, float]] = []
        self._visits = np.zeros((bins, bins), dtype=np.int64)
        self._early_visits = np.zeros((bins, bins), dtype=np.int64)
        # (position, velocity) pairs not yet counted: one histogram per rollout costs far less than one per
        # step (numpy's histogram2d has ~0.1 ms of overhead a call, as much as a Box2D step)
        self._pending: list[tuple[float, float]] = []
        self._pending_early: list[tuple[float, float]] = []
        self.ranges = VISITATION_RANGE
        self._succeeded: np.ndarray | None = None

    @property
    def visits(self) -> np.ndarray:
        """Visit counts of the whole run so far (bins x bins)."""
        self._count_pending()
        return self._visits

    @property
    def early_visits(self) -> np.ndarray:
        """Visit counts of the first ``early_budget`` steps (bins x bins)."""
        self._count_pending()
        return self._early_visits

    def _count_pending(self) -> None:
        for pending, counts in ((self._pending, self._visits), (self._pending_early, self._early_visits)):
            if pending:
                pos = np.asarray(pending, dtype=np.float64)
                hist, _, _ = np.histogram2d(pos[:, 0], pos[:, 1], bins=self.bins, range=self.ranges)
                counts += hist.astype(np.int64)
                pending.clear()

    def restore(self, episodes: list[dict[str, float]], visits: np.ndarray, early_visits: np.ndarray) -> None:
        """Start from a checkpoint's episodes and visits (before ``learn``; see :mod:`agents.checkpoint`).

        Raises:
            ValueError: visits without this recorder's grid shape.
        """
        for name, array in (("visits", visits), ("early_visits", early_visits)):
            if array.shape != self.visits.shape:
                raise ValueError(f"{name} must have shape {self.visits.shape}, got {array.shape}")
        self.episodes = [dict(e) for e in episodes]
        self._pending.clear()
        self._pending_early.clear()
        self._visits, self._early_visits = visits.astype(np.int64), early_visits.astype(np.int64)

    def _on_training_start(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._file = open(self.out_dir / "curve.csv", "w", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow(CURVE_COLUMNS)
        self._writer.writerows([row[c] for c in CURVE_COLUMNS] for row in self.episodes)  # a resumed run's
        self._succeeded = np.zeros(self.training_env.num_envs, dtype=bool)
        try:
            self.ranges = tuple(map(tuple, self.training_env.get_attr("visitation_range", indices=[0])[0]))
        except AttributeError:
            self.ranges = VISITATION_RANGE

    def _on_step(self) -> bool:
        positions = self._pending
        n_before = len(positions)
        for i, info in enumerate(self.locals["infos"]):
            self._succeeded[i] |= bool(info.get("is_success", False))
            if "position" in info and "velocity" in info:
                positions.append((info["position"], info["velocity"]))
            if "episode" in info:
                row = {
                    "timesteps": self.num_timesteps,
                    "episode_return": float(info["episode"]["r"]),
                    "episode_length": int(info["episode"]["l"]),
                    "success": int(self._succeeded[i]),
                    "intrinsic_return": float(info.get(EPISODE_KEY, {}).get("r_int", 0.0)),
                }
                self.episodes.append(row)
                if self.curiosity is None:
                    self._writer.writerow([row[c] for c in CURVE_COLUMNS])
                else:
                    self._held.append((i, row))
                self._succeeded[i] = False
        if self.num_timesteps <= self.early_budget:
            self._pending_early.extend(positions[n_before:])
        return True

    def _check_curiosity_ran(self) -> None:
        """Refuse a curiosity callback that is not among ``learn``'s callbacks, or comes after this one: the
        rows would get another episode's intrinsic return, or none."""
        wrapper = getattr(self.curiosity, "wrapper", None)
        if wrapper is None:
            raise ValueError("the curiosity callback handed to EpisodeRecorder is not among learn's "
                             "callbacks")
        if wrapper.mode == "rollout" and self.curiosity.rollouts_rewritten != self._rollouts:
            raise ValueError("the curiosity callback handed to EpisodeRecorder must come before it among "
                             "learn's callbacks (it sums the rollout's bonuses at the rollout's end)")

    def _write_held(self) -> None:
        """Write the held rows, filling in the intrinsic returns the curiosity callback has summed."""
        for i, row in self._held:
            sums = self.curiosity.episode_intrinsic_returns[i] if self.curiosity is not None else None
            if sums and not math.isfinite(row["intrinsic_return"]):
                row["intrinsic_return"] = sums.popleft()
            self._writer.writerow([row[c] for c in CURVE_COLUMNS])
        self._held.clear()

    def _on_training_end(self) -> None:
        self._write_held()  # a rollout cut short: its rows keep NaN
        self._file.close()
        if self.visits.any():
            xedges = np.linspace(*self.ranges[0], self.bins + 1)
            yedges = np.linspace(*self.ranges[1], self.bins + 1)
            np.savez(self.out_dir / "visitation.npz", hist=self.visits, hist_early=self.early_visits,
                     xedges=xedges, yedges=yedges, early_budget=self.early_budget)

    def _on_rollout_end(self) -> None:
        self._rollouts += 1
        if self.curiosity is not None:
            self._check_curiosity_ran()
        self._write_held()
        self._count_pending()
        self._file.flush()
