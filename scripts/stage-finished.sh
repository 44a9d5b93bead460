#!/usr/bin/env bash
# Stage for git a sweep folder's finished runs (done, diverged or stopped) and its sweep-level files
# (sweep.json, summary, figures, HParams experiment), leaving out runs still in training, so
# that a long search can be committed as it goes and resumed by a later session.
#
# Usage: scripts/stage-finished.sh SWEEP_DIR
set -euo pipefail
sweep=${1:?usage: scripts/stage-finished.sh SWEEP_DIR}
git add -- "$sweep"/sweep.json "$sweep"/summary.csv "$sweep"/summary.md \
  "$sweep"/events.out.tfevents.hparams "$sweep"/figures
SWEEP="$sweep" python3 -c '
import json, os, sys
runs = os.path.join(os.environ["SWEEP"], "runs")
n = 0
for id in sorted(os.listdir(runs)):
    try:
        with open(os.path.join(runs, id, "status.json")) as f:
            state = json.load(f)["state"]
    except (OSError, ValueError, KeyError):
        continue
    if state in ("done", "diverged", "stopped"):
        print(os.path.join(runs, id))
        n += 1
print(f"{n} finished runs", file=sys.stderr)
' | xargs -r git add --
