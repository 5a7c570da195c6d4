"""The command recorded beside a result: retypeable, and free of options that do not change the result; and
the environment recorded with it."""

import platform
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import numpy
import pytest
import torch

from benchmarks import provenance
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


def test_the_environment_names_the_packages_and_the_checkout(monkeypatch):
    """Versions against the packages' own attributes; the checkout against git's files read directly."""
    found = provenance.environment()
    assert found["versions"]["torch"] == torch.__version__ and found["versions"]["numpy"] == numpy.__version__
    assert found["versions"]["python"] == platform.python_version()
    git_dir = Path(provenance.__file__).resolve().parents[1] / ".git"
    if found["git"] is not None and git_dir.is_dir():  # a git checkout (CI's clone is one)
        head = (git_dir / "HEAD").read_text().strip()
        if head.startswith("ref: "):
            ref = head[5:]
            if (git_dir / ref).is_file():
                head = (git_dir / ref).read_text().strip()
            else:  # a packed ref: "<sha> <ref>" lines of packed-refs
                packed = (git_dir / "packed-refs").read_text().splitlines()
                head = next(line.split()[0] for line in packed if line.endswith(" " + ref))
        assert re.fullmatch("[0-9a-f]{40}", found["git"]["commit"]) and found["git"]["commit"] == head
        assert isinstance(found["git"]["dirty"], bool)

    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(provenance.subprocess, "run", no_git)
    assert provenance.git_state() is None  # a machine without git still writes its results


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_changed_result_does_not_make_the_checkout_dirty_but_changed_code_does(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "benchmarks" / "results" / "member0.pt").write_bytes(b"epoch 1")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    commit = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()  # fmt: skip
    assert provenance.git_state(tmp_path) == {"commit": commit, "dirty": False}
    (tmp_path / "benchmarks" / "results" / "member0.pt").write_bytes(b"epoch 2")  # a run training on
    (tmp_path / "notes.txt").write_text("untracked\n")
    assert provenance.git_state(tmp_path) == {"commit": commit, "dirty": False}
    (tmp_path / "code.py").write_text("x = 2\n")
    assert provenance.git_state(tmp_path) == {"commit": commit, "dirty": True}
