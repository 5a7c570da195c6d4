"""The world-model demo at tiny scale: it writes its JSON, strip and GIF with the documented shapes, and the
learnt latent dynamics beat "nothing moves" one step ahead."""

import json
import math
import struct

import pytest
import torch
from PIL import Image

from benchmarks.generative.world_model_demo import Args, main

SIZE, SCALE, HORIZON = 16, 2, 4


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    # 10 VAE steps leave the encoder close to its random init, whose features still follow the car; 64 starts
    # keep the one-step comparison clear of noise (step-1 ratio 0.76-0.93 over seeds 0-4 when written).
    out = tmp_path_factory.mktemp("world_model")
    args = Args(
        frames=2000,
        image_size=SIZE,
        encoder_steps=10,
        dynamics_epochs=40,
        horizon=HORIZON,
        starts=64,
        eval_frames=600,
        strip_every=1,
        scale=SCALE,
        seed=0,
        out_dir=out,
        progress=False,
    )
    return main(args), out


def test_files_and_per_step_arrays(run):
    record, out = run
    assert json.loads((out / "world_model.json").read_text()) == record
    assert record["steps"] == list(range(HORIZON + 1))
    for group in ("latent_error", "frame_mse"):
        assert set(record[group]) == {"model", "model_sampled", "baseline"}
        for values in record[group].values():
            assert len(values) == HORIZON + 1 and all(math.isfinite(v) and v >= 0 for v in values)
        assert record[group]["model"][0] == record[group]["baseline"][0]  # both start from the real frame
    assert record["latent_error"]["model"][0] == 0.0
    assert all(math.isfinite(v) for v in record["headline"].values())
    assert "python -m benchmarks.generative.world_model_demo" in record["command"] and record["minutes"] > 0


def test_strip_and_gif_have_the_documented_layout(run):
    record, out = run
    png = (out / "imagined_strip.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    columns, rows = HORIZON + 1, 3  # strip_every=1: steps 0..H; rows real / mean / sampled
    assert (width, height) == (columns * SIZE * SCALE, rows * SIZE * SCALE)
    assert record["strip"]["steps"] == list(range(HORIZON + 1)) and len(record["strip"]["rows"]) == rows
    with Image.open(out / "imagined.gif") as gif:
        assert gif.format == "GIF" and gif.size == (3 * SIZE * SCALE, SIZE * SCALE)


def test_the_model_beats_nothing_moves_one_step_ahead(run):
    record, _ = run
    latent = record["latent_error"]
    assert latent["model"][1] < latent["baseline"][1]
    assert record["headline"]["latent_ratio_step1"] < 1


def test_an_unknown_device_is_named_before_anything_runs(tmp_path):
    with pytest.raises(ValueError, match=r"device must be .*got 'tpu'"):
        main(Args(device="tpu", out_dir=tmp_path / "out", progress=False))
    assert not (tmp_path / "out").exists()


def test_the_record_names_the_device_it_ran_on(run):
    record, _ = run
    assert record["device"] == ("cuda:0" if torch.cuda.is_available() else "cpu")
    assert record["environment"]["versions"]["torch"] == torch.__version__
    assert "device" not in record["settings"]
