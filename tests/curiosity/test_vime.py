"""The VIME bonus: learning, normalisation, persistence and validation."""

import io

import numpy as np
import pytest
import torch
from gymnasium import spaces

from curiosity.vime import VIME

OBS = spaces.Box(-1.0, 1.0, (4,), dtype=np.float32)
ACT = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
B = np.array([[1.0, 0.0, 0.5, 0.0], [0.0, 1.0, 0.0, 0.5]], dtype=np.float32)


def linear_system(s, a):
    return (0.9 * s + a @ B).astype(np.float32)


def batch(rng, n, low=-1.0, high=1.0):
    s = rng.uniform(low, high, (n, 4)).astype(np.float32)
    a = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    return s, a, linear_system(s, a)


def small_vime(**kwargs):
    defaults = dict(seed=0, min_pool_size=10, n_updates=100, batch_size=32, learning_rate=3e-3)
    return VIME(OBS, ACT, **{**defaults, **kwargs})


def test_a_transition_seen_many_times_gets_less_bonus_than_a_novel_one():
    rng = np.random.default_rng(0)
    vime = small_vime()
    seen = batch(rng, 256)
    novel = batch(rng, 64, low=2.0, high=3.0)
    vime.add(*seen)
    for _ in range(4):
        vime.train()
    seen_bonus = vime.compute(*(x[:64] for x in seen))
    novel_bonus = vime.compute(*novel)
    assert seen_bonus.shape == (64,) and (seen_bonus >= 0).all()
    assert np.median(novel_bonus) > 3 * np.median(seen_bonus)


def test_training_lowers_the_bonus_of_what_was_trained_on():
    rng = np.random.default_rng(1)
    vime = small_vime()
    seen = batch(rng, 256)
    vime.add(*seen)
    before = vime.compute(*seen).mean()
    vime.train()
    vime.train()
    assert vime.compute(*seen).mean() < before


def test_normalisation_divides_by_the_mean_of_the_last_medians():
    vime = small_vime(median_window=3)
    outs = [vime.normalize(np.array([m, m, 10 * m]), update=True) for m in (1.0, 2.0, 3.0, 6.0)]
    # medians 1, 2, 3, 6; the window keeps three, the current batch included
    assert outs[0][0] == pytest.approx(1.0)
    assert outs[1][0] == pytest.approx(2.0 / 1.5)
    assert outs[2][0] == pytest.approx(3.0 / 2.0)
    assert outs[3][0] == pytest.approx(6.0 / np.mean([2.0, 3.0, 6.0]))
    queue = list(vime.medians)
    vime.normalize(np.array([100.0]), update=False)
    assert list(vime.medians) == queue


def test_call_applies_eta_and_normalisation_can_be_turned_off():
    rng = np.random.default_rng(2)
    raw_vime = small_vime(normalize=False, eta=1.0)
    scaled = small_vime(normalize=False, eta=0.25)
    data = batch(rng, 8)
    np.testing.assert_allclose(scaled(*data), 0.25 * raw_vime(*data), rtol=1e-6)


def test_train_waits_for_min_pool_size():
    rng = np.random.default_rng(3)
    vime = small_vime(min_pool_size=500)
    vime.add(*batch(rng, 100))
    before = {k: v.clone() for k, v in vime.bnn.state_dict().items()}
    assert vime.train() == {}
    assert all(torch.equal(before[k], v) for k, v in vime.bnn.state_dict().items())


def test_state_dict_round_trip_resumes_exactly():
    rng = np.random.default_rng(4)
    data = batch(rng, 64)
    original = small_vime(seed=5)
    original.add(*data)
    original.train()
    original(*data)  # fills the median queue
    buffer = io.BytesIO()
    torch.save(original.state_dict(), buffer)
    buffer.seek(0)
    restored = small_vime(seed=99)
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    np.testing.assert_array_equal(restored(*data), original(*data))
    a, b = original.train(), restored.train()
    assert a == b
    np.testing.assert_array_equal(restored(*data), original(*data))


def test_same_seed_same_bonuses():
    rng = np.random.default_rng(6)
    data = batch(rng, 32)
    first, second = small_vime(seed=7), small_vime(seed=7)
    for v in (first, second):
        v.add(*data)
        v.train()
    np.testing.assert_array_equal(first(*data), second(*data))


def test_exact_estimator_agrees_with_second_order_at_small_lambda():
    rng = np.random.default_rng(8)
    data = batch(rng, 5)
    approx = small_vime(lam=1e-3, n_bonus_samples=2, seed=1).compute(*data)
    exact = small_vime(lam=1e-3, n_bonus_samples=2, seed=1, estimator="exact").compute(*data)
    np.testing.assert_allclose(exact, approx, rtol=1e-3)


