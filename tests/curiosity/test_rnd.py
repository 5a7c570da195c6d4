"""Random Network Distillation: fixed target, observation and bonus normalisation, images."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces

from curiosity.rnd import RND

torch.set_num_threads(1)

VEC = spaces.Box(-1.0, 1.0, (4,), np.float32)
ACT = spaces.Discrete(3)
SMALL = {"feature_dim": 16, "hidden_sizes": (32,), "batch_size": 32, "gradient_steps": 4, "seed": 0}


def transitions(n: int, dim: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(n, dim)).astype(np.float32)
    return obs, rng.integers(0, 3, n), rng.normal(size=(n, dim)).astype(np.float32)


def test_target_never_changes_while_the_predictor_learns() -> None:
    rnd = RND(VEC, ACT, learning_rate=1e-3, **SMALL)
    target = {k: v.clone() for k, v in rnd.target.state_dict().items()}
    predictor = {k: v.clone() for k, v in rnd.predictor.state_dict().items()}
    for i in range(5):
        rnd.add(*transitions(32, seed=i))
        rnd.train()
    assert all(torch.equal(v, rnd.target.state_dict()[k]) for k, v in target.items())
    assert all(not torch.equal(v, rnd.predictor.state_dict()[k]) for k, v in predictor.items())
    assert not any(p.requires_grad for p in rnd.target.parameters())


def test_bonus_depends_on_next_obs_only_and_equals_the_prediction_error() -> None:
    rnd = RND(VEC, ACT, **SMALL)
    rnd.add(*transitions(64))
    obs, actions, next_obs = transitions(8, seed=1)
    other_obs, other_actions, _ = transitions(8, seed=2)
    bonus = rnd.compute(obs, actions, next_obs)
    np.testing.assert_array_equal(rnd.compute(other_obs, other_actions, next_obs), bonus)
    x = torch.as_tensor(next_obs, dtype=torch.float64)
    x = ((x - rnd.obs_rms.mean) / (rnd.obs_rms.std + 1e-8)).clamp(-5, 5).float()
    with torch.no_grad():
        expected = (rnd.predictor(x) - rnd.target(x)).pow(2).mean(1).numpy()
    np.testing.assert_allclose(bonus, expected, rtol=1e-5)


def test_a_batch_of_frames_larger_than_a_chunk_gets_the_formulas_bonus() -> None:
    space = spaces.Box(0, 255, (3, 64, 64), np.uint8)
    rnd = RND(space, ACT, feature_dim=16, seed=0)
    frames = np.random.default_rng(0).integers(0, 256, (rnd.encode_rows + 30, 3, 64, 64), dtype=np.uint8)
    rnd.add(frames[:50], np.zeros(50, int), frames[:50])
    x = torch.as_tensor(frames, dtype=torch.float64)  # normalised per pixel, in one pass
    x = ((x - rnd.obs_rms.mean) / (rnd.obs_rms.std + 1e-8)).clamp(-5, 5).float()
    with torch.no_grad():
        expected = (rnd.predictor(x) - rnd.target(x)).pow(2).mean(1).numpy()
    bonus = rnd.compute(frames, np.zeros(len(frames), int), frames)
    np.testing.assert_allclose(bonus, expected, rtol=1e-4)


def test_predictor_extra_layers_set_how_much_deeper_the_predictor_is() -> None:
    def shapes(net: torch.nn.Module) -> list[tuple[int, ...]]:
        return [tuple(p.shape) for p in net.parameters()]

    paper, flat = (RND(VEC, ACT, predictor_extra_layers=n, **SMALL) for n in (2, 0))
    assert shapes(flat.predictor) == shapes(flat.target)  # rllte's RND: one architecture for both
    assert shapes(paper.predictor) == shapes(paper.target) + [(16, 16), (16,)] * 2  # two more layers


def test_observation_statistics_follow_added_next_obs_and_are_clipped() -> None:
    rnd = RND(VEC, ACT, obs_clip=2.0, **SMALL)
    obs, actions, next_obs = transitions(500)
    rnd.add(obs, actions, next_obs)
    np.testing.assert_allclose(rnd.obs_rms.mean.numpy(), next_obs.mean(0), atol=1e-4)
    np.testing.assert_allclose(rnd.obs_rms.std.numpy(), next_obs.std(0), rtol=1e-3)
    extreme = torch.full((1, 4), 1e3)
    assert torch.equal(rnd._normalized(extreme), torch.full((1, 4), 2.0))


@pytest.mark.parametrize(
    "space",
    [spaces.Box(0, 255, (40, 40, 3), np.uint8), spaces.Box(0.0, 1.0, (1, 16, 16), np.float32)],
    ids=["hwc-uint8-nature", "chw-float-small"],
)
def test_images_with_the_default_cnn_lose_the_bonus_of_a_repeated_frame(space: spaces.Box) -> None:
    rnd = RND(space, ACT, feature_dim=16, learning_rate=1e-3, batch_size=16, gradient_steps=2, seed=0)
    conv = rnd.target[0][1][0]
    assert conv.kernel_size == ((8, 8) if space.shape[0] == 40 else (3, 3))
    space.seed(0)
    frames = np.stack([space.sample() for _ in range(9)])
    seen = frames[:1].repeat(16, 0)
    rnd.add(frames, np.zeros(9, int), frames)
    start = rnd.compute(seen[:1], [0], seen[:1])[0]
    for _ in range(40):
        rnd.add(seen, np.zeros(16, int), seen)
        rnd.train()
    end = rnd.compute(seen[:1], [0], seen[:1])[0]
    assert end < 0.5 * start
    assert np.median(rnd.compute(frames[1:], np.zeros(8, int), frames[1:])) > 2 * end


def test_a_given_encoder_is_used_frozen_and_saved() -> None:
    torch.manual_seed(0)
    encoder = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(36, 5))
    space = spaces.Box(0, 255, (6, 6), np.uint8)
    rnd = RND(space, ACT, encoder=encoder, **SMALL)
    assert rnd.input_shape == (5,)
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    frames = np.random.default_rng(0).integers(0, 255, (32, 6, 6), dtype=np.uint8)
    rnd.add(frames, np.zeros(32, int), frames)
    rnd.train()
    assert all(torch.equal(v, encoder.state_dict()[k]) for k, v in before.items())
    assert "encoder" in rnd.state_dict()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"feature_dim": 0}, "feature_dim must be an integer >= 1, got 0"),
        ({"hidden_sizes": (32, 0)}, "hidden_sizes must be a sequence of positive integers"),
        ({"learning_rate": -1e-4}, r"learning_rate must be a number in \(0.0, inf\), got -0.0001"),
        ({"obs_clip": 0.0}, "obs_clip must be a number"),
        ({"batch_size": 2.5}, "batch_size must be an integer >= 1, got 2.5"),
        ({"gradient_steps": True}, "gradient_steps must be an integer"),
        ({"buffer_size": 0}, "buffer_size must be an integer >= 1"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"eta": -1.0}, "eta must be a finite number >= 0"),
        ({"predictor_extra_layers": -1}, "predictor_extra_layers must be an integer >= 0, got -1"),
    ],
)
def test_bad_hyperparameters_raise(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RND(VEC, ACT, **kwargs)


def test_bad_spaces_and_encoders_raise() -> None:
    with pytest.raises(TypeError, match=r"encoder must be a torch\.nn\.Module"):
        RND(VEC, ACT, encoder="resnet")
    with pytest.raises(TypeError, match="unsupported observation space"):
        RND(spaces.Discrete(5), ACT)
    with pytest.raises(ValueError, match="pass channels_last"):
        RND(spaces.Box(0, 255, (3, 8, 3), np.uint8), ACT)
