#!/usr/bin/env bash
# Diagnostic (not part of the suite): TRPO on TASK (default SparseMountainCar-v1) with rllab's linear-feature
# baseline in place of the suite's MLP critic, without a bonus and with VIME (the suite's settings otherwise),
# TIMESTEPS steps (default 300,000), seeds 0-3. Does plain TRPO still drift onto the reward, and does VIME
# still find it? Writes diagnostics/TASK/linear_baseline_{none,vime}/seed*/ and linear_baseline_summary.json;
# finished runs are skipped.
#
#   bash benchmarks/results/vime-paper/diagnostics/run_linear_baseline.sh [TASK] [TIMESTEPS]
set -euo pipefail
TASK=${1:-SparseMountainCar-v1}
STEPS=${2:-300000}
KWARGS=$(python -c "import json; from benchmarks.sweep.suites import TRPO_PAPER; print(json.dumps({**TRPO_PAPER, 'n_critic_updates': 0}))")
OUT=benchmarks/results/vime-paper/diagnostics/$TASK
for bonus in none vime; do
  extra=(); [ "$bonus" = vime ] && extra=(--eta 1e-3 --value-targets extrinsic)
  for seed in 0 1 2 3; do
    [ -f "$OUT/linear_baseline_$bonus/seed$seed/metrics.json" ] && continue
    curiosity train --env "$TASK" --algo trpo --bonus "$bonus" "${extra[@]}" --timesteps "$STEPS" \
      --seed "$seed" --n-envs 10 --no-bootstrap-horizon --value-baseline linear_feature --algo-kwargs "$KWARGS" \
      --threads 1 --out "$OUT/linear_baseline_$bonus/seed$seed"
  done
done
python - "$OUT" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
summary = {}
for bonus in ("none", "vime"):
    runs = [json.loads(p.read_text()) for p in sorted((out / f"linear_baseline_{bonus}").glob("seed*/metrics.json"))]
    summary[bonus] = {"steps_to_first_success": [r["steps_to_first_success"] for r in runs],
                      "success_rate_last": [r["success_rate_last"] for r in runs],
                      "final_return": [r["final_return"] for r in runs],
                      "seconds": [r["seconds"] for r in runs]}
(out / "linear_baseline_summary.json").write_text(json.dumps(summary, indent=1))
print(json.dumps(summary, indent=1))
PY
