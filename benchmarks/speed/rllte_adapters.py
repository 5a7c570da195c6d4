"""rllte-core (RLeXplore) as :mod:`benchmarks.speed.peer_compare` drives it: loading it, the vectorised env
its constructors need, its samples and its compute with ``update`` switched off, and the agreement checks
of ours with rllte's encoder weights where the definitions coincide (E3B, RE3)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch

from benchmarks.speed.peer_rollouts import flat, make_rollout, spaces_for

RLLTE_CLASS = {
    "rnd": "RND",
    "icm": "ICM",
    "disagreement": "Disagreement",
    "e3b": "E3B",
    "re3": "RE3",
    "ride": "RIDE",
    "ngu": "NGU",
}


SAMPLE_KEYS = ("observations", "actions", "rewards", "terminateds", "truncateds", "next_observations")


INSTALL = (
    "python3 -m venv /tmp/rllte-venv && /tmp/rllte-venv/bin/pip install torch==2.13.0 rllte-core && "
    "/tmp/rllte-venv/bin/pip install gymnasium==1.4.0 && PYTHONPATH=. /tmp/rllte-venv/bin/python -m "
    "benchmarks.speed.peer_compare"
)


def shifted_agreement(ours: np.ndarray, theirs: np.ndarray, dones: np.ndarray) -> dict[str, float]:
    """Compare ours[t] (the bonus of reaching s_{t+1}) with theirs[t + 1] (the bonus of s_{t+1}, rllte's E3B
    rewards the state a step starts from) wherever t + 1 is in the same episode.

    Returns:
        ``max_rel_error`` over the compared pairs and their number ``pairs``.
    """
    same = ~dones[:-1]
    a, b = ours[:-1][same], theirs[1:][same]
    error = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))
    return {"max_rel_error": error, "pairs": int(same.sum())}


class FakeVecEnv:
    """Just enough of a vectorised env for rllte's constructors (spaces, ``num_envs``, random steps for its
    observation-statistics warm-up)."""

    def __init__(self, kind: str, n_envs: int) -> None:
        self.observation_space, self.action_space = spaces_for(kind)
        self.num_envs = n_envs
        self.unwrapped = self
        frames = make_rollout(kind, 2, 64, seed=123)["next_obs"]
        self._frames = frames.reshape(-1, *self.observation_space.shape)
        self._rng = np.random.default_rng(0)

    def _obs(self) -> np.ndarray:
        return self._frames[self._rng.integers(0, len(self._frames), self.num_envs)]

    def reset(self) -> tuple[np.ndarray, dict]:
        return self._obs(), {}

    def step(self, actions: Any) -> tuple:
        zeros = np.zeros(self.num_envs)
        return self._obs(), zeros, zeros.astype(bool), zeros.astype(bool), {}


def rllte_samples(rollout: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    n_steps, n_envs = rollout["dones"].shape
    return {
        "observations": torch.as_tensor(rollout["obs"]).float(),
        "actions": torch.as_tensor(rollout["actions"]),
        "rewards": torch.zeros(n_steps, n_envs),
        "terminateds": torch.as_tensor(rollout["dones"]),
        "truncateds": torch.zeros(n_steps, n_envs, dtype=torch.bool),
        "next_observations": torch.as_tensor(rollout["next_obs"]).float(),
    }


def rllte_compute(peer: Any, samples: dict[str, torch.Tensor]) -> torch.Tensor:
    """rllte's intrinsic rewards of a rollout: ``watch`` each step, then ``compute`` without ``update``."""
    for t in range(samples["rewards"].shape[0]):
        peer.watch(*(samples[k][t] for k in SAMPLE_KEYS))
    for module in getattr(peer, "rewards", [peer]):  # NGU is a Fabric of RND and PseudoCounts
        module.update = lambda samples: None
    try:
        return peer.compute(samples, sync=True)
    finally:
        for module in getattr(peer, "rewards", [peer]):
            del module.update


def agreement(rllte: Any, kind: str, rollout: dict[str, np.ndarray]) -> dict[str, Any]:
    """E3B and RE3 with rllte's encoder weights in ours; raw bonuses on both sides (no reward scaling)."""
    from curiosity import E3B, RE3

    obs_space, act_space = spaces_for(kind)
    n_envs = rollout["dones"].shape[1]
    scale = torch.nn.Identity() if kind == "vector" else Scale(1 / 255)  # rllte divides frames by 255
    out: dict[str, Any] = {}

    peer = rllte.E3B(FakeVecEnv(kind, n_envs), device="cpu", rwd_norm_type="none")
    ours = E3B(
        obs_space,
        act_space,
        encoder=torch.nn.Sequential(scale, copy.deepcopy(peer.encoder)),
        normalize_bonus=False,
        ridge=peer.ridge,
        eta=1.0,
        seed=0,
        device="cpu",
    )
    theirs = peer.compute(rllte_samples(rollout), sync=False).numpy()
    batch = (flat(rollout["obs"]), flat(rollout["actions"]), flat(rollout["next_obs"]))
    mine = ours.compute(*batch, dones=rollout["dones"])
    out["e3b"] = shifted_agreement(mine.reshape(theirs.shape), theirs, rollout["dones"])

    # RE3 over one env's observations: rllte's k-NN runs per env over what it watched; ours over the batch
    peer = rllte.RE3(FakeVecEnv(kind, n_envs), device="cpu", rwd_norm_type="none", obs_norm_type="none")
    ours = RE3(
        obs_space,
        act_space,
        encoder=torch.nn.Sequential(scale, copy.deepcopy(peer.random_encoder)),
        k=peer.k,
        memory_size=0,
        decay=0.0,
        eta=1.0,
        seed=0,
        device="cpu",
    )
    samples = rllte_samples(rollout)
    for t in range(samples["rewards"].shape[0]):
        peer.watch(*(samples[k][t] for k in SAMPLE_KEYS))
    theirs = peer.compute(samples, sync=False).numpy()
    errors = []
    for e in range(n_envs):
        x = rollout["obs"][:, e]
        mine = ours.compute(x, rollout["actions"][:, e], x)  # their k-NN is over observations, self excluded
        errors.append(np.max(np.abs(mine - theirs[:, e]) / np.maximum(np.abs(theirs[:, e]), 1e-12)))
    out["re3"] = {"max_rel_error": float(max(errors)), "pairs": int(rollout["dones"].size)}
    return out


class Scale(torch.nn.Module):
    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.float() * self.factor


def load_rllte() -> tuple[Any | None, str | None]:
    """``(rllte.xplore.reward, None)``, or ``(None, why not)``."""
    try:
        from rllte.xplore import reward
    except Exception as error:
        return None, f"rllte-core is not importable here ({type(error).__name__}: {error})"
    return reward, None