def test_discrete_actions_are_one_hot():
    vime = VIME(OBS, spaces.Discrete(3), seed=0, min_pool_size=1, n_updates=2)
    s = np.zeros((4, 4), dtype=np.float32)
    vime.add(s, np.array([0, 1, 2, 1]), s)
    assert vime.train()
    assert vime.compute(s, np.array([0, 1, 2, 1]), s).shape == (4,)
    with pytest.raises(ValueError, match=r"Discrete actions must lie in \[0, 3\)"):
        vime.compute(s, np.array([0, 1, 3, 1]), s)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"eta": -1.0}, ValueError, "eta"),
        ({"lam": 0.0}, ValueError, "lam"),
        ({"lam": -0.01}, ValueError, "lam"),
        ({"hidden_sizes": ()}, ValueError, "hidden layer"),
        ({"learning_rate": float("nan")}, ValueError, "learning_rate"),
        ({"n_updates": 0}, ValueError, "n_updates"),
        ({"batch_size": 2.5}, ValueError, "batch_size"),
        ({"estimator": "third_order"}, ValueError, "estimator"),
        ({"min_pool_size": -1}, ValueError, "min_pool_size"),
        # named, not "cannot convert float NaN to integer" / OverflowError / a float crashing train()
        ({"n_updates": float("nan")}, ValueError, "n_updates must be an integer >= 1, got nan"),
        ({"median_window": float("inf")}, ValueError, "median_window must be an integer >= 1, got inf"),
        ({"batch_size": 4.0}, ValueError, r"batch_size must be an integer >= 1, got 4\.0"),
        ({"min_pool_size": float("nan")}, ValueError, "min_pool_size must be an integer >= 0, got nan"),
    ],
)
def test_bad_hyperparameters_raise(kwargs, error, match):
    with pytest.raises(error, match=match):
        VIME(OBS, ACT, **kwargs)


def test_numpy_scalars_are_accepted_as_hyperparameters():
    """Values read from numpy arrays or configs: np.float32 rates and np.int64 counts are numbers too."""
    vime = small_vime(learning_rate=np.float32(3e-3), kl_batches=np.float64(5.0), median_window=np.int64(3),
                      n_updates=np.int64(2), min_pool_size=np.int64(1))  # fmt: skip
    vime.add(*batch(np.random.default_rng(10), 8))
    assert vime.train() and vime.medians.maxlen == 3


def test_unsupported_spaces_raise():
    with pytest.raises(TypeError, match="Box observations"):
        VIME(spaces.Dict({"x": OBS}), ACT)
    with pytest.raises(TypeError, match="images"):
        VIME(spaces.Box(0, 255, (8, 8, 3), dtype=np.uint8), ACT)
    with pytest.raises(TypeError, match="Box and Discrete actions"):
        VIME(OBS, spaces.MultiBinary(3))


def test_bad_batches_raise_and_name_the_problem():
    vime = small_vime()
    s, a, s2 = batch(np.random.default_rng(9), 4)
    with pytest.raises(ValueError, match=r"obs must have shape \(batch, 4\)"):
        vime.compute(s[:, :3], a, s2)
    with pytest.raises(ValueError, match="batch sizes differ"):
        vime.compute(s, a[:3], s2)
    with pytest.raises(ValueError, match=r"actions must have shape \(4, 2\)"):
        vime.add(s, a[:, :1], s2)
    s_nan = s.copy()
    s_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        vime.add(s_nan, a, s2)
    assert len(vime.pool) == 0  # nothing half-added


def test_pool_is_a_bounded_fifo_of_whole_transitions_with_statistics_over_all():
    vime = VIME(spaces.Box(-10.0, 10.0, (1,)), spaces.Box(-10.0, 10.0, (1,)), pool_size=5)
    for start in (0, 3, 6):
        values = np.arange(start, start + 3, dtype=np.float32)[:, None]
        vime.add(values, values, values + 100)
    assert len(vime.pool) == 5
    obs, next_obs = vime.pool.data["obs"][:, 0], vime.pool.data["next_obs"][:, 0]
    assert sorted(obs.tolist()) == [4.0, 5.0, 6.0, 7.0, 8.0]  # the oldest four were dropped
    # each row keeps its own next state: pairs are never formed across additions
    assert torch.equal(next_obs, obs + 100)
    # the standardisation statistics still cover all 9 transitions added (both s and s')
    seen = np.concatenate([np.arange(9.0), np.arange(9.0) + 100])
    assert vime.obs_stats.mean.item() == pytest.approx(seen.mean(), rel=1e-4)


def test_raw_information_gain_is_clipped_at_clip_max():
    """The same model and noise with a cap at the median of the uncapped values: min(value, cap) each."""
    s, a, s2 = batch(np.random.default_rng(5), 16, low=-3.0, high=3.0)
    uncapped = small_vime().compute(s, a, s2)
    cap = float(np.median(uncapped))
    capped = small_vime(clip_max=cap).compute(s, a, s2)
    assert (uncapped > cap).sum() >= 7 and cap > 0
    np.testing.assert_allclose(capped, np.minimum(uncapped, cap), rtol=1e-6)
