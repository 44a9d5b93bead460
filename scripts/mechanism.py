#!/usr/bin/env python3
"""What goes with a trial's final loss, across the trials of a random search: per (kind, depth),
from each run's `layers.csv` (runs whose statistics start at initialisation), the
first/last-layer gradient ratio at initialisation and after epoch 1 (how much of the weight
gradient reaches the input layer compared with the top layer: a vanishing gradient is a small
ratio), the mean share of dead units after epoch 1, and the last layer's output scale (std) at
initialisation and after epoch 1; and how each of them ranks with the final training loss
(Spearman's rho over the cell's finished trials; diverged trials count as the worst loss).

It then splits each cell's trials by the gradient ratio after epoch 1 (below 0.01, 0.01-1,
above 1) and gives how many of each trained (final loss below 0.1, the report's threshold).
A vanishing gradient explains a cell's failures only where failing trials have small ratios
and trained ones do not. Last, it splits them by the initial learning rate (below 0.01 and
from 0.01): how many had a vanishing ratio after epoch 1 (below 0.01), how many ended near
chance (final loss above 2.0, or diverged) and how many trained, and the ratio and output
scale at initialisation (every trial of one kind, depth and activation starts from the same
weights, so in plain nets these differ only by activation): whether a gradient vanishes from
the start or because of what the first epoch did. For highway nets, whose starting signal
depends on b_T, it also splits the trials by the last layer's output std at initialisation
(below 0.01 and from 0.01), with the range of b_T in each part.

Usage: scripts/mechanism.py results/SWEEP
"""
import csv
import json
import math
import sys
from pathlib import Path

TRAINED = 0.1
NEAR_CHANCE = 2.0
LR_SPLIT = 0.01
STD_SPLIT = 0.01
VANISHED = 0.01
RATIO_BINS = [(0.0, VANISHED), (VANISHED, 1.0), (1.0, math.inf)]


def ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2
        i = j + 1
    return r


def spearman(x, y):
    if len(x) < 3:
        return None
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sx = math.sqrt(sum((a - mx) ** 2 for a in rx))
    sy = math.sqrt(sum((b - my) ** 2 for b in ry))
    return sxy / (sx * sy) if sx and sy else None


def features(run):
    """The run's statistics at initialisation and after epoch 1; None without both."""
    path = run / "layers.csv"
    if not path.exists():
        return None
    by_epoch = {}
    for row in csv.DictReader(open(path)):
        by_epoch.setdefault(int(row["epoch"]), []).append(row)
    if 0 not in by_epoch or 1 not in by_epoch:
        return None
    f = {}
    for e in (0, 1):
        layers = sorted(by_epoch[e], key=lambda r: int(r["layer"]))
        first, last = float(layers[0]["grad_w"]), float(layers[-1]["grad_w"])
        f[f"ratio{e}"] = first / last if last > 0 else math.inf
        f[f"out_std{e}"] = float(layers[-1]["out_std"])
    layers = by_epoch[1]
    f["dead1"] = sum(float(r["dead"]) for r in layers) / len(layers)
    return f


def final_loss(run):
    state = json.load(open(run / "status.json"))["state"]
    if state == "diverged":
        return math.inf
    if state != "done":
        return None
    rows = list(csv.DictReader(open(run / "curve.csv")))
    return float(rows[-1]["train_loss"]) if rows else None


def fmt(x):
    return "–" if x is None else f"{x:+.2f}"


def split(rows, stat, threshold):
    """A cell's (loss, features) rows in two parts, by `stat` below and from `threshold`, each
    with its name."""
    for name, low in ((f"< {threshold:g}", True), (f"≥ {threshold:g}", False)):
        yield name, [(l, f) for l, f in rows if (f[stat] < threshold) == low]


