#!/usr/bin/env bash
# The default thread count against one thread, on the machine as it is and beside busy threads
# (`highway bench --busy 2`: two of the benchmark's own threads spinning), alternated ROUNDS
# times: `highway bench` ms/step (median step) of highway nets on MNIST's 784 inputs at depths
# 50 and 100. With QUICKSTART=1, also the quickstart sweep's wall time with the default and
# with RAYON_NUM_THREADS=1, alone and beside two busy shell loops. Prints every measurement,
# then the medians of the rounds.
#
# Usage: scripts/bench-threads.sh [BINARY] [ROUNDS]
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/target/release/highway}; rounds=${2:-5}
unset RAYON_NUM_THREADS
log=$(mktemp)
spin() { sh -c 'while :; do :; done' & }
for round in $(seq "$rounds"); do
  for depth in 50 100; do
    for busy in 0 2; do
      for threads in default 1; do
        flag=; [ "$threads" = 1 ] && flag="--threads 1"
        ms=$("$bin" bench --kind highway --depth "$depth" --input 784 --steps 30 --busy "$busy" $flag --json |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["ms_per_step"])')
        echo "bench depth=$depth busy=$busy threads=$threads $ms" | tee -a "$log"
      done
    done
  done
  if [ "${QUICKSTART:-0}" = 1 ]; then
    for busy in 0 2; do
      for threads in default 1; do
        pids=
        for _ in $(seq "$busy"); do spin; pids="$pids $!"; done
        d=$(mktemp -d)
        start=$(date +%s.%N)
        if [ "$threads" = 1 ]; then
          RAYON_NUM_THREADS=1 "$bin" sweep "$root/configs/quickstart.json" --out "$d" >/dev/null 2>&1
        else
          "$bin" sweep "$root/configs/quickstart.json" --out "$d" >/dev/null 2>&1
        fi
        s=$(echo "$(date +%s.%N) - $start" | bc)
        for p in $pids; do kill "$p"; done
        rm -rf "$d"
        echo "quickstart depth=- busy=$busy threads=$threads $s" | tee -a "$log"
      done
    done
  fi
done
echo "medians of $rounds rounds (bench: ms/step; quickstart: s):"
python3 - "$log" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    what, depth, busy, threads, value = line.split()
    rows.setdefault((what, depth, busy), {}).setdefault(threads, []).append(float(value))
for (what, depth, busy), by in rows.items():
    d, one = statistics.median(by["threads=default"]), statistics.median(by["threads=1"])
    print(f"{what} {depth} {busy}: default {d:.2f}, one thread {one:.2f}, default/one {d / one:.2f}")
PY
rm -f "$log"
