"""The IAF MNIST benchmark's bookkeeping, on tiny fake MNIST files (seconds)."""

import json

import pytest

from benchmarks.generative import iaf_mnist
from tests.fakes import killed_while_writing
from tests.generative.iaf.test_train import TINY, _write_fake_mnist


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(_write_fake_mnist(tmp_path / "mnist")))
    monkeypatch.setattr(iaf_mnist, "MODELS", {k: {**v, **TINY} for k, v in iaf_mnist.MODELS.items()})

    def config(**kw):
        base = dict(epochs=1, importance_samples=2, models=("diagonal",), device="cpu",
                    checkpoint_dir=str(tmp_path / "ckpt"), results_dir=str(tmp_path / "res"))  # fmt: skip
        return iaf_mnist.IAFBenchmarkConfig(**(base | kw))

    return config


def test_a_smoke_runs_checkpoint_is_not_resumed_by_the_benchmark(tmp_path, tiny):
    """A run on the first 32 training images leaves its checkpoint; the run on all of them (another result
    key, so it trains) must not continue from it."""
    iaf_mnist.run(tiny(train_images=32))
    expected = r"was trained with \{'train_images': 32\}, not \{'train_images': None\}"
    with pytest.raises(SystemExit, match=expected):
        iaf_mnist.run(tiny(results_dir=str(tmp_path / "full")))
    assert not (tmp_path / "full" / "iaf_mnist_diagonal.json").exists()


def test_the_checkpoint_of_a_longer_run_is_refused_not_recorded_as_a_shorter_one(tmp_path, tiny):
    iaf_mnist.run(tiny(epochs=2))
    with pytest.raises(SystemExit, match="holds a model trained for 2 epochs, not 1"):
        iaf_mnist.run(tiny(epochs=1))  # another key: trains, but the checkpoint is past its budget
    assert json.loads((tmp_path / "res" / "iaf_mnist_diagonal.json").read_text())["epochs"] == 2  # untouched


def test_a_models_result_cut_short_by_a_kill_is_never_left_behind(tmp_path, tiny, monkeypatch):
    """Half a result file would make every later run fail to parse it: it is whole or absent."""
    name = "iaf_mnist_diagonal.json"
    with monkeypatch.context() as patch:
        killed_while_writing(patch, name)
        with pytest.raises(KeyboardInterrupt):
            iaf_mnist.run(tiny())
    path = tmp_path / "res" / name
    assert not path.exists() or json.loads(path.read_text())["epochs"] == 1
    assert iaf_mnist.run(tiny())["epochs"] == 1  # the rerun finishes it
