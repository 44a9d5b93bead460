#!/usr/bin/env bash
# Two builds of highway side by side, alternated three times, one thread each: `highway bench`
# ms/step of a 100-layer highway net, a 10-layer plain net and a stack of 8 10-layer highway
# nets (MNIST's 784 inputs), and the quickstart's training time (its runs' summed `seconds`
# column). Pause other work first.
#
# Usage: scripts/bench-ab.sh OLD_BINARY NEW_BINARY
set -u
config=$(cd "$(dirname "$0")/.." && pwd)/configs/quickstart.json
old=${1:?usage: scripts/bench-ab.sh OLD_BINARY NEW_BINARY}; new=${2:?usage: scripts/bench-ab.sh OLD_BINARY NEW_BINARY}
export RAYON_NUM_THREADS=1
for round in 1 2 3; do
  for which in old new; do
    bin=${!which}
    for args in "--kind highway --depth 100 --input 784" "--kind plain --depth 10 --input 784 --width 71" "--kind highway --depth 10 --input 784 --trials 8"; do
      r=$($bin bench $args --steps 30 --json 2>/dev/null | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["kind"], r["depth"], "K", r["trials"], round(r["ms_per_step"],3))')
      echo "bench $round $which $r"
    done
    d=$(mktemp -d); (cd $d && $bin sweep $config --out $d >/dev/null 2>&1)
    t=$(cat $d/quickstart/runs/*/curve.csv | grep -v epoch | awk -F, '{s+=$7} END {print s}')
    echo "quickstart $round $which $t"
    rm -rf $d
  done
done