def outcomes(part):
    """The table cells of how a part ended: near chance or diverged, and trained."""
    return (f"{sum(l > NEAR_CHANCE for l, _ in part)} | "
            f"{sum(l < TRAINED for l, _ in part)}")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sweep = Path(sys.argv[1])
    plan = json.load(open(sweep / "sweep.json"))["plan"]
    cells = {}
    for spec in plan:
        run = sweep / "runs" / spec["id"]
        if not (run / "status.json").exists():
            continue
        loss, f = final_loss(run), features(run)
        if loss is None or f is None:
            continue
        f["lr"] = spec["training"]["lr"]
        f["gate_bias"] = spec["model"].get("gate_bias")
        cells.setdefault((spec["kind"], spec["depth"]), []).append((loss, f))
    names = ["ratio0", "ratio1", "dead1", "out_std0", "out_std1"]
    print("Spearman's rho of each statistic with the final training loss (positive: larger "
          "values go with higher loss)\n")
    print("| kind | depth | trials | " + " | ".join(names) + " | median ratio1, trained | "
          "median ratio1, not trained |")
    print("|---|---:|---:|" + "---:|" * len(names) + "---:|---:|")
    kinds = {"plain": 0, "highway": 1}
    ordered = sorted(cells.items(), key=lambda c: (kinds[c[0][0]], c[0][1]))
    for (kind, depth), rows in ordered:
        losses = [min(l, 1e9) for l, _ in rows]
        rhos = [spearman([f[n] for _, f in rows], losses) for n in names]
        good = sorted(f["ratio1"] for l, f in rows if l < TRAINED)
        bad = sorted(f["ratio1"] for l, f in rows if l >= TRAINED)
        med = lambda v: f"{v[len(v) // 2]:.3g}" if v else "–"
        print(f"| {kind} | {depth} | {len(rows)} | " + " | ".join(fmt(r) for r in rhos)
              + f" | {med(good)} | {med(bad)} |")
    print("\nTrials that trained (final loss below 0.1), by the first/last gradient ratio "
          "after epoch 1\n")
    print("| kind | depth | " + " | ".join(f"ratio in [{lo:g}, {hi:g})" for lo, hi in RATIO_BINS)
          + " |")
    print("|---|---:|" + "---:|" * len(RATIO_BINS))
    for (kind, depth), rows in ordered:
        parts = []
        for lo, hi in RATIO_BINS:
            inside = [l for l, f in rows if lo <= f["ratio1"] < hi]
            parts.append(f"{sum(l < TRAINED for l in inside)} of {len(inside)}")
        print(f"| {kind} | {depth} | " + " | ".join(parts) + " |")
    print(f"\nBy the initial learning rate: trials whose gradient ratio after epoch 1 vanished "
          f"(< {VANISHED:g}), that ended near chance (> {NEAR_CHANCE}) or diverged, that trained "
          f"(< {TRAINED}); range of the ratio and of the output std at initialisation\n")
    print("| kind | depth | lr | trials | vanished after epoch 1 | near chance or diverged | "
          "trained | ratio at init | output std at init |")
    print("|---|---:|---|---:|---:|---:|---:|---|---|")
    span = lambda v: "–" if not v else (
        f"{min(v):.3g}" if min(v) == max(v) else f"{min(v):.3g}–{max(v):.3g}")
    for (kind, depth), rows in ordered:
        for name, part in split(rows, "lr", LR_SPLIT):
            print(f"| {kind} | {depth} | {name} | {len(part)} | "
                  f"{sum(f['ratio1'] < VANISHED for _, f in part)} | {outcomes(part)} | "
                  f"{span([f['ratio0'] for _, f in part])} | "
                  f"{span([f['out_std0'] for _, f in part])} |")
    print(f"\nHighway nets by the output std at initialisation: trials that ended near chance "
          f"(> {NEAR_CHANCE}) or diverged, that trained (< {TRAINED}); the range of b_T\n")
    print("| depth | output std at init | trials | near chance or diverged | trained | b_T |")
    print("|---:|---|---:|---:|---:|---|")
    for (kind, depth), rows in ordered:
        if kind != "highway":
            continue
        for name, part in split(rows, "out_std0", STD_SPLIT):
            gates = [f["gate_bias"] for _, f in part]
            print(f"| {depth} | {name} | {len(part)} | {outcomes(part)} | "
                  + ("–" if not gates else f"{min(gates):.2f} to {max(gates):.2f}") + " |")


if __name__ == "__main__":
    main()
