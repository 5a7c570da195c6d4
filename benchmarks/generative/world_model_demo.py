"""What does a latent world model believe? Imagined pixel rollouts against real ones, with numbers.

``env TORCH_THREADS=1 python -m benchmarks.generative.world_model_demo`` (defaults:
``PixelSparseMountainCar-v0``, about 4 CPU minutes on one thread) writes
``benchmarks/results/world_model/``. It:

1. collects ``--frames`` transitions ``(frame, action, next frame)`` with a random policy that *holds* each
   uniformly drawn action for ``--hold`` steps (a new draw also after every reset). MountainCar's engine is
   weak: with an action redrawn every step the car's position stays within [-0.83, -0.22] (1st-99th
   percentile over 8,000 steps, seed 0), with a 15-step hold within [-1.18, 0.31] of the track's
   [-1.2, 0.6], so the data cover both hills and the car visibly moves;
2. pretrains a :class:`~generative.encoders.FrameVAE` (``make_encoder("vae", ...)``) on those frames for
   ``--encoder-steps`` minibatches. The car is a few pixels of a mostly static frame: at the default
   ``--image-size 32`` and ``--encoder-lr 3e-3`` the VAE starts to draw it after about 1,500 steps (before
   that it decodes an empty track), hence the default of 3,000;
3. trains a :class:`~generative.encoders.world_model.WorldModel`'s BNN latent dynamics for
   ``--dynamics-epochs`` passes over the encoded transitions (VAE frozen);
4. collects held-out trajectories the same way with seed ``--seed + 1``, picks ``--starts`` windows of
   ``--horizon`` consecutive steps within one episode, and from each window's first real frame imagines
   the next ``H`` steps under the window's real actions (:meth:`WorldModel.imagine`), with the BNN's
   posterior mean and with sampled weights.

Numbers (``world_model.json``), each a list over steps ``t = 0 .. H`` averaged over the starts:

* ``latent_error``: mean squared error per latent dimension between the imagined latent ``z_t`` and the
  encoding of the real frame ``t``. ``model`` rolls the posterior-mean dynamics, ``model_sampled`` one
  weight sample per step, and ``baseline`` is "nothing moves": ``z_t = z_0`` for every ``t``. Step 0 is 0.
* ``frame_mse``: mean squared pixel error (intensities in ``[0, 1]``, on the model's ``S x S`` images)
  between the decoded imagined frame and the real frame; the baseline decodes ``z_0`` at every step.
  Step 0 is the VAE's reconstruction error (what encoding and decoding alone cost).
* ``headline``: model / baseline ratios at step 1 and at step ``H`` (below 1: the model predicts the
  motion better than assuming none). A single frame shows the car's position but not its velocity, so the
  latent dynamics can only learn the *expected* motion given position and action: the imagined car moves
  less than the real one and blurs as the rollout goes on. A blurred car in roughly the right place costs
  less pixel error than a sharp one in the wrong place, so the frame ratio and the latent ratio need not
  move together along the horizon.

Pictures: ``imagined_strip.png`` has three rows (real frames, posterior-mean rollout, sampled-BNN rollout)
and one column every ``--strip-every`` steps from step 0 to ``H`` (``H // strip_every + 1`` columns of
``S x S`` frames magnified ``--scale`` times); the start shown is the held-out window whose real frames
change most over the horizon (the most visible motion, chosen without looking at the model).
``imagined.gif`` plays all ``H + 1`` steps of the same start, real | mean | sampled side by side. Real
frames are shown as the model sees them (resized to ``S x S``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import tyro
from tqdm.auto import tqdm

import envs  # noqa: F401  (registers the pixel tasks)
from benchmarks.provenance import command_line, environment
from benchmarks.sweep.results import atomic_write
from curiosity.runtime import configure_torch, resolve_device
from generative.encoders import make_encoder, pretrain_encoder
from generative.encoders.world_model import WorldModel, save_gif, save_strip

ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass
class Args:
    """Train a latent world model on a pixel task and compare its imagined rollouts with real ones."""

    env: str = "PixelSparseMountainCar-v0"
    """pixel task id (``envs.pixels``)"""
    frames: int = 8000
    """training transitions collected with the hold-action random policy"""
    hold: int = 15
    """steps each random action is held for"""
    image_size: int = 32
    """side of the VAE's square images (frames are resized to it; a multiple of 8)"""
    latent_dim: int = 16
    """VAE latent width"""
    encoder_steps: int = 3000
    """VAE pretraining minibatches (64 frames each)"""
    encoder_lr: float = 3e-3
    """VAE Adam learning rate"""
    dynamics_epochs: float = 30.0
    """passes of BNN training over the transitions (minibatches of 64)"""
    horizon: int = 20
    """imagined steps H"""
    starts: int = 32
    """held-out start frames the errors are averaged over"""
    eval_frames: int = 2000
    """held-out transitions collected to draw the starts from"""
    strip_every: int = 2
    """a strip column every this many steps"""
    scale: int = 3
    """magnification of the strip and the GIF"""
    seed: int = 0
    """seeds the training data, the VAE and the BNN; the held-out data use seed + 1"""
    device: str = "auto"
    """where the VAE and the dynamics train: auto (CUDA when available, else CPU), cpu, cuda or cuda:N
    (weights are initialised and noise drawn on the CPU, so a seed starts the same everywhere)"""
    out_dir: Path = ROOT / "benchmarks" / "results" / "world_model"
    """where world_model.json, imagined_strip.png and imagined.gif go"""
    progress: bool = True
    """tqdm bar over the VAE pretraining"""


