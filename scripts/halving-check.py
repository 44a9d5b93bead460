#!/usr/bin/env python3
"""Checks a successive-halving search against the full-budget search of the same plan.

Usage: scripts/halving-check.py HALVING_SWEEP FULL_SWEEP [--top N]

The two folders hold runs of the same ids (same trials, seeds and drawn settings). For every
run present in both, the halving run's curve must equal the first epochs of the full run's
curve in every column but the seconds: halving changes which epochs are trained, never a
recorded number. Per (kind, depth) cell it prints the best trial of each search (done trials,
ranked as the report ranks them: the lowest training loss reached, ties by trial number), how
many of the cell's trials the full search has finished, and where halving stopped the full
search's N best trials (default 5). Exits 1 if a curve differs.
"""

import argparse
import csv
import json
import sys
from pathlib import Path


def runs(sweep):
    """Every run of a sweep folder: id -> (spec, status, curve rows without the seconds)."""
    out = {}
    for status_path in sorted(Path(sweep, "runs").glob("*/status.json")):
        folder = status_path.parent
        try:
            status = json.loads(status_path.read_text())
            spec = json.loads((folder / "spec.json").read_text())["run"]
            rows = []
            # A run that diverged in its first epoch has no curve.
            if (folder / "curve.csv").exists():
                with open(folder / "curve.csv", newline="") as f:
                    rows = [{k: v for k, v in r.items() if k != "seconds"}
                            for r in csv.DictReader(f)]
        except (OSError, ValueError, KeyError) as e:
            sys.exit(f"{folder}: {e}")
        out[folder.name] = (spec, status, rows)
    return out


def ranked(cell):
    """A cell's done trials, best first, as the report ranks them: (lowest loss reached, trial,
    final loss, run id)."""
    return sorted(
        (min(float(r["train_loss"]) for r in rows), spec["trial"], float(rows[-1]["train_loss"]),
         spec["id"])
        for spec, status, rows in cell
        if status["state"] == "done" and rows
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("halving")
    p.add_argument("full")
    p.add_argument("--top", type=int, default=5)
    a = p.parse_args()
    halving, full = runs(a.halving), runs(a.full)
    finished = ("done", "diverged")

    shared = [i for i in halving if i in full]
    differ, partial = [], 0
    for i in shared:
        h, f = halving[i][2], full[i][2]
        # A full run still in training is compared over the epochs it has.
        n = min(len(h), len(f))
        partial += len(f) < len(h)
        if f[:n] != h[:n]:
            differ.append(i)
    print(f"{len(shared)} runs in both folders; {len(shared) - len(differ)} halving curves are "
          f"the first epochs of their full-budget curves ({partial} of them compared over "
          f"fewer epochs: the full run is still in training), {len(differ)} differ")
    for i in differ:
        print(f"  differs: {i}")

    cells = {}
    for name, folder in (("halving", halving), ("full", full)):
        for spec, status, rows in folder.values():
            key = (spec["kind"], spec["depth"])
            cells.setdefault(key, {"halving": [], "full": []})[name].append((spec, status, rows))
    print()
    print(f"| kind | depth | halving: best trial (final loss) | full budget: trials finished | "
          f"best trial (final loss) | same | halving stopped the full top {a.top} at epoch |")
    print("|---|---:|---|---:|---|---|---|")
    for (kind, depth), cell in sorted(cells.items(), key=lambda c: (c[0][0] != "plain", c[0][1])):
        if not cell["halving"]:
            continue
        full_top = ranked(cell["full"])[: a.top]
        hb = next(iter(ranked(cell["halving"])), None)
        fb = next(iter(full_top), None)
        n = sum(s["state"] in finished for _, s, _ in cell["full"])
        stops = []
        for _, trial, _, run_id in full_top:
            h = halving.get(run_id)
            if h is None:
                stops.append(f"t{trial:03}: –")
            else:
                state = h[1]["state"]
                stops.append(f"t{trial:03}: {h[1]['epochs'] if state == 'stopped' else state}")
        show = lambda b: "–" if b is None else f"t{b[1]:03} ({b[2]:.3g})"
        same = "–" if hb is None or fb is None else ("yes" if hb[1] == fb[1] else "**no**")
        print(f"| {kind} | {depth} | {show(hb)} | {n} | {show(fb)} | {same} | {', '.join(stops)} |")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
