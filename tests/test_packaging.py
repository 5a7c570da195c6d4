"""What the wheel ships (setuptools' own package discovery on pyproject.toml), and what git ignores."""

import shutil
import subprocess
from pathlib import Path

import pytest
from setuptools.config.pyprojecttoml import read_configuration

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_no_benchmark_results_and_no_test_helpers():
    packages = read_configuration(ROOT / "pyproject.toml")["tool"]["setuptools"]["packages"]  # found
    assert {"agents", "agents.hyperparams", "benchmarks", "curiosity", "envs", "generative"} <= set(packages)
    assert [p for p in packages if p.startswith(("benchmarks.results", "benchmarks._testing", "tests"))] == []
    modules = [path for p in packages for path in (ROOT / p.replace(".", "/")).glob("*.py")]
    assert [m for m in modules if m.stem.startswith(("test", "_testing"))] == []


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
@pytest.mark.parametrize("path", ["bench-out/quick/report.md", "runs/train/model.zip", "demo_out/report.md",
                                  "dist/vime_curiosity-0.1.0-py3-none-any.whl"])  # fmt: skip
def test_outputs_are_git_ignored(path):
    assert subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0, path
