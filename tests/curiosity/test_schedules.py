"""eta as a schedule of training progress, for every bonus."""

import numpy as np
import pytest
from gymnasium import spaces

from curiosity import BONUSES, make_bonus
from curiosity.schedules import linear, make_schedule

OBS, ACT = spaces.Box(-1, 1, (3,), np.float32), spaces.Box(-1, 1, (2,), np.float32)
VECTOR_BONUSES = [name for name in BONUSES if name != "vime-latent"]


@pytest.mark.parametrize("name", VECTOR_BONUSES)
def test_every_bonus_follows_a_schedule(name):
    bonus = make_bonus(name, OBS, ACT, eta=linear(0.4), seed=0)
    assert bonus.eta == pytest.approx(0.4)  # the schedule's value at the start
    bonus.set_progress(0.25)
    assert bonus.eta == pytest.approx(0.1)
    rng = np.random.default_rng(0)
    obs, act, nxt = rng.normal(size=(5, 3)), rng.uniform(-1, 1, (5, 2)), rng.normal(size=(5, 3))
    bonus.normalize(bonus.compute(obs, act, nxt), update=True)  # statistics to scale by (VIME: a median)
    raw = bonus.normalize(bonus.compute(obs, act, nxt), update=False)
    assert np.abs(raw).sum() > 0  # a scale of 0.1 is visible
    np.testing.assert_allclose(bonus(obs, act, nxt, update_stats=False), 0.1 * raw, rtol=1e-5)


def test_a_constant_eta_ignores_progress_and_bad_values_are_refused():
    bonus = make_bonus("rnd", OBS, ACT, eta=0.3)
    bonus.set_progress(0.0)
    assert bonus.eta == 0.3
    with pytest.raises(ValueError, match="progress_remaining"):
        bonus.set_progress(1.5)
    with pytest.raises(ValueError, match="eta must be a finite number"):
        make_bonus("rnd", OBS, ACT, eta=lambda p: -p)  # checked at its start value already
    scheduled = make_bonus("rnd", OBS, ACT, eta=lambda p: 1.0 if p > 0.5 else float("nan"))
    with pytest.raises(ValueError, match="eta must be a finite number"):
        scheduled.set_progress(0.5)
    with pytest.raises(ValueError, match="unknown eta schedule 'cosine'"):
        make_schedule("cosine", 1.0)


def test_a_saved_state_keeps_the_schedule():
    bonus = make_bonus("vime", OBS, ACT, eta=linear(1.0), seed=0)
    bonus.set_progress(0.5)
    fresh = make_bonus("vime", OBS, ACT, eta=linear(1.0), seed=0)
    fresh.load_state_dict(bonus.state_dict())
    assert fresh.eta == 0.5
    fresh.set_progress(0.2)
    assert fresh.eta == pytest.approx(0.2)
