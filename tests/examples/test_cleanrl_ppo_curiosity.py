"""Smoke run of the CleanRL-style example at a tiny budget: both arms, the JSON files and the summary."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import tyro

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "cleanrl_ppo_curiosity.py"


def load_example():
    spec = importlib.util.spec_from_file_location("cleanrl_ppo_curiosity", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_example_runs_both_arms_and_summarizes(tmp_path):
    example = load_example()
    tiny = ["--total-timesteps", "1024", "--num-envs", "2", "--num-steps", "256", "--num-minibatches", "2",
            "--update-epochs", "1", "--out-dir", str(tmp_path)]  # fmt: skip
    for bonus in ("none", "vime"):
        example.main(tyro.cli(example.Args, args=["--bonus", bonus, *tiny]))
        run = json.loads((tmp_path / f"{bonus}_seed0.json").read_text())
        assert run["env_id"] == "SparseMountainCar-v1" and run["total_timesteps"] == 1024
        assert run["episodes"] >= 2  # 512 steps per env: each passed the 500-step horizon once
        assert run["successes"] <= run["episodes"] and run["wall_time_s"] > 0
    example.main(tyro.cli(example.Args, args=["--summarize", "--out-dir", str(tmp_path)]))
    table = (tmp_path / "summary.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| none") or line.startswith("| vime")]
    assert len(rows) == 2 and rows[0].startswith("| none")
    assert "budget 1,024 (1,024 in whole rollouts) steps" in table
