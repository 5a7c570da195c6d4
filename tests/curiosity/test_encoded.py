"""EncodedBonus / LatentVIME: a flat-vector bonus on encoder features of image observations.

The encoder here is a tiny torch module (``curiosity`` does not depend on ``generative``); the oracle is the
inner bonus called directly on the encoder's features.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces
from torch import nn

from curiosity import BONUSES, RND, VIME, EncodedBonus, LatentVIME, SimHash, make_bonus
from curiosity.digests import unique_rows
from curiosity.schedules import linear
from curiosity.serialization import atomic_save, safe_load

torch.set_num_threads(1)

OBS = spaces.Box(0, 255, (12, 12, 3), np.uint8)
ACT_BOX = spaces.Box(-1.0, 1.0, (2,), np.float32)
ACT_DISCRETE = spaces.Discrete(3)
DIM = 4
SMALL_INNER = {
    "vime": {"n_updates": 3, "min_pool_size": 1, "batch_size": 4, "n_bonus_samples": 2},
    "rnd": {"feature_dim": 8, "hidden_sizes": (16,), "batch_size": 4, "gradient_steps": 2, "buffer_size": 32},
    "icm": {"feature_dim": 8, "encoder_hidden_sizes": (16,), "hidden_dim": 16, "batch_size": 4,
            "gradient_steps": 2, "buffer_size": 32},
    "disagreement": {"n_models": 2, "hidden_sizes": (16,), "feature_dim": 8, "batch_size": 4,
                     "gradient_steps": 2, "buffer_size": 32},
    "simhash": {"k": 8},
}  # fmt: skip


class TinyEncoder(nn.Module):
    """Frames ``(B, 12, 12, 3)`` -> ``(B, 4)``; ``train_step`` pulls the features towards zero."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.net = nn.Linear(12 * 12 * 3, DIM)
        self.optimizer = torch.optim.SGD(self.parameters(), lr=2e-3)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.net(frames.float().flatten(1) / 255.0)

    def train_step(self, frames: torch.Tensor) -> dict[str, float]:
        loss = self(frames).pow(2).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item()}


def batch(n: int = 6, action_space: spaces.Space = ACT_BOX, seed: int = 0):
    rng = np.random.default_rng(seed)
    obs = rng.integers(0, 256, (n, *OBS.shape), dtype=np.uint8)
    next_obs = rng.integers(0, 256, (n, *OBS.shape), dtype=np.uint8)
    if isinstance(action_space, spaces.Discrete):
        actions = rng.integers(0, action_space.n, n)
    else:
        actions = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    return obs, actions, next_obs


def features(encoder: nn.Module, frames: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return encoder(torch.as_tensor(frames)).numpy()


@pytest.mark.parametrize("name", list(SMALL_INNER))
def test_compute_is_the_inner_bonus_on_features(name):
    """Before and after training, the bonus on frames is a twin inner bonus on the encoder's features."""
    encoder = TinyEncoder()
    latent = spaces.Box(-np.inf, np.inf, (DIM,), np.float32)
    inner, reference = (make_bonus(name, latent, ACT_BOX, seed=0, **SMALL_INNER[name]) for _ in range(2))
    bonus = EncodedBonus(OBS, ACT_BOX, inner, encoder=encoder, seed=0)
    obs, actions, next_obs = batch()
    obs2, actions2, next_obs2 = batch(seed=1)
    for _ in range(2):  # untrained, then trained on the same transitions
        expected = reference.compute(features(encoder, obs2), actions2, features(encoder, next_obs2))
        out = bonus.compute(obs2, actions2, next_obs2)
        assert out.shape == (6,) and out.dtype == np.float32
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-7)
        bonus.add(obs, actions, next_obs)
        reference.add(features(encoder, obs), actions, features(encoder, next_obs))
        bonus.train()
        reference.train()
    expected = reference(features(encoder, obs2), actions2, features(encoder, next_obs2))  # normalised
    np.testing.assert_allclose(bonus(obs2, actions2, next_obs2), expected, rtol=1e-5)
    assert np.abs(expected).sum() > 0


