"""State encoders: contract tests over every encoder (shapes, layouts, stacking, save/load, errors) and
training on a few hundred frames of the pixel MountainCar beats the initial weights."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
import torch

import envs  # noqa: F401  (registers the pixel ids)
from generative.encoders import (
    FrameVAE,
    GANDiscriminatorEncoder,
    IAFVAEEncoder,
    InfoGANEncoder,
    StateEncoder,
    collect_frames,
    make_encoder,
    pretrain_encoder,
)

torch.set_num_threads(1)

SIZE = 32
SMALL: dict[str, dict] = {
    "vae": {"image_size": 16, "channels": 8, "latent_dim": 6},
    "ae": {"image_size": 16, "channels": 8, "latent_dim": 6},
    "iaf-vae": {"vae_kwargs": {"latent_dim": 6, "image_size": 16, "hidden": 64, "context_dim": 8,
                               "iaf_width": 32, "channels": 8}},
    "infogan": {"model_kwargs": {"channels": 8, "hidden": 32, "q_hidden": 16}},
    "gan": {"image_size": 16, "discriminator_kwargs": {"hidden": (64, 32)}, "generator_hidden": (32,)},
}  # fmt: skip
PER_FRAME_DIM = {"vae": 6, "ae": 6, "iaf-vae": 6, "infogan": 12, "gan": 32}


def small(name: str, frame_shape, **kwargs) -> StateEncoder:
    return make_encoder(name, frame_shape, **{**SMALL[name], **kwargs})


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return collect_frames("PixelSparseMountainCar-v0", 300, seed=0, width=SIZE, height=SIZE)


def test_collect_frames(frames):
    assert frames.shape == (300, SIZE, SIZE, 3) and frames.dtype == np.uint8
    assert len({f.tobytes() for f in frames[::10]}) > 5  # the car moves
    with pytest.raises(ValueError, match="needs image observations"):
        collect_frames("SparseMountainCar-v0", 3)


@pytest.mark.parametrize("name", list(SMALL))
def test_shape_and_layouts(name, frames):
    encoder = small(name, (SIZE, SIZE, 3)).eval()
    out = encoder(frames[:5])
    assert out.shape == (5, PER_FRAME_DIM[name]) == (5, encoder.feature_dim) and torch.isfinite(out).all()
    # float copies of uint8 values (as RND/ICM pass them) and torch tensors give the same features
    torch.testing.assert_close(encoder(torch.as_tensor(frames[:5]).float()), out)
    # channel-first floats in [0, 1]
    chw = small(name, (3, SIZE, SIZE), input_range=1.0)
    chw.load_state_dict(encoder.state_dict())
    torch.testing.assert_close(chw(frames[:5].transpose(0, 3, 1, 2) / 255.0), out, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", list(SMALL))
def test_stacked_frames_are_encoded_one_by_one(name, frames):
    single = small(name, (SIZE, SIZE, 3)).eval()
    stacked = small(name, (SIZE, SIZE, 6), frame_stack=2).eval()
    stacked.load_state_dict(single.state_dict())
    pair = np.concatenate([frames[:4], frames[10:14]], axis=-1)
    expected = torch.cat([single(frames[:4]), single(frames[10:14])], dim=1)
    assert stacked.feature_dim == 2 * single.feature_dim
    torch.testing.assert_close(stacked(pair), expected)


def test_grey_frames_and_luma():
    encoder = small("vae", (SIZE, SIZE), grayscale=True)
    assert encoder(np.zeros((2, SIZE, SIZE), np.uint8)).shape == (2, 6)
    red = np.zeros((1, SIZE, SIZE, 3), np.uint8)
    red[..., 0] = 255
    grey = small("iaf-vae", (SIZE, SIZE, 3)).frames_to_images(red)
    assert grey.shape == (1, 1, 16, 16)
    torch.testing.assert_close(grey, torch.full_like(grey, 0.299))


@pytest.mark.parametrize("name", list(SMALL))
def test_save_load_gives_identical_features(name, frames):
    a, b = small(name, (SIZE, SIZE, 3), seed=0), small(name, (SIZE, SIZE, 3), seed=1)
    if name != "infogan":  # the InfoGAN codes of an untrained Q are near-uniform for every seed
        assert not torch.allclose(a(frames[:4]), b(frames[:4]))
    a.train_step(frames[:8])  # moves weights, optimiser and the encoder's random generator
    buffer = io.BytesIO()
    torch.save(a.state_dict(), buffer)
    buffer.seek(0)
    b.load_state_dict(torch.load(buffer, weights_only=True))
    torch.testing.assert_close(a(frames[:4]), b(frames[:4]))
    # the optimiser state travels too: the next step is the same
    a.train_step(frames[8:16])
    b.train_step(frames[8:16])
    torch.testing.assert_close(a(frames[:4]), b(frames[:4]))


def test_bad_input_raises(frames):
    encoder = small("vae", (SIZE, SIZE, 3))
    with pytest.raises(ValueError, match=r"must have shape \(batch, 32, 32, 3\), got \(2, 16, 16, 3\)"):
        encoder(np.zeros((2, 16, 16, 3), np.uint8))
    with pytest.raises(ValueError, match="must split into frame_stack=2 grey"):
        small("vae", (SIZE, SIZE, 3), frame_stack=2)
    with pytest.raises(ValueError, match="image_size must be a multiple of 8"):
        FrameVAE((SIZE, SIZE, 3), image_size=20)
    with pytest.raises(ValueError, match="cannot tell the channel axis"):
        small("vae", (3, 8, 3))
    with pytest.raises(ValueError, match="unknown encoder 'pca'; choose one of vae, ae"):
        make_encoder("pca", (SIZE, SIZE, 3))
    with pytest.raises(ValueError, match="the discriminator takes 256 inputs, not 784"):
        GANDiscriminatorEncoder((SIZE, SIZE, 3), small("gan", (SIZE, SIZE, 3)).discriminator, image_size=28)
    with pytest.raises(ValueError, match="at least 2 frames"):
        small("infogan", (SIZE, SIZE, 3)).train_step(frames[:1])


def _gan_gap(encoder: GANDiscriminatorEncoder, frames: np.ndarray) -> float:
    real = encoder.frames_to_images(frames)
    with torch.no_grad():
        fake = encoder.sample_fakes(len(real))
    return float(encoder.real_probability(real).mean() - encoder.real_probability(fake).mean())


Metric = Callable[[StateEncoder, np.ndarray], float]
IMPROVES: dict[str, tuple[int, Metric]] = {  # lower is better: (steps, metric)
    "vae": (80, lambda e, x: e.reconstruction_error(x)),
    "ae": (80, lambda e, x: e.reconstruction_error(x)),
    "iaf-vae": (60, lambda e, x: e.reconstruction_error(x)),
    "gan": (30, lambda e, x: -_gan_gap(e, x)),
}


@pytest.mark.parametrize("name", list(IMPROVES))
def test_training_beats_initialisation(name, frames):
    steps, metric = IMPROVES[name]
    encoder = small(name, (SIZE, SIZE, 3))
    held_out = frames[250:]
    if name == "gan":  # before any step the discriminator is still uninitialised (data-dependent init)
        encoder.train_step(frames[:32])
    before = metric(encoder, held_out)
    history = pretrain_encoder(encoder, frames[:250], steps=steps, batch_size=32, seed=0)
    after = metric(encoder, held_out)
    assert len(history) == steps and not encoder.training
    assert after < before - 0.2 * abs(before), (before, after)


def test_infogan_q_recovers_codes_after_training(frames):
    encoder = small(
        "infogan",
        (SIZE, SIZE, 3),
        model_kwargs={"channels": 8, "hidden": 64, "q_hidden": 32},
        lr_discriminator=1e-3,
    )
    history = pretrain_encoder(encoder, frames, steps=50, batch_size=32)
    first = np.mean([h["mi_categorical"] for h in history[:5]])
    last = np.mean([h["mi_categorical"] for h in history[-5:]])
    assert last > first + 0.3, (first, last)  # L_I rises from about 0 towards H(c) = log 10


@pytest.mark.parametrize("cls", [FrameVAE, IAFVAEEncoder, InfoGANEncoder, GANDiscriminatorEncoder])
def test_every_encoder_class_is_registered(cls):
    from generative.encoders import ENCODERS

    assert cls in {c for c, _ in ENCODERS.values()}


def test_a_stacked_rollout_encodes_each_frame_once_with_the_same_features(frames):
    encoder = small("vae", (SIZE, SIZE, 6), frame_stack=2).eval()
    seen = []
    encode_images = encoder.encode_images
    encoder.encode_images = lambda images: seen.append(len(images)) or encode_images(images)
    _, first = np.unique(frames.reshape(len(frames), -1), axis=0, return_index=True)
    distinct = frames[np.sort(first)[:10]]
    assert len(distinct) == 10
    rollout = np.concatenate([distinct[:9], distinct[1:10]], axis=-1)  # 9 stacked steps sharing frames 1-8
    with torch.no_grad():
        deduplicated = encoder(rollout)
    assert seen == [10]  # ten distinct frames, not eighteen
    expected = encoder(rollout)  # with gradients: every frame encoded, no deduplication
    assert seen[1:] == [18]
    torch.testing.assert_close(deduplicated, expected.detach())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", list(SMALL))
def test_every_encoder_trains_online_inside_a_cuda_bonus(name, frames):
    from gymnasium import spaces

    from curiosity import LatentVIME

    obs_space, act_space = spaces.Box(0, 255, frames.shape[1:], np.uint8), spaces.Box(-1.0, 1.0, (1,))
    bonus = LatentVIME(obs_space, act_space, encoder=small(name, frames.shape[1:]), encoder_updates="online",
                       encoder_steps=2, encoder_batch_size=8, n_updates=5, min_pool_size=1, seed=0,
                       device="cuda")  # fmt: skip
    assert all(p.device.type == "cuda" for p in bonus.encoder.parameters())
    actions = np.zeros((16, 1), dtype=np.float32)
    bonus.add(frames[:16], actions, frames[1:17])
    metrics = bonus.train()
    assert any(key.startswith("encoder/") for key in metrics)
    assert np.isfinite(bonus.compute(frames[:16], actions, frames[1:17])).all()
