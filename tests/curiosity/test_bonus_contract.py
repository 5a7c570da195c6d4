"""Contract tests run over every bonus (style guide section 10).

Each factory builds a small, fast bonus from ``(observation_space, action_space, seed)``; every test runs
over every factory and every pair of spaces the bonus accepts (images only where ``accepts_images``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from gymnasium import spaces

from curiosity.base import IntrinsicBonus, encode_actions
from curiosity.disagreement import Disagreement
from curiosity.e3b import E3B
from curiosity.icm import ICM
from curiosity.images import image_layout
from curiosity.networks import image_encoder
from curiosity.ngu import NGU
from curiosity.pool import RingPool
from curiosity.re3 import RE3
from curiosity.ride import RIDE
from curiosity.rnd import RND
from curiosity.simhash import SimHash
from curiosity.vime import VIME

torch.set_num_threads(1)

Factory = Callable[..., IntrinsicBonus]  # (observation_space, action_space, seed, **kwargs)

_TRAIN = {"batch_size": 16, "gradient_steps": 2, "buffer_size": 64}

FACTORIES: dict[str, Factory] = {
    "vime": lambda o, a, seed, **kw: VIME(
        o, a, hidden_sizes=(16,), learning_rate=3e-3, n_updates=200, batch_size=8, min_pool_size=1,
        n_bonus_samples=2, seed=seed, **kw,
    ),
    "rnd": lambda o, a, seed, **kw: RND(
        o, a, feature_dim=16, hidden_sizes=(32,), learning_rate=1e-3, seed=seed, **_TRAIN, **kw
    ),
    "icm": lambda o, a, seed, **kw: ICM(
        o, a, feature_dim=16, encoder_hidden_sizes=(32,), hidden_dim=32, seed=seed, **_TRAIN, **kw
    ),
    "disagreement": lambda o, a, seed, **kw: Disagreement(
        o, a, n_models=3, hidden_sizes=(32,), feature_dim=16, learning_rate=1e-3, seed=seed, **_TRAIN, **kw
    ),
    "simhash": lambda o, a, seed, **kw: SimHash(o, a, k=16, image_size=8, seed=seed, **kw),
    # episodic bonuses: without dones, each batch continues one episode of one environment
    "e3b": lambda o, a, seed, **kw: E3B(
        o, a, feature_dim=8, hidden_sizes=(32,), hidden_dim=32, learning_rate=1e-3, seed=seed, **_TRAIN,
        **kw,
    ),
    "re3": lambda o, a, seed, **kw: RE3(
        o, a, feature_dim=8, hidden_sizes=(32,), memory_size=64, seed=seed, **kw
    ),
    "ride": lambda o, a, seed, **kw: RIDE(
        o, a, feature_dim=16, encoder_hidden_sizes=(32,), hidden_dim=32, learning_rate=1e-3, seed=seed,
        **_TRAIN, **kw,
    ),
    "ngu": lambda o, a, seed, **kw: NGU(
        o, a, feature_dim=8, hidden_sizes=(32,), hidden_dim=32, rnd_feature_dim=16, learning_rate=1e-3,
        seed=seed, **_TRAIN, **kw,
    ),
}

SPACES: dict[str, tuple[spaces.Box, spaces.Space]] = {
    "vector-discrete": (spaces.Box(-1.0, 1.0, (4,), np.float32), spaces.Discrete(3)),
    "vector-box": (spaces.Box(-2.0, 2.0, (3,), np.float32), spaces.Box(-1.0, 1.0, (2,), np.float32)),
    "hwc-uint8-discrete": (spaces.Box(0, 255, (12, 12, 3), np.uint8), spaces.Discrete(4)),
    "chw-float-box": (spaces.Box(0.0, 1.0, (2, 10, 10), np.float32), spaces.Box(-1.0, 1.0, (2,), np.float32)),
}


def make(name: str, space_name: str, seed: int = 0, **kwargs: Any) -> IntrinsicBonus:
    obs_space, act_space = SPACES[space_name]
    factory = FACTORIES[name]
    if len(obs_space.shape) > 1:
        probe = factory(SPACES["vector-discrete"][0], SPACES["vector-discrete"][1], seed)
        if not probe.accepts_images:
            pytest.skip(f"{name} does not accept image observations")
    return factory(obs_space, act_space, seed, **kwargs)


def batch(space_name: str, n: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    obs_space, act_space = SPACES[space_name]
    obs_space.seed(seed)
    act_space.seed(seed + 1)
    obs = np.stack([obs_space.sample() for _ in range(n)])
    actions = np.stack([act_space.sample() for _ in range(n)])
    next_obs = np.stack([obs_space.sample() for _ in range(n)])
    return obs, actions, next_obs


def assert_same_state(a: Any, b: Any, path: str = "state") -> None:
    """Recursive exact equality of nested dicts / lists / tensors / numbers."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{path}: keys {a.keys()} != {b.keys()}"
        for k in a:
            assert_same_state(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{path}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_state(x, y, f"{path}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b), f"{path} differs"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def states_equal(a: Any, b: Any) -> bool:
    try:
        assert_same_state(a, b)
    except AssertionError:
        return False
    return True


each_bonus = pytest.mark.parametrize("name", list(FACTORIES))
each_space = pytest.mark.parametrize("space_name", list(SPACES))


@each_bonus
@each_space
def test_compute_returns_one_finite_non_negative_bonus_per_transition(name: str, space_name: str) -> None:
    bonus = make(name, space_name)
    out = bonus.compute(*batch(space_name))
    assert isinstance(out, np.ndarray) and out.shape == (8,) and np.issubdtype(out.dtype, np.floating)
    assert np.isfinite(out).all() and (out >= 0).all()
    assert bonus(*batch(space_name)).shape == (8,)


@each_bonus
@each_space
def test_call_is_eta_times_the_normalised_raw_bonus(name: str, space_name: str) -> None:
    bonus = make(name, space_name)
    bonus.add(*batch(space_name, seed=1))
    bonus.train()
    bonus(*batch(space_name, seed=2))  # gives any normaliser some statistics
    bonus.eta = 0.5
    raw = bonus.compute(*batch(space_name))
    np.testing.assert_allclose(
        bonus(*batch(space_name), update_stats=False), 0.5 * bonus.normalize(raw, update=False), rtol=1e-6
    )


@each_bonus
@each_space
def test_compute_and_evaluation_calls_change_nothing(name: str, space_name: str) -> None:
    bonus = make(name, space_name)
    bonus.add(*batch(space_name, seed=1))
    bonus.train()
    before = bonus.state_dict()
    first = bonus.compute(*batch(space_name))
    bonus(*batch(space_name), update_stats=False)
    bonus.normalize(first, update=False)
    np.testing.assert_array_equal(bonus.compute(*batch(space_name)), first)
    assert_same_state(bonus.state_dict(), before)


@each_bonus
@each_space
def test_add_and_train_change_the_state_and_report_float_metrics(name: str, space_name: str) -> None:
    bonus = make(name, space_name)
    assert isinstance(bonus.train(), dict)  # nothing stored yet: must not fail
    before = bonus.state_dict()
    bonus.add(*batch(space_name))
    metrics = bonus.train()
    assert metrics and all(isinstance(k, str) and np.isfinite(v) for k, v in metrics.items())
    assert not states_equal(bonus.state_dict(), before)


@each_bonus
@each_space
def test_training_moves_every_parameter_it_optimises(name: str, space_name: str) -> None:
    bonus = make(name, space_name)
    optimizer = getattr(bonus, "optimizer", None)
    if optimizer is None:
        pytest.skip(f"{name} has no optimiser")
    params = [p for group in optimizer.param_groups for p in group["params"]]
    before = [p.detach().clone() for p in params]
    bonus.add(*batch(space_name))
    bonus.train()
    unchanged = [i for i, (p, b) in enumerate(zip(params, before, strict=True)) if torch.equal(p, b)]
    assert not unchanged, f"parameters {unchanged} of {len(params)} received no update"


@each_bonus
@each_space
def test_state_dict_round_trips_exactly_through_a_file(name: str, space_name: str, tmp_path) -> None:
    bonus = make(name, space_name, seed=0)
    for i in range(3):
        bonus.add(*batch(space_name, seed=10 + i))
        bonus.train()
        bonus(*batch(space_name, seed=20 + i))  # moves any normaliser statistics
    path = tmp_path / f"{name}.pt"
    torch.save(bonus.state_dict(), path)
    restored = make(name, space_name, seed=123)  # different initialisation, overwritten by the load
    restored.load_state_dict(torch.load(path, weights_only=True))
    assert_same_state(restored.state_dict(), bonus.state_dict())
    probe = batch(space_name, seed=99)
    np.testing.assert_array_equal(restored.compute(*probe), bonus.compute(*probe))
    np.testing.assert_array_equal(restored(*probe), bonus(*probe))
    # training goes on identically (optimiser and sampling RNG restored too)
    for b in (bonus, restored):
        b.add(*batch(space_name, seed=50))
        b.train()
    np.testing.assert_array_equal(restored.compute(*probe), bonus.compute(*probe))


@each_bonus
@each_space
def test_bad_batches_raise_with_a_message(name: str, space_name: str) -> None:
    bonus = make(name, space_name)
    obs, actions, next_obs = batch(space_name)
    with pytest.raises(ValueError, match="obs must have shape"):
        bonus.compute(obs[:, None], actions, next_obs)
    with pytest.raises(ValueError, match="batch sizes differ"):
        bonus.compute(obs, actions[:-1], next_obs)
    with pytest.raises(ValueError, match="batch sizes differ"):
        bonus.add(obs, actions, next_obs[:-1])
    bad = next_obs.astype(np.float32)
    bad.flat[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        bonus.compute(obs, actions, bad)


@each_bonus
@each_space
def test_loading_a_foreign_state_raises(name: str, space_name: str) -> None:
    bonus = make(name, space_name)
    with pytest.raises(ValueError, match="lacks"):
        bonus.load_state_dict({"something": torch.zeros(1)})


@each_bonus
@each_space
def test_repeated_transition_loses_its_bonus_and_novel_ones_keep_theirs(name: str, space_name: str) -> None:
    if space_name != "vector-discrete":
        pytest.skip("checked on vectors here, on images in each bonus's own tests")
    bonus = make(name, space_name)
    obs, actions, next_obs = batch(space_name, n=16)
    seen = (obs[:1].repeat(16, 0), actions[:1].repeat(16, 0), next_obs[:1].repeat(16, 0))
    novel = (obs[1:] * 1.0, actions[1:], next_obs[1:])
    bonus.add(*batch(space_name, n=16, seed=7))  # some other data, so statistics are not degenerate
    start = bonus.compute(*(x[:1] for x in seen))[0]
    for _ in range(100):
        bonus.add(*seen)
        bonus.train()
    end = bonus.compute(*(x[:1] for x in seen))[0]
    assert end < 0.5 * start
    assert np.median(bonus.compute(*novel)) > 2 * end


# -- devices (every bonus takes device="auto"|"cpu"|"cuda"|"cuda:N"|torch.device) ------------------------

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def session(bonus: IntrinsicBonus, space_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Two rounds of add, train and a normalising call; then the raw and scaled bonuses of a probe."""
    for i in range(2):
        bonus.add(*batch(space_name, seed=10 + i))
        bonus.train()
        bonus(*batch(space_name, seed=20 + i))
    probe = batch(space_name, seed=99)
    return bonus.compute(*probe), bonus(*probe, update_stats=False)


def tensors_of(bonus: IntrinsicBonus) -> list[torch.Tensor]:
    """Every parameter and buffer of the bonus's modules and every tensor of its pools and statistics
    (but ``bonus_rms``, which normalises the numpy bonuses on the host)."""
    out: list[torch.Tensor] = []
    for key, value in vars(bonus).items():
        if key == "bonus_rms":
            continue
        if isinstance(value, torch.nn.Module):
            out += [*value.parameters(), *value.buffers()]
        elif isinstance(value, RingPool):
            out += list(value.data.values())
        elif isinstance(value, torch.Tensor):
            out.append(value)
        elif hasattr(value, "mean") and isinstance(getattr(value, "mean", None), torch.Tensor):
            out += [value.mean, value.var]
        elif isinstance(value, IntrinsicBonus):  # NGU's RND
            out += tensors_of(value)
    return out


@each_bonus
@each_space
def test_device_cpu_is_the_default_without_cuda_and_changes_nothing(name, space_name, monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # this machine, whatever it has
    default = make(name, space_name)
    assert default.device == torch.device("cpu")
    expected = session(default, space_name)
    for device in ("cpu", torch.device("cpu")):
        bonus = make(name, space_name, device=device)
        for got, want in zip(session(bonus, space_name), expected, strict=True):
            np.testing.assert_array_equal(got, want)
        assert_same_state(bonus.state_dict(), default.state_dict())


@each_bonus
def test_an_unknown_or_absent_device_is_refused_with_its_name(name, monkeypatch) -> None:
    with pytest.raises(ValueError, match=r"device must be 'auto' .*, got 'gpu'"):
        make(name, "vector-box", device="gpu")
    with pytest.raises(TypeError, match=r"device must be .* got a int: 0"):
        make(name, "vector-box", device=0)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="device 'cuda:0' asks for CUDA, which is not available here"):
        make(name, "vector-box", device="cuda:0")


@needs_cuda
@each_bonus
@each_space
def test_on_cuda_every_tensor_lives_there_and_outputs_match_the_cpu(name, space_name, monkeypatch) -> None:
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)  # float32 convolutions, as on the CPU
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    cpu, gpu = make(name, space_name, device="cpu"), make(name, space_name, device="cuda")
    assert_same_state(gpu.state_dict(), cpu.state_dict())  # same seeded initialisation, saved on the CPU
    assert all(t.device.type == "cuda" for t in tensors_of(gpu))
    raw_cpu, scaled_cpu = session(cpu, space_name)
    raw_gpu, scaled_gpu = session(gpu, space_name)
    assert isinstance(raw_gpu, np.ndarray) and raw_gpu.dtype == np.float32
    # after training the two differ by float rounding only
    np.testing.assert_allclose(raw_gpu, raw_cpu, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(scaled_gpu, scaled_cpu, rtol=1e-3, atol=1e-5)
    # the same state computes the same bonuses on either device, and a CUDA state loads on the CPU
    state = gpu.state_dict()
    assert all(t.device.type == "cpu" for t in tensors_in(state))
    on_cpu = make(name, space_name, seed=5, device="cpu")
    on_cpu.load_state_dict(state)
    probe = batch(space_name, seed=98)
    np.testing.assert_allclose(on_cpu.compute(*probe), gpu.compute(*probe), rtol=1e-5, atol=1e-6)
    back = make(name, space_name, seed=6, device="cuda")
    back.load_state_dict(cpu.state_dict())
    assert all(t.device.type == "cuda" for t in tensors_of(back))
    np.testing.assert_allclose(back.compute(*probe), cpu.compute(*probe), rtol=1e-5, atol=1e-6)


def tensors_in(state: Any) -> list[torch.Tensor]:
    if isinstance(state, torch.Tensor):
        return [state]
    if isinstance(state, dict):
        return [t for v in state.values() for t in tensors_in(v)]
    if isinstance(state, (list, tuple)):
        return [t for v in state for t in tensors_in(v)]
    return []


# -- shared building blocks (curiosity.networks) --------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "channels_last", "expected"),
    [
        ((64, 64, 3), None, (True, (3, 64, 64))),
        ((4, 84, 84), None, (False, (4, 84, 84))),
        ((84, 84, 12), None, (True, (12, 84, 84))),
        ((10, 12), None, (False, (1, 10, 12))),
        ((3, 5, 3), True, (True, (3, 3, 5))),
        ((3, 5, 3), False, (False, (3, 5, 3))),
    ],
)
def test_image_layout_finds_the_channel_axis(shape, channels_last, expected) -> None:
    assert image_layout(shape, channels_last) == expected


def test_image_layout_refuses_to_guess() -> None:
    with pytest.raises(ValueError, match="pass channels_last"):
        image_layout((3, 5, 3))
    with pytest.raises(ValueError, match=r"\(H, W\), \(H, W, C\) or \(C, H, W\)"):
        image_layout((2, 3, 4, 5))


def test_default_cnn_reads_both_layouts_alike_and_scales_uint8() -> None:
    hwc = spaces.Box(0, 255, (40, 40, 3), np.uint8)
    chw = spaces.Box(0, 255, (3, 40, 40), np.uint8)
    torch.manual_seed(0)
    net_hwc = image_encoder(hwc, 8)
    net_chw = image_encoder(chw, 8)
    net_chw.load_state_dict(net_hwc.state_dict())
    frames = torch.randint(0, 256, (2, 40, 40, 3), dtype=torch.uint8)
    out_hwc = net_hwc(frames.float())
    torch.testing.assert_close(net_chw(frames.permute(0, 3, 1, 2).float()), out_hwc)
    assert out_hwc.shape == (2, 8)
    assert net_hwc[0](frames.float()).max() <= 1.0  # preprocessing scales uint8 frames to [0, 1]
    assert isinstance(net_hwc[1][0], torch.nn.Conv2d) and net_hwc[1][0].kernel_size == (8, 8)  # Nature DQN
    with pytest.raises(ValueError, match="at least 36x36"):
        image_encoder(spaces.Box(0, 255, (20, 20, 3), np.uint8), 8, arch="nature")
    with pytest.raises(ValueError, match="arch must be"):
        image_encoder(hwc, 8, arch="resnet")


def test_ring_pool_is_a_bounded_fifo_keeping_uint8_frames() -> None:
    pool = RingPool(4, {"x": ((2, 2), torch.uint8)})
    for i in range(6):
        pool.add(x=torch.full((1, 2, 2), float(i)))
    assert len(pool) == 4 and pool.data["x"].dtype == torch.uint8
    assert sorted(pool.data["x"][:, 0, 0].tolist()) == [2, 3, 4, 5]
    pool.add(x=torch.arange(10.0).reshape(10, 1, 1).expand(10, 2, 2))  # more rows than capacity
    assert sorted(pool.data["x"][:, 0, 0].tolist()) == [6, 7, 8, 9]
    with pytest.raises(ValueError, match="buffer_size must be an integer >= 1, got 0"):
        RingPool(0, {"x": ((1,), torch.float32)})


@pytest.mark.parametrize("name", ["rnd", "icm", "disagreement", "e3b", "ride", "ngu"])
def test_normalize_divides_by_the_running_std_of_every_bonus_seen(name: str) -> None:
    obs_space, act_space = SPACES["vector-box"]
    bonus = FACTORIES[name](obs_space, act_space, 0)
    bonus.init_normalization(True)
    rng = np.random.default_rng(0)
    first, second = (rng.exponential(scale, size=500).astype(np.float32) for scale in (1.0, 3.0))
    bonus.normalize(first, update=True)
    out = bonus.normalize(second, update=True)
    np.testing.assert_allclose(out, second / np.concatenate([first, second]).std(), rtol=1e-3)
    stats = bonus.bonus_rms.state_dict()
    bonus.normalize(second * 10, update=False)  # evaluation leaves the statistics alone
    assert all(torch.equal(v, bonus.bonus_rms.state_dict()[k]) for k, v in stats.items())
    bonus.init_normalization(False)
    np.testing.assert_array_equal(bonus.normalize(second), second)
    with pytest.raises(ValueError, match=r"bonus must have shape \(batch,\)"):
        bonus.normalize(second.reshape(10, 50))


@each_space
def test_check_batch_keeps_uint8_frames_as_bytes_and_gives_the_rest_as_float32(space_name: str) -> None:
    bonus = make("rnd", space_name)
    obs, actions, next_obs = batch(space_name)
    obs.flags.writeable = False  # a read-only array (a view of an env's buffer) is accepted as it is
    obs_t, _, next_t = bonus.check_batch(obs, actions, next_obs)
    frames = obs.dtype == np.uint8 and obs.ndim > 2
    assert obs_t.dtype == next_t.dtype == (torch.uint8 if frames else torch.float32)
    np.testing.assert_array_equal(obs_t.numpy(), obs)
    vector_bytes = spaces.Box(0, 255, (4,), np.uint8)  # uint8 vectors are no frames: float32
    rnd = FACTORIES["rnd"](vector_bytes, spaces.Discrete(2), 0)
    vectors = np.ones((2, 4), np.uint8)
    assert rnd.check_batch(vectors, [0, 1], vectors)[0].dtype == torch.float32


def _feature_net(bonus: IntrinsicBonus) -> torch.nn.Module:
    if isinstance(bonus, RE3):
        return bonus.encoder
    return bonus.model.phi if isinstance(bonus, E3B) else bonus.phi


def _layers(net: torch.nn.Module) -> tuple[list[tuple[int, int]], set[type]]:
    """(kernel, stride) of each convolution and the activation classes."""
    convs = [(m.kernel_size[0], m.stride[0]) for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    return convs, {type(m) for m in net.modules() if isinstance(m, (torch.nn.ReLU, torch.nn.ELU))}


@pytest.mark.parametrize("name", ["icm", "ride", "e3b", "re3"])
def test_encoder_arch_picks_the_networks_that_read_observations(name: str) -> None:
    frames, discrete = spaces.Box(0, 255, (3, 64, 64), np.uint8), spaces.Discrete(4)

    def layers(space: spaces.Box, **kwargs: str) -> tuple[list, set]:
        bonus = FACTORIES[name](space, discrete, 0, **kwargs)
        x = np.zeros((2, *space.shape), space.dtype)
        assert bonus.compute(x, [0, 1], x).shape == (2,)
        return _layers(_feature_net(bonus))

    nature, universe = ([(8, 4), (4, 2), (3, 1)], {torch.nn.ReLU}), ([(3, 2)] * 4, {torch.nn.ELU})
    assert layers(frames, encoder_arch="nature") == nature  # rllte's encoder
    assert layers(frames, encoder_arch="universe") == universe  # ICM's
    # the default is each paper's: ICM's ELU convolutions (RIDE's and E3B's pixel models), RE3's own
    re3 = ([(3, 2)] + [(3, 1)] * 3, {torch.nn.ReLU})
    assert layers(frames) == layers(frames, encoder_arch="paper") == (re3 if name == "re3" else universe)
    vectors = SPACES["vector-discrete"][0]  # MLPs with the family's activation
    assert layers(vectors, encoder_arch="nature") == ([], {torch.nn.ReLU})
    assert layers(vectors, encoder_arch="universe") == ([], {torch.nn.ELU})
    with pytest.raises(
        ValueError, match="encoder_arch must be 'paper', 'nature' or 'universe', got 'resnet'"
    ):
        FACTORIES[name](frames, discrete, 0, encoder_arch="resnet")


def test_discrete_actions_are_one_hot_from_the_spaces_start():
    """Action ``start + k`` of ``Discrete(n, start)`` is the k-th unit vector; others are named errors."""
    space = spaces.Discrete(3, start=-1)
    one_hot = encode_actions(np.array([1, -1, 0, 1]), space).numpy()
    np.testing.assert_array_equal(one_hot, np.eye(3)[[2, 0, 1, 2]])
    np.testing.assert_array_equal(encode_actions(np.array([[0]]), space).numpy(), [[0.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match=r"Discrete actions must lie in \[-1, 2\), got \[2\]"):
        encode_actions(np.array([2]), space)
    # float arrays of whole numbers are actions; 0.7 is no action (not action 0), nor is NaN
    np.testing.assert_array_equal(encode_actions(np.array([1.0, -1.0]), space).numpy(), np.eye(3)[[2, 0]])
    for bad in ([0.7, 1.0], [np.nan]):
        with pytest.raises(ValueError, match="Discrete actions must be whole numbers"):
            encode_actions(np.array(bad), space)


@pytest.mark.parametrize(
    ("name", "param"),
    [
        ("rnd", "learning_rate"), ("icm", "learning_rate"), ("disagreement", "learning_rate"),
        ("e3b", "learning_rate"), ("ride", "learning_rate"), ("ngu", "learning_rate"), ("e3b", "ridge"),
        ("ngu", "kernel_epsilon"), ("ngu", "pseudo_count_constant"),
    ],
)  # fmt: skip
def test_an_infinite_step_size_or_constant_is_refused_with_its_name(name: str, param: str) -> None:
    """inf would give NaN weights after a step (learning rates), NaN kernels (``eps / (d + eps)``), or a
    bonus that is 0 everywhere (ridge, pseudo-count constant): refused like any other value out of range."""
    classes = {"rnd": RND, "icm": ICM, "disagreement": Disagreement, "e3b": E3B, "ride": RIDE, "ngu": NGU}
    with pytest.raises(ValueError, match=rf"{param} must be a number in \(0.0, inf\), got inf"):
        classes[name](*SPACES["vector-box"], **{param: float("inf")})
