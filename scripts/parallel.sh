#!/usr/bin/env bash
# Train every run of a sweep with GNU parallel, JOBS at a time, into one shared folder, then
# write the report. Usage: scripts/parallel.sh CONFIG JOBS [highway run flags: --set, --out, ...]
#
# The same flow as a cluster array: `highway plan --json` fixes the ordered list, each job is
# `highway run CONFIG --index I`, and `highway report` collects what finished. Rerunning the
# script skips the runs that are already done.
set -euo pipefail
config=${1:?usage: scripts/parallel.sh CONFIG JOBS [flags]}
jobs=${2:?usage: scripts/parallel.sh CONFIG JOBS [flags]}
shift 2
bin=${HIGHWAY_BIN:-highway}
n=$("$bin" plan "$config" --json "$@" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["runs"]))')
# One thread per job, so that the jobs do not fight over cores.
export RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-1}
seq 0 $((n - 1)) | parallel --jobs "$jobs" --line-buffer --tagstring 'run {}' "$bin" run "$config" --index {} "$@"