@pytest.mark.parametrize("name", list(SMALL_INNER))
@pytest.mark.parametrize("action_space", [ACT_BOX, ACT_DISCRETE], ids=["box", "discrete"])
def test_every_bonus_works_inside(name, action_space):
    bonus = EncodedBonus(
        OBS, action_space, name, encoder=TinyEncoder(), inner_kwargs=SMALL_INNER[name], seed=0
    )
    assert bonus.accepts_images and bonus.feature_dim == DIM and bonus.eta == bonus.inner.eta
    obs, actions, next_obs = batch(8, action_space)
    bonus.add(obs, actions, next_obs)
    bonus.train()
    out = bonus(obs, actions, next_obs)
    assert out.shape == (8,) and np.all(np.isfinite(out)) and np.all(out >= 0)


def test_compute_has_no_side_effects_on_the_inner_pool():
    bonus = EncodedBonus(OBS, ACT_BOX, "rnd", encoder=TinyEncoder(), inner_kwargs=SMALL_INNER["rnd"], seed=0)
    obs, actions, next_obs = batch()
    bonus.compute(obs, actions, next_obs)
    assert len(bonus.inner.pool) == 0
    first = bonus.compute(obs, actions, next_obs)
    np.testing.assert_array_equal(first, bonus.compute(obs, actions, next_obs))


def test_latent_vime_is_registered_and_needs_an_encoder():
    assert BONUSES["vime-latent"] is LatentVIME
    bonus = make_bonus("vime-latent", OBS, ACT_DISCRETE, encoder=TinyEncoder(), eta=1e-4, seed=1,
                       hidden_sizes=(8,), n_updates=2, min_pool_size=1)  # fmt: skip
    assert isinstance(bonus.inner, VIME) and bonus.eta == 1e-4
    assert bonus.inner.bnn.layers[0].mu_w.shape == (DIM + 3, 8)  # latent + one-hot action -> 8 hidden
    assert (
        make_bonus("vime-latent", OBS, ACT_BOX, encoder=TinyEncoder()).eta
        == VIME(spaces.Box(-1, 1, (DIM,)), ACT_BOX).eta
    )
    with pytest.raises(TypeError, match="vime-latent needs encoder="):
        make_bonus("vime-latent", OBS, ACT_BOX)


def test_save_load_through_a_file_gives_identical_bonuses(tmp_path):
    def build(seed):
        return EncodedBonus(
            OBS,
            ACT_BOX,
            "vime",
            encoder=TinyEncoder(seed),
            encoder_updates="online",
            encoder_steps=2,
            encoder_batch_size=4,
            inner_kwargs=SMALL_INNER["vime"],
            seed=seed,
        )

    a, b = build(0), build(1)
    obs, actions, next_obs = batch()
    a.add(obs, actions, next_obs)
    a.train()
    atomic_save(a.state_dict(), tmp_path / "bonus.pt")
    b.load_state_dict(safe_load(tmp_path / "bonus.pt"))
    np.testing.assert_allclose(features(a.encoder, obs), features(b.encoder, obs))
    np.testing.assert_allclose(a.compute(obs, actions, next_obs), b.compute(obs, actions, next_obs))
    a.add(obs, actions, next_obs)
    b.add(obs, actions, next_obs)
    assert a.train() == b.train()


def test_online_encoder_trains_then_freezes_frozen_never_trains():
    obs, actions, next_obs = batch()
    online = EncodedBonus(
        OBS,
        ACT_BOX,
        "rnd",
        encoder=TinyEncoder(),
        inner_kwargs=SMALL_INNER["rnd"],
        encoder_updates="online",
        encoder_steps=3,
        encoder_batch_size=4,
        encoder_train_calls=1,
    )
    online.add(obs, actions, next_obs)
    before = features(online.encoder, obs)
    metrics = online.train()
    assert "encoder/loss" in metrics and "loss" in metrics
    after = features(online.encoder, obs)
    assert np.abs(after).mean() < np.abs(before).mean()  # pulled towards zero
    assert "encoder/loss" not in online.train()  # frozen after encoder_train_calls=1
    np.testing.assert_array_equal(features(online.encoder, obs), after)

    frozen = EncodedBonus(OBS, ACT_BOX, "rnd", encoder=TinyEncoder(), inner_kwargs=SMALL_INNER["rnd"])
    frozen.add(obs, actions, next_obs)
    before = features(frozen.encoder, obs)
    assert "encoder/loss" not in frozen.train() and frozen.pool is None
    np.testing.assert_array_equal(features(frozen.encoder, obs), before)


