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
    assert commit(repo, 2).returncode == 0  # 1 MiB of random bytes: about 1.3 MiB of base85 diff, of 2
    # a second version: its diff writes the old bytes and the new ones, about 2.6 MiB more
    write(repo, "benchmarks/results/s/.checkpoints/b/checkpoint.pt", (1 << 20) + 10)
    for limit in (2, 3):
        refused = commit(repo, limit)
        assert refused.returncode == 1 and "refused" in refused.stderr
    assert git(repo, "rev-list", "--count", "HEAD") == "2"  # nothing more committed
    assert commit(repo, 5).returncode == 0
    # the run finished: deleting its checkpoint writes the old bytes once more (about 1.3 MiB)
    shutil.rmtree(repo / "benchmarks/results/s/.checkpoints")
    assert commit(repo, 5).returncode == 1 and commit(repo, 6).returncode == 0


def test_the_counted_size_is_the_binary_diffs_text(repo):
    """The size the script counts is the length of ``git diff --binary`` as text, computed here by hand."""
    write(repo, "benchmarks/results/s/.checkpoints/b/checkpoint.pt", 300_000)
    git(repo, "add", "-f", "benchmarks/results/s/.checkpoints/b/checkpoint.pt")
    diff = subprocess.run(["git", "diff", "--cached", "--binary", "HEAD"], cwd=repo, capture_output=True,
                          check=True).stdout  # fmt: skip
    git(repo, "reset", "-q")
    done = commit(repo, 1)
    assert done.returncode == 0 and f"this commit: {len(diff) >> 10} KiB of diff" in done.stdout
    assert len(diff) > 300_000 * 5 // 4  # base85 of bytes that do not deflate: 5 characters for 4 bytes
