"""Smoke test of ``python -m benchmarks.random_policy`` with a tiny budget."""

from __future__ import annotations

import json

import pytest

from benchmarks.random_policy import Args, main


def test_writes_json_and_table(tmp_path, capsys):
    out = tmp_path / "random.json"
    results = main(Args(episodes=2, seed=0, out=out, env_ids=("SparseMountainCar-v0",)))
    saved = json.loads(out.read_text())
    assert saved["results"] == results
    assert results["SparseMountainCar-v0"]["success_rate"] == 0.0
    assert "| SparseMountainCar-v0 | 2 |" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"episodes": 0}, "episodes"), ({"env_ids": ("Nope-v0",)}, "Nope")]
)
def test_bad_arguments_raise(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        main(Args(out=tmp_path / "x.json", **kwargs))
