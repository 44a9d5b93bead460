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
that vary across the plan in `sweep.json`, listed first, and carry Figure 1's panels: per
(kind, depth) the best run's training loss by epoch (finished runs ranked by the lowest loss
each reached) and the mean of the top 10 (of every run, with a loss at the epoch, in a sweep
that is not a search), recomputed here from the runs' files, with a custom scalars layout whose
charts match those tags. Then a TensorBoard server on 127.0.0.1 must list every run as an
HParams session whose metrics are the run's final and best training loss and its evaluation
accuracy, and its custom scalars plugin must serve the layout and each depth's chart. Exits
non-zero with a message naming the run and the value on the first mismatch.
"""

import csv
import glob
import json
import math
import os
import re
import sys
import urllib.parse
import urllib.request

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata as hp_metadata
from tensorboard.plugins.hparams import api_pb2
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.custom_scalar import metadata as cs_metadata
from tensorboard.util import tensor_util

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
TOP = 10


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
    """The HParams experiment and Figure 1's panels of the sweep's own event file; the depth
    charts of its layout, for the server to serve."""
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
    return check_panels(sweep, acc)


def run_losses(sweep, spec):
    """A run's state ("pending" before it starts) and training loss by epoch."""
    run_dir = os.path.join(sweep, "runs", spec["id"])
    status_path = os.path.join(run_dir, "status.json")
    state = json.load(open(status_path))["state"] if os.path.exists(status_path) else "pending"
    curve_path = os.path.join(run_dir, "curve.csv")
    curve = list(csv.DictReader(open(curve_path))) if os.path.exists(curve_path) else []
    return state, [(int(r["epoch"]), float(r["train_loss"])) for r in curve]


def mean_by_epoch(curves):
    """Per epoch (1, 2, ...): the mean of the finite losses there, as the report averages."""
    out = []
    for i in range(max((len(c) for c in curves), default=0)):
        v = [c[i][1] for c in curves if i < len(c) and math.isfinite(c[i][1])]
        if v:
            out.append((i + 1, sum(v) / len(v)))
    return out


def expected_panels(sweep):
    """Figure 1's curves by tag, recomputed from the runs' own files; the mean's name."""
    config = json.load(open(os.path.join(sweep, "sweep.json")))
    plan = config["plan"]
    search = any(spec.get("trial") is not None for spec in plan)
    halving = (config["config"].get("search") or {}).get("halving") is not None
    mean = f"top{TOP}_mean" if search else "mean"
    cells = {}
    for spec in plan:
        cells.setdefault((spec["kind"], spec["depth"]), []).append(run_losses(sweep, spec))
    want = {}
    for (kind, depth), runs in cells.items():
        finished = [c for state, c in runs if state == "done" and any(math.isfinite(v) for _, v in c)]
        ranked = sorted(finished, key=lambda c: min(v for _, v in c if math.isfinite(v)))
        tag = f"figure1/depth_{depth}/{kind}/"
        if ranked:
            want[tag + "best"] = ranked[0]
        if not search:
            chosen = [c for _, c in runs]
        elif halving and len(ranked) < TOP:
            chosen = []  # under successive halving: no top-10 mean for fewer trained through
        else:
            chosen = ranked[:TOP]
        if mean_by_epoch(chosen):
            want[tag + mean] = mean_by_epoch(chosen)
    return want, mean


def check_panels(sweep, acc):
    """Figure 1's scalars of the sweep's own event file, and the layout that charts them."""
    config = json.load(open(os.path.join(sweep, "sweep.json")))["config"]
    if config.get("grid"):
        print("check-tensorboard: a grid sweep: its per-point panels are not checked")
        return []
    want, mean = expected_panels(sweep)
    tags = sorted(t for t in acc.Tags()["scalars"] if t.startswith("figure1/"))
    if tags != sorted(want):
        fail(f"panels: tags {tags}, expected {sorted(want)}")
    for tag, points in want.items():
        got = [(e.step, e.value) for e in acc.Scalars(tag)]
        if [s for s, _ in got] != [s for s, _ in points] or not all(
                math.isclose(a, b, rel_tol=1e-6) for (_, a), (_, b) in zip(got, points)):
            fail(f"panels: {tag} = {got}, the runs' files give {points}")
    if not want:
        return []
    layout = layout_pb2.Layout.FromString(tensor_util.make_ndarray(
        acc.Tensors(cs_metadata.CONFIG_SUMMARY_TAG)[0].tensor_proto).item())
    charts = {c.title: list(c.chart) for c in layout.category}
    if list(charts) != ["Figure 1", "Figure 1 by depth"]:
        fail(f"layout: categories {list(charts)}")
    matched = lambda chart: sorted(t for t in tags if any(re.match(r, t) for r in chart.multiline.tag))
    for chart, stat in zip(charts["Figure 1"], ["best", mean]):
        if matched(chart) != [t for t in tags if t.endswith("/" + stat)]:
            fail(f"layout: chart {chart.title!r} matches {matched(chart)}")
    depths = sorted({int(t.split("/")[1][len("depth_"):]) for t in tags})
    for chart, depth in zip(charts["Figure 1 by depth"], depths):
        if matched(chart) != [t for t in tags if t.startswith(f"figure1/depth_{depth}/")]:
            fail(f"layout: chart {chart.title!r} matches {matched(chart)}")
    if len(charts["Figure 1 by depth"]) != len(depths):
        fail(f"layout: {len(charts['Figure 1 by depth'])} depth charts, depths {depths}")
    return [(c.multiline.tag[0], matched(c)) for c in charts["Figure 1 by depth"]]


def check_custom_scalars(url, depth_charts):
    """The custom scalars plugin serves the layout, and each depth chart's tags of run `.`."""
    if not depth_charts:
        return
    layout = json.load(urllib.request.urlopen(url + "data/plugin/custom_scalars/layout", timeout=60))
    titles = [c["title"] for c in layout.get("category", [])]
    if titles != ["Figure 1", "Figure 1 by depth"]:
        fail(f"server: custom scalars layout {titles}")
    for regex, tags in depth_charts:
        query = urllib.parse.urlencode({"run": ".", "tag": regex})
        got = json.load(urllib.request.urlopen(
            url + "data/plugin/custom_scalars/scalars?" + query, timeout=60))
        if not got.get("regex_valid") or sorted(got.get("tag_to_events", {})) != tags:
            fail(f"server: custom scalars {regex} gives {sorted(got.get('tag_to_events', {}))}")


def check_server(sweep, runs, depth_charts):
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
    check_custom_scalars(url, depth_charts)
    return len(groups)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sweep = sys.argv[1]
    run_dirs = sorted(glob.glob(os.path.join(sweep, "runs", "*")))
    if not run_dirs:
        fail(f"{sweep}: no runs")
    runs = [check_run(d) for d in run_dirs]
    depth_charts = check_experiment(sweep)
    sessions = check_server(sweep, runs, depth_charts)
    print(f"tensorboard ok: {len(runs)} runs, {sessions} HParams sessions")


if __name__ == "__main__":
    main()
