"""World model: BNN latent dynamics on a frame VAE; imagined rollouts have the documented shape, stay finite
and are written as PNG strips and GIFs."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from PIL import Image

import envs  # noqa: F401  (registers the pixel ids)
from generative.encoders import FrameVAE, InfoGANEncoder, pretrain_encoder
from generative.encoders.world_model import Imagined, WorldModel, save_gif, save_strip, to_uint8_frames

torch.set_num_threads(1)

SIZE = 32


@pytest.fixture(scope="module")
def transitions():
    env = gym.make("PixelSparseMountainCar-v0", width=SIZE, height=SIZE)
    env.action_space.seed(0)
    obs, _ = env.reset(seed=0)
    data = {"obs": [], "actions": [], "next_obs": []}
    for _ in range(300):
        action = env.action_space.sample()
        next_obs, _, terminated, truncated, _ = env.step(action)
        for key, value in zip(data, (obs, action, next_obs), strict=True):
            data[key].append(value)
        obs = env.reset()[0] if terminated or truncated else next_obs
    return {key: np.stack(value) for key, value in data.items()}, env.action_space


@pytest.fixture(scope="module")
def model(transitions):
    data, action_space = transitions
    encoder = FrameVAE((SIZE, SIZE, 3), latent_dim=6, image_size=16, channels=8, seed=0)
    pretrain_encoder(encoder, data["obs"], steps=40, batch_size=32)
    world = WorldModel(encoder, action_space, hidden_sizes=(32,), seed=0)
    metrics = world.train_dynamics(data["obs"], data["actions"], data["next_obs"], steps=150, batch_size=32)
    return world, metrics


def test_training_lowers_the_loss(model):
    _, metrics = model
    assert metrics["loss_last"] < metrics["loss_first"]
    assert np.isfinite(metrics["kl"]) and np.isfinite(metrics["log_likelihood"])


def test_imagined_rollout_shape_and_range(model, transitions):
    world, _ = model
    data, _ = transitions
    horizon = 7
    out = world.imagine(data["obs"][0], np.zeros((horizon, 1), np.float32))
    assert isinstance(out, Imagined)
    assert out.latents.shape == (1, horizon + 1, 6) and out.frames.shape == (1, horizon + 1, 16, 16, 3)
    assert torch.isfinite(out.latents).all() and out.frames.min() >= 0 and out.frames.max() <= 1
    torch.testing.assert_close(out.latents[:, 0], world.encode(data["obs"][:1]))  # starts from the real frame
    batch = world.imagine(data["obs"][:3], np.ones((horizon, 3, 1), np.float32), sample=False)
    assert batch.latents.shape == (3, horizon + 1, 6) and batch.frames.shape == (3, horizon + 1, 16, 16, 3)


def test_mean_rollout_is_deterministic_and_sampled_ones_differ(model, transitions):
    world, _ = model
    frame, actions = transitions[0]["obs"][:2], np.zeros((5, 1), np.float32)
    a, b = world.imagine(frame, actions, sample=False), world.imagine(frame, actions, sample=False)
    torch.testing.assert_close(a.latents, b.latents)
    c, d = world.imagine(frame, actions), world.imagine(frame, actions)
    assert not torch.allclose(c.latents[:, 1:], d.latents[:, 1:])


def test_long_rollouts_stay_finite_and_within_the_clip(model, transitions):
    world, _ = model
    actions = np.random.default_rng(0).uniform(-1, 1, (200, 1)).astype(np.float32)
    out = world.imagine(transitions[0]["obs"][5], actions)
    assert torch.isfinite(out.latents).all() and torch.isfinite(out.frames).all()
    bound = world.z_stats.mean.float() + world.latent_clip * world.z_stats.std.float()
    assert (out.latents[:, 1:] <= bound + 1e-5).all()


def test_discrete_actions_are_one_hot(transitions):
    encoder = FrameVAE((SIZE, SIZE, 3), latent_dim=4, image_size=16, channels=4)
    world = WorldModel(encoder, spaces.Discrete(3), hidden_sizes=(8,))
    assert world.dynamics.layers[0].mu_w.shape == (4 + 3, 8)
    out = world.imagine(transitions[0]["obs"][:2], np.array([0, 2, 1]))
    assert out.latents.shape == (2, 4, 4)


def test_save_strip_and_gif(model, transitions, tmp_path):
    world, _ = model
    out = world.imagine(transitions[0]["obs"][0], np.zeros((5, 1), np.float32))
    strip = save_strip(out.frames[0], tmp_path / "figs" / "strip.png", scale=2)
    with Image.open(strip) as image:
        assert image.size == (6 * 16 * 2, 16 * 2)
    gif = save_gif(out.frames[0], tmp_path / "rollout.gif", scale=3)
    with Image.open(gif) as image:
        frames = to_uint8_frames(out.frames[0])  # Pillow merges identical consecutive frames
        distinct = 1 + sum(not np.array_equal(a, b) for a, b in itertools.pairwise(frames))
        assert image.n_frames == distinct and image.size == (48, 48)
    grey = to_uint8_frames(np.full((2, 4, 4, 1), 0.5))
    assert grey.shape == (2, 4, 4, 3) and grey.dtype == np.uint8 and (grey == 128).all()


def test_save_load_gives_identical_rollouts(model, transitions):
    world, _ = model
    copy = WorldModel(
        FrameVAE((SIZE, SIZE, 3), latent_dim=6, image_size=16, channels=8, seed=5),
        world.action_space,
        hidden_sizes=(32,),
        seed=5,
    )
    copy.load_state_dict(world.state_dict())
    frame, actions = transitions[0]["obs"][:2], np.zeros((4, 1), np.float32)
    torch.testing.assert_close(world.imagine(frame, actions).frames, copy.imagine(frame, actions).frames)


def test_bad_input_raises(model, transitions):
    world, _ = model
    with pytest.raises(TypeError, match="needs an encoder with decode"):
        WorldModel(InfoGANEncoder((SIZE, SIZE, 3)), world.action_space)
    with pytest.raises(ValueError, match="use frame_stack=1"):
        WorldModel(FrameVAE((SIZE, SIZE, 6), image_size=16, frame_stack=2), world.action_space)
    with pytest.raises(TypeError, match="action_space must be Box or Discrete"):
        WorldModel(world.encoder, spaces.MultiBinary(2))
    with pytest.raises(ValueError, match=r"actions must have shape \(horizon, 2, ...\)"):
        world.imagine(transitions[0]["obs"][:2], np.zeros((3, 5, 1), np.float32))
    with pytest.raises(ValueError, match="batch sizes differ"):
        world.train_dynamics(
            transitions[0]["obs"][:3], transitions[0]["actions"][:2], transitions[0]["obs"][:3]
        )
    with pytest.raises(ValueError, match=r"frames must have shape \(T, H, W, 1 or 3\)"):
        to_uint8_frames(np.zeros((4, 4, 3)))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_world_model_moved_to_cuda_trains_and_imagines_like_on_the_cpu(model, transitions):
    world, _ = model
    data, action_space = transitions
    on_gpu = WorldModel(
        FrameVAE((SIZE, SIZE, 3), latent_dim=6, image_size=16, channels=8, seed=5), action_space,
        hidden_sizes=(32,), seed=5,
    )  # fmt: skip
    on_gpu.load_state_dict(world.state_dict())
    on_gpu.to("cuda")
    frame, actions = data["obs"][:2], np.zeros((4, 1), np.float32)
    out = on_gpu.imagine(frame, actions, sample=False)
    assert out.latents.device.type == "cuda"
    torch.testing.assert_close(out.latents.cpu(), world.imagine(frame, actions, sample=False).latents,
                               atol=1e-4, rtol=1e-4)  # fmt: skip
    metrics = on_gpu.train_dynamics(data["obs"][:64], data["actions"][:64], data["next_obs"][:64], steps=3)
    assert np.isfinite(metrics["loss_last"])
