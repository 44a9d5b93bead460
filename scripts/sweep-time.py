#!/usr/bin/env python3
"""What a sweep cost: the core time of its finished runs (the sum of their wall times, each
kept epoch counted once; the runs here are single-threaded), the median and longest run per
(kind, depth), and the wall time during which at least one run was training (the union of the
runs' spans, [started_at, started_at + wall_seconds]; for a resumed run started_at is its last
start, so its span is approximate). Spans more than GAP seconds apart are listed as separate
stretches.

Usage: scripts/sweep-time.py results/SWEEP
"""
import json
import statistics
import sys
from datetime import datetime, timezone
from pathlib import Path

GAP = 900


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    runs = Path(sys.argv[1]) / "runs"
    if not runs.is_dir():
        sys.exit(f"{runs}: no such folder: not a sweep")
    spans, groups = [], {}
    for status_path in sorted(runs.glob("*/status.json")):
        try:
            status = json.loads(status_path.read_text())
            spec = json.loads((status_path.parent / "spec.json").read_text())["run"]
        except (OSError, ValueError, KeyError) as e:
            sys.exit(f"{status_path.parent}: cannot read its status or spec: {e}")
        if status["state"] not in ("done", "diverged"):
            continue
        start, wall = status["started_at"], status["wall_seconds"]
        spans.append((start, start + wall))
        groups.setdefault((spec["kind"], spec["depth"]), []).append(wall)
    if not spans:
        sys.exit(f"{runs}: no finished runs")
    total = sum(end - start for start, end in spans)
    print(f"{len(spans)} finished runs, {total / 3600:.1f} core-hours")
    print("\n| kind | depth | runs | median run (s) | longest run (s) |\n|---|---:|---:|---:|---:|")
    order = {"plain": 0, "highway": 1}
    for (kind, depth), walls in sorted(groups.items(), key=lambda g: (order.get(g[0][0], 2), g[0][1])):
        print(f"| {kind} | {depth} | {len(walls)} | {statistics.median(walls):.0f} | {max(walls):.0f} |")
    spans.sort()
    stretches = [list(spans[0])]
    for start, end in spans[1:]:
        if start <= stretches[-1][1] + GAP:
            stretches[-1][1] = max(stretches[-1][1], end)
        else:
            stretches.append([start, end])
    print("\nTraining (at least one run):")
    utc = lambda t: datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M")
    for start, end in stretches:
        print(f"  {utc(start)} to {utc(end)} UTC: {(end - start) / 60:.0f} min")
    busy = sum(end - start for start, end in stretches)
    print(f"  in all {busy / 3600:.2f} h")


if __name__ == "__main__":
    main()
