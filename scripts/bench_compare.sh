#!/usr/bin/env bash
# `highway bench` against scripts/bench_torch.py, alternately on the same machine, for both kinds
# at depths 10, 50, 100 and 900 (input 3072, batch 128, 2 threads); prints a Markdown table with
# the ratio per cell. Usage: scripts/bench_compare.sh [PYTHON] [BACKEND]
set -euo pipefail
py=${1:-python3}
backend=${2:-flex}
bin=${HIGHWAY_BIN:-highway}
echo "| kind | depth | highway ($backend) steps/s | PyTorch steps/s | ratio | PyTorch, flush-denormal steps/s | ratio | highway peak RSS MiB | PyTorch peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for kind in highway plain; do
  for depth in 10 50 100 900; do
    steps=$(( depth >= 900 ? 6 : (depth >= 100 ? 20 : 40) ))
    ours=$("$bin" bench --kind "$kind" --depth "$depth" --steps "$steps" --backend "$backend" --json 2>/dev/null)
    theirs=$("$py" "$(dirname "$0")/bench_torch.py" --kind "$kind" --depth "$depth" --steps "$steps" --threads 2 2>/dev/null | tail -1)
    flushed=$("$py" "$(dirname "$0")/bench_torch.py" --kind "$kind" --depth "$depth" --steps "$steps" --threads 2 --flush-denormal 2>/dev/null | tail -1)
    "$py" - "$kind" "$depth" "$ours" "$theirs" "$flushed" <<'PY'
import json, sys
kind, depth = sys.argv[1], sys.argv[2]
a, b, c = (json.loads(x) for x in sys.argv[3:6])
r = lambda x, y: f"{x['steps_per_s'] / y['steps_per_s']:.2f}×"
print(f"| {kind} | {depth} | {a['steps_per_s']:.1f} | {b['steps_per_s']:.1f} | {r(a, b)} | {c['steps_per_s']:.1f} | {r(a, c)} | {a['peak_rss_mib']:.0f} | {b['peak_rss_mib']:.0f} |")
PY
  done
done
