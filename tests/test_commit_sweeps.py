"""scripts/commit_sweeps.sh: commits results with their (git-ignored) checkpoints, and refuses a commit that
would bring the files committed since the base past the limit (a submission over the size limit is lost)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(repo, *args, **env):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          env={**os.environ, **env}).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "commit_sweeps.sh", tmp_path / "scripts")
    (tmp_path / ".gitignore").write_text("benchmarks/results/**/.checkpoints/\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base", GIT_COMMITTER_DATE="2020-01-01T00:00:00")
    return tmp_path


def write(repo, relative, size):
    path = repo / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))


def commit(repo, limit_mib):
    return subprocess.run(["bash", "scripts/commit_sweeps.sh", "sweeps"], cwd=repo, capture_output=True,
                          text=True, env={**os.environ, "LIMIT_MIB": str(limit_mib)})


def test_results_and_checkpoints_are_committed_under_the_limit(repo):
    write(repo, "benchmarks/results/s/runs/a/result.json", 100)
    write(repo, "benchmarks/results/s/.checkpoints/b/checkpoint.pt", 1 << 20)
    assert commit(repo, 2).returncode == 0
    assert git(repo, "ls-tree", "-r", "--name-only", "HEAD").splitlines() == [
        ".gitignore", "benchmarks/results/s/.checkpoints/b/checkpoint.pt",
        "benchmarks/results/s/runs/a/result.json", "scripts/commit_sweeps.sh"]


def test_a_commit_past_the_limit_is_refused_counting_earlier_commits(repo):
    write(repo, "benchmarks/results/s/.checkpoints/b/checkpoint.pt", 1 << 20)
    assert commit(repo, 2).returncode == 0  # 1 MiB of 2
    write(repo, "benchmarks/results/s/.checkpoints/b/checkpoint.pt", (1 << 20) + 10)  # a second version
    refused = commit(repo, 2)
    assert refused.returncode == 1 and "refused" in refused.stderr
    assert git(repo, "rev-list", "--count", "HEAD") == "2"  # nothing more committed
    assert commit(repo, 3).returncode == 0
