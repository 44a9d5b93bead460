#!/usr/bin/env python3
"""Writes the config that runs the best trials of a finished random search again with more seeds.

Usage: seed-rerun.py SWEEP_DIR [--top N] [--seeds 0,1,2] [--adopt] [--epochs E]
                     [--depths 10,20,100] [--name NAME]

Per (kind, depth), the N best trials (default 5), ranked as the report ranks them: done trials
by the lowest training loss they reached, ties by trial number. The config printed is the
sweep's own (`sweep.json`) named `<name>-seeds`, with `training.seeds` set and
`search.rerun` listing the chosen trials, so every run keeps the very setting the search drew
for it. With `--adopt`, the chosen trials' finished runs of the search's own seeds are copied
into `<output>/<name>-seeds/runs/` first: they have the same ids there, so the rerun sweep
skips them instead of training them again. `--epochs E` trains the chosen settings for E
epochs instead (new runs, so nothing is adopted), `--depths` keeps only those depths, and
`--name` names the sweep. Then run the config like any sweep:

    scripts/seed-rerun.py results/fig1-mnist-search --adopt > configs/fig1-mnist-search-seeds.json
    highway sweep configs/fig1-mnist-search-seeds.json --data-dir ../shared/data
    scripts/seed-rerun.py results/fig1-mnist-search --top 1 --seeds 0 --epochs 100 \
        --depths 10,20,100 --name fig1-mnist-best-long > configs/fig1-mnist-best-long.json
"""

import argparse
import csv
import json
import os
import shutil
import sys


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sweep")
    p.add_argument("--top", type=int, default=5)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--adopt", action="store_true")
    p.add_argument("--epochs", type=int)
    p.add_argument("--depths")
    p.add_argument("--name")
    a = p.parse_args()
    if a.adopt and a.epochs:
        sys.exit("--adopt with --epochs: runs of another length have other ids; nothing to adopt")
    sweep = json.load(open(os.path.join(a.sweep, "sweep.json")))
    config = sweep["config"]
    if not config.get("search"):
        sys.exit(f"{a.sweep}: not a random search (no search section)")
    cells = {}
    for spec in sweep["plan"]:
        run = os.path.join(a.sweep, "runs", spec["id"])
        try:
            state = json.load(open(os.path.join(run, "status.json")))["state"]
            rows = list(csv.DictReader(open(os.path.join(run, "curve.csv"))))
        except (OSError, ValueError, KeyError):
            continue
        losses = [float(r["train_loss"]) for r in rows]
        losses = [x for x in losses if x == x and abs(x) != float("inf")]
        if state != "done" or not losses:
            continue
        key = (spec["kind"], spec["depth"])
        cells.setdefault(key, []).append((min(losses), spec["trial"], spec, run))
    rerun = []
    chosen = []
    if a.depths:
        config["model"]["depths"] = [int(d) for d in a.depths.split(",")]
    for kind in config["model"]["kinds"]:
        for depth in config["model"]["depths"]:
            ranked = sorted(cells.get((kind, depth), []), key=lambda c: (c[0], c[1]))[: a.top]
            if ranked:
                rerun.append({"kind": kind, "depth": depth, "trials": [c[1] for c in ranked]})
                chosen += ranked
    seeds = [int(s) for s in a.seeds.split(",")]
    search = config["name"]
    config["name"] = a.name or search + "-seeds"
    epochs = a.epochs or config["training"]["epochs"]
    best = "The best trial" if a.top == 1 else f"The {a.top} best trials"
    config["notes"] = (f"{best} per (kind, depth) of the search '{search}', each run again "
                       f"with seeds {seeds} for {epochs} epochs (scripts/seed-rerun.py). "
                       "The search's own notes: " + config.get("notes", ""))
    config["training"]["seeds"] = seeds
    config["training"]["epochs"] = epochs
    config["search"]["rerun"] = rerun
    if a.adopt:
        runs = os.path.join(config["output"], config["name"], "runs")
        os.makedirs(runs, exist_ok=True)
        adopted = 0
        for _, _, spec, run in chosen:
            if spec["seed"] in seeds:
                target = os.path.join(runs, spec["id"])
                if not os.path.exists(target):
                    shutil.copytree(run, target)
                    adopted += 1
        print(f"adopted {adopted} finished runs into {runs}", file=sys.stderr)
    json.dump(config, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
