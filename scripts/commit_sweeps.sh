#!/usr/bin/env bash
# Commits the sweeps' results and the checkpoints of their unfinished runs, so that the next session (on a
# fresh machine) resumes them. Run it ONCE, near the end of a session, not after every finished run:
# a submission is refused whole when the diffs of its commits add up to more than 256 MiB as text, binary
# files written out in full each time they are added, changed (old and new version) or deleted. A HalfCheetah
# VIME checkpoint is about 20 MB (its 100,000-transition pool) and an unfinished GAN ensemble member's
# (semisup_mnist_runs/.checkpoints) about 33 MB, so committing two of them every ten minutes passes that limit
# within a session (a whole session's work was lost that way, twice). This script refuses a commit that would
# bring the diffs committed since BASE (default: the commits of the last 4 hours) above LIMIT_MIB (default 150).
#
#   bash scripts/commit_sweeps.sh ["message"]      (env: BASE=<commit>, LIMIT_MIB=<MiB>)
set -euo pipefail
cd "$(dirname "$0")/.."
message=${1:-"sweeps: finished runs and reports; checkpoints of the running runs"}
limit=$(( ${LIMIT_MIB:-150} * 1024 * 1024 ))
base=${BASE:-$(git rev-list -1 --before='4 hours ago' HEAD)}

# a sweep writes its report only when it ends: refresh those of the sweeps still running (unfinished runs)
for suite in benchmarks/results/*/; do
  if [[ -f "$suite/suite.json" ]] && [[ -n $(find "$suite.checkpoints" -name checkpoint.pt -print -quit 2>/dev/null) ]]; then
    .venv/bin/curiosity bench report "$suite"
  fi
done

git add benchmarks/results  # finished runs, reports; checkpoints of runs finished since: deleted
find benchmarks/results -path '*/.checkpoints/*' -type f -print0 | xargs -0 -r git add -f

# the diffs as text, binary files as git writes them (--binary: base85 of the deflated bytes, a changed or
# deleted file's old version written as well as its new one), which is what the submission limit adds up
staged=$(git diff --cached --binary --no-renames HEAD | wc -c)
earlier=$(git log -p --binary --no-renames --format= "$base..HEAD" | wc -c)
printf 'this commit: %d KiB of diff; the commits since %s: %d KiB; limit %d MiB\n' \
  $(( staged >> 10 )) "${base:0:7}" $(( earlier >> 10 )) $(( limit >> 20 ))
if (( staged + earlier > limit )); then
  echo "refused: commit fewer checkpoints (git reset, then git add -f the ones that matter)" >&2
  exit 1
fi
git commit -q -m "$message" && git log --oneline -1
