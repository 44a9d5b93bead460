#!/usr/bin/env bash
# Trials together, measured side by side in one run: `highway bench --trials K` trial-steps/s
# (training steps of single trials per second) for K = 1, 8, 40, highway and plain nets of
# depth 10 and 100 at MNIST's shapes (784 inputs, widths 50 and 71, batch 128). Flex with one
# thread and with two, against two single-trial processes side by side (the way a search ran
# before: two workers); NdArray; wgpu (on lavapipe here, a launch-bound stand-in for a GPU),
# with the seconds to the end of the first step (shader compilation and autotuning, paid once
# per process). One line per measurement, tab-separated, then nothing else: pause other work
# first (the figures in docs/performance.md were taken with the Figure 1 search stopped by SIGSTOP).
#
# Flex is measured in ROUNDS rounds (default 3), each configuration once per round, so that the
# machine's drift falls on every configuration alike; take the median per configuration.
#
# Usage: [ROUNDS=3] scripts/bench-trials.sh [flex|ndarray|wgpu]...   (default: all three)
set -u
bin=${HIGHWAY_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release/highway}
backends=${*:-flex ndarray wgpu}
field() { python3 -c "import json,sys; r=json.load(sys.stdin); print(r['$1'])"; }
bench() { # backend kind depth trials threads steps
  local width=50; [ "$2" = plain ] && width=71
  RAYON_NUM_THREADS=$5 "$bin" bench --backend "$1" --kind "$2" --depth "$3" --width $width \
    --input 784 --trials "$4" --threads "$5" --steps "$6" --warmup 2 --json 2>/dev/null
}
line() { # label json
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$(echo "$2" | field trial_steps_per_s)" \
    "$(echo "$2" | field peak_rss_mib)" "$(echo "$2" | field peak_rss_mib_per_trial)" \
    "$(echo "$2" | field first_step_s)"
}
rounds=${ROUNDS:-3}
printf 'backend kind depth trials threads\ttrial_steps_per_s\tpeak_rss_mib\tper_trial_mib\tfirst_step_s\n'
for backend in $backends; do
  n=1; [ "$backend" = flex ] && n=$rounds
  for round in $(seq $n); do
  for kind in highway plain; do
    for depth in 10 100; do
      case $backend in
        flex) steps=$((depth == 10 ? 60 : 10)); ks="1 8 40"; threads="1 2" ;;
        ndarray) steps=$((depth == 10 ? 20 : 4)); ks="1 8 40"; threads="2" ;;
        wgpu) steps=$((depth == 10 ? 8 : 3)); ks="1 8 40"; threads="2"
          [ "$depth" = 100 ] && ks="1 8" ;;
      esac
      for k in $ks; do
        for t in $threads; do
          line "$backend $kind $depth $k $t" "$(bench $backend $kind $depth $k $t $steps)"
        done
      done
      if [ "$backend" = flex ]; then
        # Two single-trial processes at once, one thread each: their trial-steps/s summed.
        a=$(mktemp); b=$(mktemp)
        bench flex $kind $depth 1 1 $steps > "$a" & bench flex $kind $depth 1 1 $steps > "$b"; wait
        sum=$(python3 -c "import json; print(sum(json.load(open(f))['trial_steps_per_s'] for f in ['$a','$b']))")
        printf '%s\t%s\t-\t-\t-\n' "flex $kind $depth 1 2x1proc" "$sum"
        rm -f "$a" "$b"
      fi
    done
  done
  done
done
