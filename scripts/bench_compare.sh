#!/usr/bin/env bash
# `highway bench` against scripts/bench_torch.py, alternately on the same machine, for both kinds
# at depths 10, 50, 100 and 900 (input 3072, batch 128); prints a Markdown table.
#
# Each side runs with 2 threads (the reference setting) and with 1; PyTorch also with
# torch.set_flush_denormal(True), which `highway` always does. The ratios compare each side at its
# faster thread count: "vs PyTorch" against PyTorch as usually run (2 threads, denormals on),
# "like for like" against PyTorch's faster thread count with denormals flushed.
# Usage: scripts/bench_compare.sh [PYTHON] [BACKEND]
set -euo pipefail
py=${1:-python3}
backend=${2:-flex}
bin=${HIGHWAY_BIN:-highway}
torch="$(dirname "$0")/bench_torch.py"
echo "| kind | depth | highway 1 thread | highway 2 threads | PyTorch 2 threads | PyTorch 2 threads, flush-denormal | PyTorch 1 thread, flush-denormal | vs PyTorch | like for like | highway peak RSS MiB | PyTorch peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for kind in highway plain; do
  for depth in 10 50 100 900; do
    steps=$(( depth >= 900 ? 6 : (depth >= 100 ? 20 : 40) ))
    ours1=$("$bin" bench --kind "$kind" --depth "$depth" --steps "$steps" --backend "$backend" --threads 1 --json 2>/dev/null)
    theirs=$("$py" "$torch" --kind "$kind" --depth "$depth" --steps "$steps" --threads 2 2>/dev/null | tail -1)
    ours2=$("$bin" bench --kind "$kind" --depth "$depth" --steps "$steps" --backend "$backend" --threads 2 --json 2>/dev/null)
    flushed2=$("$py" "$torch" --kind "$kind" --depth "$depth" --steps "$steps" --threads 2 --flush-denormal 2>/dev/null | tail -1)
    flushed1=$("$py" "$torch" --kind "$kind" --depth "$depth" --steps "$steps" --threads 1 --flush-denormal 2>/dev/null | tail -1)
    "$py" - "$kind" "$depth" "$ours1" "$ours2" "$theirs" "$flushed2" "$flushed1" <<'PY'
import json, sys
kind, depth = sys.argv[1], sys.argv[2]
h1, h2, t2, f2, f1 = (json.loads(x) for x in sys.argv[3:8])
s = lambda r: r["steps_per_s"]
best = max(s(h1), s(h2))
print(f"| {kind} | {depth} | {s(h1):.1f} | {s(h2):.1f} | {s(t2):.1f} | {s(f2):.1f} | {s(f1):.1f} "
      f"| {best / s(t2):.2f}× | {best / max(s(f1), s(f2)):.2f}× "
      f"| {max(h1['peak_rss_mib'], h2['peak_rss_mib']):.0f} | {t2['peak_rss_mib']:.0f} |")
PY
  done
done
