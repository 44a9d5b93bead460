#!/usr/bin/env python3
"""Where in a random search's space the trials train: per (kind, depth), the trials that
trained (final training loss below 0.1, the threshold of `highway report`'s trainability
table) by learning rate (below or from 0.01), by activation and, for highway nets, by the
starting b_T (the bins of the sensitivity figure), over all trials and over those with
lr >= 0.01. Reads the sweep's summary.csv.

Usage: scripts/search-breakdown.py results/SWEEP
"""
import csv
import sys
from pathlib import Path

TRAINED = 0.1
NEAR_CHANCE = 2.0
GATE_BINS = [(-10.0, -7.0), (-7.0, -4.0), (-4.0, -1.0)]


def trained(r):
    return r["state"] == "done" and float(r["final_train_loss"]) < TRAINED


def near_chance(r):
    return r["state"] == "done" and float(r["final_train_loss"]) > NEAR_CHANCE


def cell(rs):
    n = sum(trained(r) for r in rs)
    notes = []
    chance = sum(near_chance(r) for r in rs)
    if chance:
        notes.append(f"{chance} near chance")
    diverged = sum(r["state"] == "diverged" for r in rs)
    if diverged:
        notes.append(f"{diverged} diverged")
    return f"{n}/{len(rs)}" + (f" ({', '.join(notes)})" if notes else "")


def in_bin(b, lo, hi):
    # The last bin holds its upper end, as in the report.
    return lo <= b < hi or (hi == GATE_BINS[-1][1] and b == hi)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    path = Path(sys.argv[1]) / "summary.csv"
    try:
        rows = list(csv.DictReader(path.open()))
    except OSError as e:
        sys.exit(f"{path}: {e.strerror}; run `highway report {sys.argv[1]}` first")
    groups = {}
    for r in rows:
        groups.setdefault((r["kind"], int(r["depth"])), []).append(r)
    print(f"Trials with final training loss < {TRAINED}, of the trials in each part of the space.\n")
    print("| kind | depth | lr < 0.01 | lr ≥ 0.01 | relu | tanh | " + " | ".join(
        f"b_T in [{lo:g}, {hi:g})" for lo, hi in GATE_BINS) + " |")
    print("|---|---:|" + "---:|" * (4 + len(GATE_BINS)))
    kinds = {"plain": 0, "highway": 1}
    for (kind, depth), rs in sorted(groups.items(), key=lambda g: (kinds.get(g[0][0], 2), g[0][1])):
        cells = [
            cell([r for r in rs if float(r["lr"]) < 0.01]),
            cell([r for r in rs if float(r["lr"]) >= 0.01]),
            cell([r for r in rs if r["activation"] == "relu"]),
            cell([r for r in rs if r["activation"] == "tanh"]),
        ]
        for lo, hi in GATE_BINS:
            part = [r for r in rs if in_bin(float(r["gate_bias"]), lo, hi)]
            cells.append(cell(part) if kind == "highway" else "–")
        print(f"| {kind} | {depth} | " + " | ".join(cells) + " |")
    # Small learning rates are still training after a short budget: the b_T bins again, over the
    # trials with lr >= 0.01 only, so that the two causes do not mix.
    print("\nHighway nets with lr ≥ 0.01 only, by starting b_T.\n")
    print("| depth | " + " | ".join(f"b_T in [{lo:g}, {hi:g})" for lo, hi in GATE_BINS) + " |")
    print("|---:|" + "---:|" * len(GATE_BINS))
    for (kind, depth), rs in sorted(groups.items()):
        if kind != "highway":
            continue
        fast = [r for r in rs if float(r["lr"]) >= 0.01]
        cells = [cell([r for r in fast if in_bin(float(r["gate_bias"]), lo, hi)]) for lo, hi in GATE_BINS]
        print(f"| {depth} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
