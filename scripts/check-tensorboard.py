#!/usr/bin/env python3
"""Checks a sweep folder's TensorBoard files with TensorBoard's own readers.

Usage: check-tensorboard.py SWEEP_DIR

For every run folder: `EventAccumulator` must load the event file, and each epoch's scalars must
equal `curve.csv` (every step once, no step missing), the per-layer summaries must be there for
every epoch when `layers.csv` is, and the HParams plugin's session start (exactly one, also in
a resumed run) and end must hold every hyperparameter the experiment declares (a plain net's
`gate_bias` is 0, as in `summary.csv`: a run missing one drops out of TensorBoard's
parallel-coordinates view) with the run's values from `spec.json`, and its final state. At the
sweep's root the HParams experiment must declare them, marking as differing exactly those
that vary across the plan in `sweep.json`, listed first. Then a TensorBoard server on 127.0.0.1 must list every run as an
HParams session whose metrics are the run's final and best training loss and its evaluation
accuracy. Exits non-zero with a message naming the run and the value on the first mismatch.
"""

import csv
import glob
import json
import math
import os
import sys
import urllib.request

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata as hp_metadata
from tensorboard.plugins.hparams import api_pb2

EVERYTHING = {"scalars": 0, "histograms": 0, "tensors": 0}
CURVE_TAGS = {
    "train/loss": "train_loss",
    "train/accuracy": "train_acc",
    "eval/loss": "eval_loss",
    "eval/accuracy": "eval_acc",
    "lr": "lr",
}
LAYER_SCALARS = ["layers/grad_w/first", "layers/grad_w/last", "layers/grad_out/first",
                 "layers/grad_out/last", "layers/dead_fraction"]
LAYER_HISTOGRAMS = ["layers/log10_grad_w", "layers/log10_grad_out"]
METRICS = ["train/loss", "train/best_loss", "eval/accuracy"]


def fail(message):
    sys.exit(f"check-tensorboard: {message}")


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-30)


def check_scalars(name, run_dir, acc, curve):
    """The curve's scalars at every epoch, once each, and the layer statistics."""
    tags = acc.Tags()
    epochs = [int(r["epoch"]) for r in curve]
    for tag, column in CURVE_TAGS.items():
        events = acc.Scalars(tag)
        steps = [e.step for e in events]
        if steps != epochs:
            fail(f"{name}: {tag} at steps {steps}, curve.csv has epochs {epochs}")
        for e, row in zip(events, curve):
            # The event file holds float32: compare with the CSV value rounded to float32.
            want = float(row[column])
            if not math.isclose(e.value, want, rel_tol=1e-6, abs_tol=1e-6):
                fail(f"{name}: {tag} step {e.step} = {e.value}, curve.csv {want}")
    best = [e.value for e in acc.Scalars("train/best_loss")]
    running = [min(float(r["train_loss"]) for r in curve[: i + 1]) for i in range(len(curve))]
    if any(not math.isclose(a, b, rel_tol=1e-6) for a, b in zip(best, running)) or len(best) != len(running):
        fail(f"{name}: train/best_loss {best} is not the running minimum {running}")
    if os.path.exists(os.path.join(run_dir, "layers.csv")):
        # Layer statistics: at every epoch layers.csv has (at initialisation, step 0, and after
        # every epoch, unless the run began under a build that recorded none).
        layers = list(csv.DictReader(open(os.path.join(run_dir, "layers.csv"))))
        layer_steps = sorted({int(r["epoch"]) for r in layers})
        for tag in LAYER_SCALARS:
            if tag not in tags["scalars"] or [e.step for e in acc.Scalars(tag)] != layer_steps:
                fail(f"{name}: {tag} missing or not at steps {layer_steps}")
        for tag in LAYER_HISTOGRAMS:
            if tag not in tags["histograms"] or [e.step for e in acc.Histograms(tag)] != layer_steps:
                fail(f"{name}: histogram {tag} missing or not at steps {layer_steps}")
        last = [r for r in layers if int(r["epoch"]) == epochs[-1]]
        got = acc.Scalars("layers/grad_w/first")[-1].value
        if not math.isclose(got, float(last[0]["grad_w"]), rel_tol=1e-6):
            fail(f"{name}: layers/grad_w/first {got} vs layers.csv {last[0]['grad_w']}")
        histo = acc.Histograms("layers/log10_grad_w")[-1].histogram_value
        # A layer whose gradient is exactly 0 (all units dead) has no logarithm to show.
        positive = sum(float(r["grad_w"]) > 0 for r in last)
        if int(histo.num) != positive:
            fail(f"{name}: the gradient histogram has {histo.num} layers, layers.csv {positive} "
                 f"with a gradient")


def hparams(spec):
    """A run's hyperparameters as the HParams view must show them, from its plan entry."""
    model, training = spec["model"], spec["training"]
    h = {
        "kind": spec["kind"], "depth": spec["depth"], "width": model["width"],
        "activation": model["activation"], "lr": training["lr"],
        "momentum": training["momentum"], "lr_decay": training["lr_decay"],
        "batch_size": training["batch_size"], "seed": spec["seed"],
        # Plain nets have no gate: 0 in the plan and in summary.csv.
        "gate_bias": model["gate_bias"],
    }
    if spec.get("trial") is not None:
        h["trial"] = spec["trial"]
    return h


