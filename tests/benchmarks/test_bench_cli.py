"""The bench commands' argument parsing and the report command."""

import dataclasses
import json

import pytest

from benchmarks.bench_cli import BenchReport, BenchRun, main


def test_dry_run_lists_the_shrunken_suite(capsys):
    main(["run", "vime-sparse", "--dry-run", "--seeds", "2", "--timesteps", "5000",
          "--tasks", "SparseHalfCheetah-v0", "--methods", "none", "vime"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[:4] for line in lines] == [
        [f"SparseHalfCheetah-v0/{m}/seed{s}", "ppo", "5000", m] for m in ("none", "vime") for s in (0, 1)]
    assert json.loads(lines[2].split("\t")[4])["eta"] == 1e-3


def test_unknown_suite_from_the_command_line():
    with pytest.raises(ValueError, match="unknown suite 'vime'; known suites"):
        main(["run", "vime", "--dry-run"])


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
    from benchmarks.suites import SUITES

    source = __import__("inspect").getsource(BenchRun)
    suite_doc = source.split("    suite:", 1)[1].splitlines()[1]
    assert all(name in suite_doc for name in SUITES), suite_doc
