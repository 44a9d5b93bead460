#!/usr/bin/env bash
# Run a random search on one machine, JOBS runs at a time, trial by trial: trial 0 of every
# (kind, depth), then trial 1 of every (kind, depth), and so on. A search cut off part-way then
# has the same number of finished trials in every group, so its partial report is balanced.
# Rerunning the script skips the runs that are done (a run cut off is trained again). Every
# `highway run` refreshes the sweep's report when its run ends.
#
# Usage: scripts/search.sh CONFIG JOBS [highway run flags: --set, --out, --data-dir, ...]
# HIGHWAY_BIN picks the binary (default: highway on the PATH).
set -euo pipefail
config=${1:?usage: scripts/search.sh CONFIG JOBS [flags]}
jobs=${2:?usage: scripts/search.sh CONFIG JOBS [flags]}
shift 2
bin=${HIGHWAY_BIN:-highway}
# One thread per job, so that the jobs do not fight over cores.
export RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-1}
"$bin" plan "$config" --json "$@" |
  python3 -c '
import json, sys
runs = json.load(sys.stdin)["runs"]
for r in sorted(runs, key=lambda r: (r["trial"] or 0, r["seed"], r["index"])):
    print(r["index"])
' |
  xargs -P "$jobs" -I{} "$bin" run "$config" --index {} "$@"