def check_run(run_dir):
    name = os.path.basename(run_dir)
    spec = json.load(open(os.path.join(run_dir, "spec.json")))["run"]
    status = json.load(open(os.path.join(run_dir, "status.json")))
    curve_path = os.path.join(run_dir, "curve.csv")
    # A run that diverged in its first epoch has no epoch to show.
    curve = list(csv.DictReader(open(curve_path))) if os.path.exists(curve_path) else []
    acc = EventAccumulator(run_dir, size_guidance=EVERYTHING)
    acc.Reload()
    if curve:
        check_scalars(name, run_dir, acc, curve)
    elif "train/loss" in acc.Tags()["scalars"]:
        fail(f"{name}: scalars but no curve.csv rows")
    if hp_metadata.SESSION_START_INFO_TAG not in acc.summary_metadata:
        fail(f"{name}: no HParams session start")
    starts = acc.Tensors(hp_metadata.SESSION_START_INFO_TAG)
    if len(starts) != 1:
        fail(f"{name}: {len(starts)} HParams session starts")
    start = hp_metadata.parse_session_start_info_plugin_data(
        acc.SummaryMetadata(hp_metadata.SESSION_START_INFO_TAG).plugin_data.content)
    h = {k: (v.string_value if v.HasField("string_value") else v.number_value)
         for k, v in start.hparams.items()}
    want = hparams(spec)
    for k, v in want.items():
        got = h.get(k)
        same = got == v if isinstance(v, str) else got is not None and math.isclose(got, v, rel_tol=1e-6)
        if not same:
            fail(f"{name}: hparam {k} = {got!r}, spec.json {v!r}")
    end = hp_metadata.parse_session_end_info_plugin_data(
        acc.SummaryMetadata(hp_metadata.SESSION_END_INFO_TAG).plugin_data.content)
    want_status = {"done": api_pb2.STATUS_SUCCESS, "diverged": api_pb2.STATUS_FAILURE}[status["state"]]
    if end.status != want_status:
        fail(f"{name}: session end status {end.status}, state {status['state']}")
    if not curve:
        return name, None, None
    if set(h) != set(want):
        fail(f"{name}: hparams {sorted(h)}, expected {sorted(want)}")
    return name, float(curve[-1]["train_loss"]), float(curve[-1]["eval_acc"])


def check_experiment(sweep):
    acc = EventAccumulator(sweep, size_guidance=EVERYTHING)
    acc.Reload()
    experiment = hp_metadata.parse_experiment_plugin_data(
        acc.SummaryMetadata(hp_metadata.EXPERIMENT_TAG).plugin_data.content)
    names = {h.name for h in experiment.hparam_infos}
    for n in ["kind", "depth", "width", "activation", "lr", "momentum", "lr_decay", "gate_bias", "seed", "trial"]:
        if n not in names:
            fail(f"experiment: no hparam {n}")
    plan = json.load(open(os.path.join(sweep, "sweep.json")))["plan"]
    values = {}
    for spec in plan:
        h = hparams(spec)
        for n in names:
            values.setdefault(n, set()).add(h.get(n))
    varying = {n for n, v in values.items() if len(v) > 1}
    differs = [h.name for h in experiment.hparam_infos if h.differs]
    if set(differs) != varying:
        fail(f"experiment: differing hparams {sorted(differs)}, the plan varies {sorted(varying)}")
    order = [h.differs for h in experiment.hparam_infos]
    if order != sorted(order, reverse=True):
        fail(f"experiment: differing hparams are not listed first: {[h.name for h in experiment.hparam_infos]}")
    tags = [m.name.tag for m in experiment.metric_infos]
    if tags != METRICS:
        fail(f"experiment: metrics {tags}")


def check_server(sweep, runs):
    from tensorboard import program
    tb = program.TensorBoard()
    tb.configure(argv=[None, "--logdir", sweep, "--host", "127.0.0.1", "--port", "0",
                       "--reload_interval", "0"])
    url = tb.launch()
    request = {
        "experimentName": "",
        "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
        "colParams": [{"hparam": "kind"}] + [{"metric": {"group": "", "tag": t}} for t in METRICS],
        "startIndex": 0,
        "sliceSize": 1000,
    }
    post = urllib.request.Request(url + "data/plugin/hparams/session_groups",
                                  data=json.dumps(request).encode(),
                                  headers={"Content-Type": "application/json"})
    groups = json.load(urllib.request.urlopen(post, timeout=60))["sessionGroups"]
    seen = {}
    for g in groups:
        metrics = {m["name"]["tag"]: m["value"] for m in g["metricValues"]}
        seen[os.path.basename(g["name"])] = metrics
    for name, final_loss, eval_acc in runs:
        m = seen.get(name)
        if m is None:
            fail(f"server: no HParams session for {name} (sessions: {sorted(seen)})")
        if final_loss is None:
            continue
        if not math.isclose(m["train/loss"], final_loss, rel_tol=1e-6) or \
                not math.isclose(m["eval/accuracy"], eval_acc, rel_tol=1e-6):
            fail(f"server: {name} metrics {m}, curve.csv {final_loss}, {eval_acc}")
    return len(groups)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sweep = sys.argv[1]
    run_dirs = sorted(glob.glob(os.path.join(sweep, "runs", "*")))
    if not run_dirs:
        fail(f"{sweep}: no runs")
    runs = [check_run(d) for d in run_dirs]
    check_experiment(sweep)
    sessions = check_server(sweep, runs)
    print(f"tensorboard ok: {len(runs)} runs, {sessions} HParams sessions")


if __name__ == "__main__":
    main()
