"""The command recorded beside a result: retypeable, and free of options that do not change the result."""

import shlex

import pytest

from benchmarks.provenance import command_line


def test_command_line_quotes_arguments_as_a_shell_would_split_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TORCH_THREADS", raising=False)
    argv = ["--results-dir", "a dir/x", "--seed", "3"]
    line = command_line("benchmarks.m", argv=argv)
    assert shlex.split(line) == ["python", "-m", "benchmarks.m", *argv]


def test_command_line_names_the_thread_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_THREADS", "1")
    assert command_line("benchmarks.m", argv=["--x"]) == "env TORCH_THREADS=1 python -m benchmarks.m --x"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--ensemble", "10", "--members", "1", "3", "--no-progress"], ["--ensemble", "10", "--no-progress"]),
        (["--members", "8"], []),
        (["--members=8", "--seed", "-1"], ["--seed", "-1"]),
        (["--no-progress", "--members", "0", "2"], ["--no-progress"]),
        (["--members-extra", "1"], ["--members-extra", "1"]),  # another option that merely starts alike
    ],
)
def test_command_line_leaves_out_omitted_options_and_only_their_values(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], expected: list[str]
) -> None:
    monkeypatch.delenv("TORCH_THREADS", raising=False)
    line = command_line("benchmarks.m", omit=("--members",), argv=argv)
    assert shlex.split(line)[3:] == expected
