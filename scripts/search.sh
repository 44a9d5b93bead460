#!/usr/bin/env bash
# Run a random search on one machine, JOBS runs at a time, trial by trial: trial 0 of every
# (kind, depth), then trial 1 of every (kind, depth), and so on. A search cut off part-way then
# has the same number of finished trials in every group, so its partial report is balanced.
# Rerunning the script skips the runs that are done, diverged or stopped without starting a process for
# them (a run cut off continues from its checkpoint). Every `highway run` refreshes the
# sweep's report when its run ends.
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
# The sweep folder: --out DIR if given, else the config's `output`; then the config's name.
out=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --out) out=${args[i + 1]:-} ;;
    --out=*) out=${args[i]#--out=} ;;
  esac
done
"$bin" plan "$config" --json "$@" |
  OUT="$out" python3 -c '
import json, os, sys
plan = json.load(sys.stdin)
config = plan["config"]
sweep = os.path.join(os.environ["OUT"] or config["output"], config["name"])
def finished(run):
    try:
        with open(os.path.join(sweep, "runs", run["id"], "status.json")) as f:
            return json.load(f)["state"] in ("done", "diverged", "stopped")
    except (OSError, ValueError, KeyError):
        return False
runs = [r for r in plan["runs"] if not finished(r)]
total = len(plan["runs"])
print(f"{total - len(runs)} of {total} runs finished; {len(runs)} to train", file=sys.stderr)
for r in sorted(runs, key=lambda r: (r["trial"] or 0, r["seed"], r["index"])):
    print(r["index"])
' |
  xargs -P "$jobs" -I{} "$bin" run "$config" --index {} "$@"
