#!/usr/bin/env bash
# What CubeCL's persistent cache (`--features persistence`) saves across processes on wgpu:
# the seconds to the end of the first step (`first_step_s`: shader compilation and autotuning)
# of two processes one after the other, each with a fresh cubecl cache folder, for a build
# without the feature and for one with it. Mesa's own shader cache is warmed by a first,
# untimed process, so the difference is CubeCL's. Run with other work paused.
#
# Usage: PLAIN_BIN=... PERSIST_BIN=... scripts/bench-persistence.sh [KIND DEPTH TRIALS]...
#   (default: highway 10 1, highway 10 40, plain 10 40)
set -u
plain_bin=${PLAIN_BIN:?the highway binary built without persistence}
persist_bin=${PERSIST_BIN:?the highway binary built with --features persistence}
cases=("$@")
[ ${#cases[@]} -eq 0 ] && cases=(highway 10 1 highway 10 40 plain 10 40)
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Outside any Cargo project, so that the cubecl cache goes under XDG_CACHE_HOME; Mesa's shader
# cache in one folder for every process.
cd "$work"
export MESA_SHADER_CACHE_DIR="$work/mesa"
first_step() { # binary cache kind depth trials
  local width=50; [ "$3" = plain ] && width=71
  XDG_CACHE_HOME="$2" RAYON_NUM_THREADS=2 "$1" bench --backend wgpu --kind "$3" --depth "$4" \
    --width $width --input 784 --trials "$5" --steps 2 --warmup 0 --json 2>/dev/null |
    field first_step_s
}
printf 'build\tkind depth trials\tfirst process s\tsecond process s\n'
for ((i = 0; i < ${#cases[@]}; i += 3)); do
  kind=${cases[i]} depth=${cases[i + 1]} trials=${cases[i + 2]}
  first_step "$plain_bin" "$work/warm-mesa" "$kind" "$depth" "$trials" >/dev/null
  for build in plain persist; do
    bin=$plain_bin; [ $build = persist ] && bin=$persist_bin
    cache="$work/$build-$kind-$depth-$trials"
    a=$(first_step "$bin" "$cache" "$kind" "$depth" "$trials")
    b=$(first_step "$bin" "$cache" "$kind" "$depth" "$trials")
    printf '%s\t%s %s %s\t%s\t%s\n' "$build" "$kind" "$depth" "$trials" "$a" "$b"
  done
done
