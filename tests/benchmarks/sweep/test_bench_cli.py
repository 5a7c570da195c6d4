"""The bench commands' argument parsing and the report command."""

import dataclasses
import json
import re
from pathlib import Path

import pytest

from agents.errors import UsageError
from benchmarks.cli import main as curiosity
from benchmarks.sweep import backends
from benchmarks.sweep.cli import BenchReport, BenchRun, main


def test_dry_run_lists_the_shrunken_suite(capsys):
    main(["run", "vime-sparse-v0", "--dry-run", "--seeds", "2", "--timesteps", "5000",
          "--tasks", "SparseHalfCheetah-v0", "--methods", "none", "vime"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[:4] for line in lines] == [
        [f"SparseHalfCheetah-v0/{m}/seed{s}", "ppo", "5000", m] for s in (0, 1) for m in ("none", "vime")]
    assert json.loads(lines[1].split("\t")[4])["eta"] == 1e-3


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["vime"], "SUITE: unknown suite 'vime'; known suites"),
        (["quick", "--seeds", "0"], "--seeds must be >= 1 (or left out for the suite's own), got 0"),
        (["quick", "--timesteps", "0"], "--timesteps must be >= 1"),
        (["quick", "--tasks", "Nope-v0"], "--tasks: unknown task(s) ['Nope-v0'] for suite 'quick'"),
        (["quick", "--methods", "rnd"], "--methods: unknown method(s) ['rnd'] for suite 'quick'"),
        (["quick", "--jobs", "0"], "--jobs must be >= 1 with the local backend"),
    ],
)
def test_mistakes_print_one_line_and_write_nothing(tmp_path, capsys, args, line):
    out = tmp_path / "out"
    for command in (main, curiosity):  # python -m benchmarks.sweep.cli, and the curiosity command
        words = ["run"] if command is main else ["bench", "run"]
        with pytest.raises(SystemExit) as exit_info:
            command([*words, *args, "--out", str(out), "--no-progress"])
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err
        assert err.startswith(f"{'curiosity ' * (command is curiosity)}bench run: error: {line}"), err
        assert not out.exists()
    with pytest.raises(UsageError):
        main(["run", *args, "--out", str(out), "--debug"])


def test_a_failed_ray_connection_says_what_to_check(tmp_path, capsys, monkeypatch):
    class NoCluster:  # stands for ray, with no cluster at the address
        @staticmethod
        def is_initialized():
            return False

        @staticmethod
        def init(**kwargs):
            raise ConnectionError("Could not find any running Ray instance. Please specify one to connect to")

    monkeypatch.setattr(backends, "import_ray", lambda: NoCluster)
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "benchmarks._testing:FAKE_SUITE", "--backend", "ray", "--address", "auto",
              "--out", str(tmp_path), "--no-progress", "--no-report"])  # fmt: skip
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "--address: could not connect to the Ray cluster at 'auto': ConnectionError: Could not find" in err
    hints = ("`ray status`", "ray start --head", "ray://HOST:10001", "RAY_AUTH_MODE=token", "RAY_AUTH_TOKEN")
    assert all(hint in err for hint in hints), err


def test_the_readme_ray_example_writes_to_a_relative_path():
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    lines = [line for line in readme.splitlines() if "--backend ray" in line]
    assert lines
    for line in lines:
        out = line.split("--out", 1)[1].split()[0]
        assert not out.startswith(("/", "~")), line


def test_a_failed_run_gives_exit_status_1(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("BENCH_FAKE_SLEEP", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "benchmarks._testing:FAILING_SUITE", "--out", str(tmp_path), "--no-progress",
              "--no-report"])
    assert exit_info.value.code == 1
    stderr = capsys.readouterr().err
    assert "1 run(s) finished, 0 already finished, 1 failed" in stderr
    assert "FAILED SparseMountainCar-v0/none/seed1: RuntimeError: fake failure for seed 1" in stderr
    assert (tmp_path / "command.txt").exists() and not (tmp_path / "report.md").exists()


def test_report_command_on_an_empty_sweep(tmp_path, capsys):
    (tmp_path / "runs").mkdir()
    main(["report", str(tmp_path)])
    assert json.loads((tmp_path / "summary.json").read_text()) == {}
    assert "0 finished run(s)" in (tmp_path / "report.md").read_text()


def test_every_field_is_documented():
    for cls in (BenchRun, BenchReport):
        source = __import__("inspect").getsource(cls)
        for field in dataclasses.fields(cls):
            assert f'{field.name}:' in source
            after = source.split(f"    {field.name}:", 1)[1].splitlines()[1].strip()
            assert after.startswith('"""'), f"{cls.__name__}.{field.name} has no docstring"


def test_the_suite_help_names_every_registered_suite():
    from benchmarks.sweep.suites import SUITES

    source = __import__("inspect").getsource(BenchRun)
    suite_doc = source.split("    suite:", 1)[1].split('"""')[1]  # the field's docstring, all its lines
    assert all(re.search(rf"\b{re.escape(name)}\b(?!-)", suite_doc) for name in SUITES), suite_doc