def collect(env_id: str, n: int, hold: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` transitions of the hold-action random policy: ``obs``, ``actions``, ``next_obs`` and ``ends``
    (True where the episode ended with that transition, so ``obs[i + 1]`` is a reset frame)."""
    env = gym.make(env_id)
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    data: dict[str, list[Any]] = {"obs": [], "actions": [], "next_obs": [], "ends": []}
    since_draw = hold
    for _ in range(n):
        if since_draw >= hold:
            action, since_draw = env.action_space.sample(), 0
        next_obs, _, terminated, truncated, _ = env.step(action)
        since_draw += 1
        for key, value in zip(data, (obs, action, next_obs, terminated or truncated), strict=True):
            data[key].append(value)
        obs = next_obs
        if terminated or truncated:
            obs, _ = env.reset()
            since_draw = hold
    env.close()
    return {key: np.stack(value) for key, value in data.items()}


def windows(ends: np.ndarray, horizon: int, count: int, seed: int) -> np.ndarray:
    """``count`` sorted start indices ``i`` whose transitions ``i .. i + horizon - 1`` lie in one episode."""
    n = len(ends) - horizon + 1
    broken = np.array([ends[i : i + horizon - 1].any() for i in range(max(n, 0))], dtype=bool)
    valid = np.flatnonzero(~broken)
    if len(valid) < count:
        raise ValueError(f"only {len(valid)} held-out windows of {horizon} steps; collect more --eval-frames")
    return np.sort(np.random.default_rng(seed).choice(valid, count, replace=False))


def per_step(a: torch.Tensor, b: torch.Tensor) -> list[float]:
    """Mean squared difference per step of ``(B, T, ...)`` tensors: a list of ``T`` floats."""
    return (a - b).pow(2).flatten(2).mean(dim=(0, 2)).tolist()


def evaluate(world: WorldModel, held: dict[str, np.ndarray], starts: np.ndarray, horizon: int) -> dict:
    """Imagine from each start under the real actions; per-step errors, and the frames for the pictures."""
    idx = starts[:, None] + np.arange(horizon)  # (B, H) transition indices
    real = np.concatenate([held["obs"][starts][:, None], held["next_obs"][idx]], axis=1)  # (B, H + 1, ...)
    actions = np.swapaxes(held["actions"][idx], 0, 1)  # (H, B, ...)
    flat = real.reshape(-1, *real.shape[2:])
    z_real = world.encode(flat).reshape(len(starts), horizon + 1, -1)
    images = world.encoder.frames_to_images(flat)  # (B (H + 1), c, S, S) in [0, 1]
    real_images = images.reshape(len(starts), horizon + 1, *images.shape[1:]).permute(0, 1, 3, 4, 2)
    mean = world.imagine(real[:, 0], actions, sample=False)
    sampled = world.imagine(real[:, 0], actions, sample=True)
    still_z = mean.latents[:, :1].expand_as(mean.latents)
    still_frames = mean.frames[:, :1].expand_as(mean.frames)
    motion = (real_images - real_images[:, :1]).pow(2).flatten(1).mean(1)  # how much the real frames change
    return {
        "latent_error": {
            "model": per_step(mean.latents, z_real),
            "model_sampled": per_step(sampled.latents, z_real),
            "baseline": per_step(still_z, z_real),
        },
        "frame_mse": {
            "model": per_step(mean.frames, real_images),
            "model_sampled": per_step(sampled.frames, real_images),
            "baseline": per_step(still_frames, real_images),
        },
        "pictures": (real_images, mean.frames, sampled.frames, int(motion.argmax())),
    }


def save_pictures(pictures: tuple, args: Args, out: Path) -> dict[str, Any]:
    """Write the strip (rows real / mean / sampled) and the GIF of one start; returns their layout."""
    real, mean, sampled, shown = pictures
    rows = torch.stack([real[shown], mean[shown], sampled[shown]])  # (3, H + 1, S, S, c)
    steps = list(range(0, args.horizon + 1, args.strip_every))
    columns = torch.cat(list(rows[:, steps]), dim=1)  # each column: the three rows stacked vertically
    save_strip(columns, out / "imagined_strip.png", scale=args.scale)
    save_gif(torch.cat(list(rows), dim=2), out / "imagined.gif", scale=args.scale)
    return {"rows": ["real", "imagined (posterior mean)", "imagined (sampled BNN)"], "steps": steps,
            "frame_size": int(real.shape[2]), "scale": args.scale, "shown": shown}  # fmt: skip


def main(args: Args | None = None) -> dict[str, Any]:
    """Run the demo, write ``world_model.json`` and the pictures, print the headline; returns the record."""
    args = args or tyro.cli(Args)
    device = resolve_device(args.device)  # a bad name fails before any frame is collected
    configure_torch()
    wall0, cpu0 = time.time(), time.process_time()
    train = collect(args.env, args.frames, args.hold, args.seed)
    held = collect(args.env, args.eval_frames, args.hold, args.seed + 1)
    starts = windows(held["ends"], args.horizon, args.starts, args.seed)

    encoder = make_encoder(
        "vae", train["obs"].shape[1:], latent_dim=args.latent_dim, image_size=args.image_size,
        learning_rate=args.encoder_lr, seed=args.seed,
    ).to(device)  # fmt: skip
    chunk, encoder_loss = 100, []  # pretrain in chunks of 100 steps, for the progress bar
    for k in tqdm(range(math.ceil(args.encoder_steps / chunk)), desc="VAE", disable=not args.progress):
        steps = min(chunk, args.encoder_steps - k * chunk)
        history = pretrain_encoder(encoder, train["obs"], steps, 64, seed=args.seed * 10_000 + k)
        encoder_loss.append(history[-1])
    world = WorldModel(encoder, gym.make(args.env).action_space, seed=args.seed).to(device)
    dynamics_steps = max(1, round(args.dynamics_epochs * args.frames / 64))
    dynamics = world.train_dynamics(train["obs"], train["actions"], train["next_obs"], dynamics_steps, 64)

    result = evaluate(world, held, starts, args.horizon)
    layout = save_pictures(result.pop("pictures"), args, args.out_dir)
    layout["held_out_start"] = int(starts[layout.pop("shown")])
    lat, fr = result["latent_error"], result["frame_mse"]
    record = {
        "command": command_line("benchmarks.generative.world_model_demo"),
        "environment": environment(),
        # what shaped the numbers (not where they went, how progress showed, or the device, recorded below)
        "settings": {
            k: v for k, v in dataclasses.asdict(args).items() if k not in ("out_dir", "progress", "device")
        },
        "minutes": (time.time() - wall0) / 60,
        "cpu_minutes": (time.process_time() - cpu0) / 60,
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "steps": list(range(args.horizon + 1)),
        **result,
        "headline": {
            "latent_ratio_step1": lat["model"][1] / lat["baseline"][1],
            "latent_ratio_last": lat["model"][-1] / lat["baseline"][-1],
            "frame_ratio_step1": fr["model"][1] / fr["baseline"][1],
            "frame_ratio_last": fr["model"][-1] / fr["baseline"][-1],
        },
        "encoder": {
            "steps": args.encoder_steps,
            "last": encoder_loss[-1] if encoder_loss else None,
            "reconstruction_mse_held_out": fr["model"][0],
        },
        "dynamics": {"steps": dynamics_steps, **dynamics},
        "held_out_starts": starts.tolist(),
        "strip": layout,
    }
    args.out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(args.out_dir / "world_model.json", (json.dumps(record, indent=1) + "\n").encode())
    print(json.dumps({"command": record["command"], "minutes": record["minutes"], **record["headline"]}))
    return record


if __name__ == "__main__":
    main()
