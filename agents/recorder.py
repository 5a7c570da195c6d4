"""A callback that writes one CSV row per finished episode, and a state-visitation histogram."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from agents.vec_env import EPISODE_KEY

CURVE_COLUMNS = ("timesteps", "episode_return", "episode_length", "success", "intrinsic_return")
# MountainCar's position and velocity ranges (gymnasium's constants), for visitation histograms
VISITATION_RANGE = ((-1.2, 0.6), (-0.07, 0.07))


class EpisodeRecorder(BaseCallback):
    """Appends ``timesteps, episode_return, episode_length, success, intrinsic_return`` to ``curve.csv``.

    The extrinsic return and length come from SB3's ``Monitor`` (``info["episode"]``); an episode is a
    success if any of its steps reported ``info["is_success"]``; the intrinsic return comes from
    :class:`~agents.CuriosityVecEnv` in its ``"step"`` mode (0 without a bonus; NaN, written ``nan``, in the
    modes that compute bonuses only after the episode's steps, where the per-episode sum is not known).
    Where steps report ``position`` and ``velocity`` (MountainCar), their visits are counted on a 50x50
    grid and saved as ``visitation.npz``.

    Args:
        out_dir: directory of ``curve.csv`` and ``visitation.npz``.
        bins: grid size of the visitation histogram.
    """

    def __init__(self, out_dir: str | Path, bins: int = 50) -> None:
        super().__init__()
        self.out_dir = Path(out_dir)
        self.bins = bins
        self.episodes: list[dict[str, float]] = []
        self.visits = np.zeros((bins, bins), dtype=np.int64)
        self._succeeded: np.ndarray | None = None

    def restore(self, episodes: list[dict[str, float]], visits: np.ndarray) -> None:
        """Start from a checkpoint's episodes and visits (before ``learn``; see :mod:`agents.checkpoint`).

        Raises:
            ValueError: ``visits`` does not have this recorder's grid shape.
        """
        if visits.shape != self.visits.shape:
            raise ValueError(f"visits must have shape {self.visits.shape}, got {visits.shape}")
        self.episodes = [dict(e) for e in episodes]
        self.visits = visits.astype(np.int64)

    def _on_training_start(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._file = open(self.out_dir / "curve.csv", "w", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow(CURVE_COLUMNS)
        self._writer.writerows([row[c] for c in CURVE_COLUMNS] for row in self.episodes)  # a resumed run's
        self._succeeded = np.zeros(self.training_env.num_envs, dtype=bool)

    def _on_step(self) -> bool:
        positions = []
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
                self._writer.writerow([row[c] for c in CURVE_COLUMNS])
                self._succeeded[i] = False
        if positions:
            pos = np.asarray(positions, dtype=np.float64)
            hist, _, _ = np.histogram2d(pos[:, 0], pos[:, 1], bins=self.bins, range=VISITATION_RANGE)
            self.visits += hist.astype(np.int64)
        return True

    def _on_training_end(self) -> None:
        self._file.close()
        if self.visits.any():
            xedges = np.linspace(*VISITATION_RANGE[0], self.bins + 1)
            yedges = np.linspace(*VISITATION_RANGE[1], self.bins + 1)
            np.savez(self.out_dir / "visitation.npz", hist=self.visits, xedges=xedges, yedges=yedges)

    def _on_rollout_end(self) -> None:
        self._file.flush()