def test_encoding_in_chunks_matches_one_pass():
    bonus = EncodedBonus(OBS, ACT_BOX, "rnd", encoder=TinyEncoder(), encode_batch_size=4,
                         inner_kwargs=SMALL_INNER["rnd"])  # fmt: skip
    obs = batch(11)[0]
    np.testing.assert_allclose(bonus.encode(obs), features(bonus.encoder, obs), rtol=1e-6)


def test_eta_none_follows_the_inner_bonus_schedule():
    """``eta=None`` takes the inner bonus's eta: a schedule given to the inner bonus keeps moving."""
    bonus = EncodedBonus(
        OBS, ACT_BOX, "rnd", encoder=TinyEncoder(), inner_kwargs={**SMALL_INNER["rnd"], "eta": linear(0.2)}
    )
    assert bonus.eta == pytest.approx(0.2)
    bonus.set_progress(0.25)
    assert bonus.eta == pytest.approx(0.05)


def test_bad_input_raises():
    encoder = TinyEncoder()
    with pytest.raises(TypeError, match=r"encoder must be a torch\.nn\.Module"):
        EncodedBonus(OBS, ACT_BOX, "rnd", encoder=lambda x: x)
    with pytest.raises(TypeError, match="needs an encoder with train_step"):
        EncodedBonus(OBS, ACT_BOX, "rnd", encoder=nn.Flatten(), encoder_updates="online")
    with pytest.raises(ValueError, match="encoder_updates must be 'frozen' or 'online', got 'sometimes'"):
        EncodedBonus(OBS, ACT_BOX, "rnd", encoder=encoder, encoder_updates="sometimes")
    with pytest.raises(ValueError, match=r"models observations of shape \(5,\).*\(4,\) features"):
        EncodedBonus(OBS, ACT_BOX, RND(spaces.Box(-1, 1, (5,)), ACT_BOX), encoder=encoder)
    with pytest.raises(ValueError, match="inner_kwargs only apply when inner is given by name"):
        EncodedBonus(OBS, ACT_BOX, lambda o, a: RND(o, a), encoder=encoder, inner_kwargs={"seed": 0})
    with pytest.raises(TypeError, match="not an IntrinsicBonus"):
        EncodedBonus(OBS, ACT_BOX, lambda o, a: None, encoder=encoder)
    with pytest.raises(TypeError, match="unsupported action space"):
        EncodedBonus(OBS, spaces.MultiBinary(2), "rnd", encoder=encoder)
    for name in ("e3b", "ride", "ngu"):  # they would treat every batch as one episode of one env
        with pytest.raises(TypeError, match=r"is episodic: it needs each batch's episode ends \(dones\)"):
            EncodedBonus(OBS, ACT_BOX, name, encoder=encoder)
    bonus = EncodedBonus(OBS, ACT_BOX, "rnd", encoder=encoder, inner_kwargs=SMALL_INNER["rnd"])
    obs, actions, next_obs = batch()
    with pytest.raises(ValueError, match=r"obs must have shape \(batch, 12, 12, 3\), got \(6, 12, 12\)"):
        bonus.compute(obs[..., 0], actions, next_obs)
    with pytest.raises(ValueError, match="batch sizes differ"):
        bonus.compute(obs, actions[:3], next_obs)
    with pytest.raises(ValueError, match="actions must have shape"):
        bonus.add(obs, actions[:, :1], next_obs)
    with pytest.raises(ValueError, match="lacks"):
        bonus.load_state_dict({"inner": {}})


