"""Ensemble disagreement: batched ensemble against separate layers, the variance bonus, bootstrapping."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces
from torch import nn

from curiosity.disagreement import Disagreement, EnsembleLinear, ensemble_mlp

torch.set_num_threads(1)

VEC = spaces.Box(-1.0, 1.0, (4,), np.float32)
ACT = spaces.Box(-1.0, 1.0, (2,), np.float32)
SMALL = {"n_models": 4, "hidden_sizes": (32,), "batch_size": 16, "gradient_steps": 4, "seed": 0}


def transitions(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(n, 4)).astype(np.float32)
    actions = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    return obs, actions, obs + 0.1 * np.tile(actions, 2)


def test_ensemble_linear_matches_separate_linear_layers() -> None:
    layer = EnsembleLinear(3, 5, 2)
    x = torch.randn(3, 7, 5)
    loop = torch.stack([x[k] @ layer.weight[k] + layer.bias[k] for k in range(3)])
    torch.testing.assert_close(layer(x), loop)


def test_bonus_is_the_population_variance_across_members_averaged_over_dimensions() -> None:
    bonus = Disagreement(VEC, ACT, **SMALL)
    obs, actions, next_obs = transitions(6)
    x = torch.cat([torch.as_tensor(obs), torch.as_tensor(actions)], 1)
    predictions = []
    for k in range(4):  # slow reference: each member on its own
        h = x
        for layer in bonus.models:
            h = h @ layer.weight[k] + layer.bias[k] if isinstance(layer, EnsembleLinear) else layer(h)
        predictions.append(h.detach().numpy())
    expected = np.var(np.stack(predictions), axis=0).mean(axis=1)
    np.testing.assert_allclose(bonus.compute(obs, actions, next_obs), expected, rtol=1e-5)
    np.testing.assert_array_equal(
        bonus.compute(obs, actions, next_obs * 3), bonus.compute(obs, actions, next_obs)
    )


@pytest.mark.parametrize("independent", [True, False])
def test_identical_members_stay_identical_only_without_independent_minibatches(independent: bool) -> None:
    bonus = Disagreement(VEC, ACT, independent_batches=independent, learning_rate=1e-3, **SMALL)
    with torch.no_grad():
        for p in bonus.models.parameters():
            p.copy_(p[:1].clone().expand_as(p))
    bonus.add(*transitions(200))
    probe = transitions(8, seed=1)
    assert bonus.compute(*probe).max() == 0.0
    bonus.train()
    assert bool(bonus.compute(*probe).max() > 0) == independent


def test_images_use_a_frozen_random_cnn_and_lose_the_bonus_of_a_repeated_transition() -> None:
    space = spaces.Box(0, 255, (12, 12, 3), np.uint8)
    bonus = Disagreement(
        space, spaces.Discrete(3), n_models=3, hidden_sizes=(32,), feature_dim=16, learning_rate=1e-3,
        batch_size=16, gradient_steps=4, seed=0,
    )  # fmt: skip
    encoder = {k: v.clone() for k, v in bonus.encoder.state_dict().items()}
    space.seed(0)
    frames = np.stack([space.sample() for _ in range(10)])
    seen = (frames[:1].repeat(16, 0), np.zeros(16, int), frames[1:2].repeat(16, 0))
    novel = (frames[2:6], np.array([0, 1, 2, 1]), frames[6:10])
    start = bonus.compute(*(x[:1] for x in seen))[0]
    for _ in range(40):
        bonus.add(*seen)
        bonus.train()
    end = bonus.compute(*(x[:1] for x in seen))[0]
    assert end < 0.5 * start
    assert np.median(bonus.compute(*novel)) > 2 * end
    assert all(torch.equal(v, bonus.encoder.state_dict()[k]) for k, v in encoder.items())


def test_ensemble_mlp_is_k_separate_mlps() -> None:
    """Member k's output is a plain nn.Linear/ReLU MLP holding member k's weights, on member k's input."""
    torch.manual_seed(0)
    net = ensemble_mlp(5, 3, (8, 8), 2)
    x = torch.randn(5, 11, 3)
    out = net(x)
    assert out.shape == (5, 11, 2)
    linears = [m for m in net if isinstance(m, EnsembleLinear)]
    for k in range(5):
        layers = []
        for i, layer in enumerate(linears):
            single = nn.Linear(*layer.weight.shape[1:])
            with torch.no_grad():
                single.weight.copy_(layer.weight[k].T)
                single.bias.copy_(layer.bias[k, 0])
            layers += [single] + ([nn.ReLU()] if i < len(linears) - 1 else [])
        torch.testing.assert_close(out[k], nn.Sequential(*layers)(x[k]))
    assert not torch.allclose(out[0], out[1])  # members start apart


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_models": 1}, "n_models must be an integer >= 2, got 1"),
        ({"hidden_sizes": [16, -1]}, "hidden_sizes must be a sequence of positive integers"),
        ({"feature_dim": 0}, "feature_dim must be an integer >= 1"),
        ({"learning_rate": float("nan")}, "learning_rate must be a number"),
        ({"gradient_steps": 0}, "gradient_steps must be an integer >= 1"),
    ],
)
def test_bad_hyperparameters_raise(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Disagreement(VEC, ACT, **kwargs)