class CountingEncoder(TinyEncoder):
    """Counts the frames it encodes."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        self.seen += len(frames)
        return super().forward(frames)


def test_a_rollout_encodes_each_distinct_frame_once():
    encoder = CountingEncoder()
    latent = spaces.Box(-np.inf, np.inf, (DIM,), np.float32)
    bonus = EncodedBonus(OBS, ACT_BOX, SimHash(latent, ACT_BOX, k=8, seed=0), encoder=encoder)
    encoder.seen = 0
    frames = batch(9)[0]
    obs, next_obs, actions = frames[:-1], frames[1:], batch(8)[1]  # one trajectory of 8 steps
    out = bonus.compute(obs, actions, next_obs)
    assert encoder.seen == 9
    reference = SimHash(latent, ACT_BOX, k=8, seed=0)
    np.testing.assert_allclose(
        out, reference.compute(features(encoder, obs), actions, features(encoder, next_obs))
    )


def test_add_after_compute_reuses_the_features_until_the_encoder_changes():
    encoder = CountingEncoder()
    latent = spaces.Box(-np.inf, np.inf, (DIM,), np.float32)
    bonus = EncodedBonus(OBS, ACT_BOX, SimHash(latent, ACT_BOX, k=8, seed=0), encoder=encoder)
    reference = SimHash(latent, ACT_BOX, k=8, seed=0)
    frames = batch(9)[0]
    obs, next_obs, actions = frames[:-1], frames[1:], batch(8)[1]
    encoder.seen = 0
    bonus.compute(obs, actions, next_obs)
    bonus.add(obs, actions, next_obs)  # VIME's rollout mode: the same rollout again
    assert encoder.seen == 9
    reference.add(features(encoder, obs), actions, features(encoder, next_obs))
    z_next = features(encoder, next_obs)
    np.testing.assert_array_equal(bonus.inner.counts(z_next), reference.counts(z_next))
    # new weights (as an optimiser step writes them): every frame is encoded again, with the new weights
    with torch.no_grad():
        encoder.net.weight.mul_(-1.0)
    encoder.seen = 0
    out = bonus.compute(obs, actions, next_obs)
    assert encoder.seen == 9
    fresh = SimHash(latent, ACT_BOX, k=8, seed=0)
    expected = fresh.compute(features(encoder, obs), actions, features(encoder, next_obs))
    np.testing.assert_allclose(out, expected)


def test_unique_rows_agrees_with_numpy():
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 3, (200, 2)).astype(np.uint8)  # 9 possible rows, many repeats
    keys, first, inverse = unique_rows(rows)
    np.testing.assert_array_equal(rows[first][inverse], rows)
    assert len(keys) == len(first) == len(np.unique(rows, axis=0))
    assert list(first) == sorted(np.unique(rows, axis=0, return_index=True)[1])  # first occurrences, in order
    with pytest.raises(ValueError, match="leading batch axis"):
        unique_rows(np.float32(1.0))


def test_the_device_reaches_the_inner_bonus_built_by_name(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    bonus = LatentVIME(OBS, ACT_BOX, encoder=TinyEncoder(), device="cpu", **SMALL_INNER["vime"])
    assert bonus.device == bonus.inner.device == torch.device("cpu")
    with pytest.raises(ValueError, match="device 'cuda' asks for CUDA"):
        LatentVIME(OBS, ACT_BOX, encoder=TinyEncoder(), device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("encoder_updates", ["frozen", "online"])
def test_on_cuda_the_encoder_and_inner_bonus_move_and_bonuses_match_the_cpu(encoder_updates):
    out = []
    for device in ("cpu", "cuda"):
        bonus = LatentVIME(
            OBS, ACT_BOX, encoder=TinyEncoder(), encoder_updates=encoder_updates, encoder_steps=2,
            encoder_batch_size=4, seed=0, device=device, **SMALL_INNER["vime"],
        )  # fmt: skip
        assert next(bonus.encoder.parameters()).device.type == torch.device(device).type
        assert next(bonus.inner.bnn.parameters()).device.type == torch.device(device).type
        bonus.add(*batch(seed=1))
        bonus.train()
        out.append(bonus.compute(*batch(seed=2)))
    np.testing.assert_allclose(out[1], out[0], rtol=1e-4, atol=1e-6)
