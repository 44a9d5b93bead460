#!/usr/bin/env python3
"""Load a `model.safetensors` written by `highway` and evaluate it on the MNIST (or
Fashion-MNIST) test set with NumPy alone: the reference for using trained nets from Python.

    pip install numpy safetensors
    highway sweep configs/analysis-mnist.json --data-dir ../shared/data   # writes the model
    python3 scripts/load_model.py results/analysis-mnist/runs/highway-d50-s0-e359e8f6/model.safetensors \
        --data-dir ../shared/data/mnist

The data must be preprocessed as the run's config said; this script does `scale` (pixels / 255),
the default. It prints the test accuracy and loss that the run's `status.json` records (for the
model results/analysis-mnist was made with: 0.9720 and 0.1955).
"""
import argparse
import glob
import gzip
import json

import numpy as np
from safetensors import safe_open


def idx(path):
    raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(raw[3])]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * raw[3]).reshape(dims)


def forward(x, config, w):
    """Class logits. Weights are [fan_in, fan_out]: a layer computes x @ W + b."""
    act = np.tanh if config["activation"] == "tanh" else (lambda z: np.maximum(z, 0))
    h = act(x @ w["input.weight"] + w["input.bias"])
    for i in range(config["depth"] - 1):
        if config["kind"] == "highway":
            H = act(h @ w[f"highway.{i}.w_h"] + w[f"highway.{i}.b_h"])
            T = 1 / (1 + np.exp(-(h @ w[f"highway.{i}.w_t"] + w[f"highway.{i}.b_t"])))
            h = h + T * (H - h)
        else:
            h = act(h @ w[f"plain.{i}.weight"] + w[f"plain.{i}.bias"])
    return h @ w["output.weight"] + w["output.bias"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--data-dir", required=True, help="folder with t10k-images/labels (IDX)")
    a = p.parse_args()
    with safe_open(a.model, framework="numpy") as f:
        config = json.loads(f.metadata()["model"])
        w = {k: f.get_tensor(k) for k in f.keys()}
    x = idx(glob.glob(a.data_dir + "/t10k-images*")[0]).astype(np.float32)
    x = x.reshape(len(x), -1) / 255.0
    y = idx(glob.glob(a.data_dir + "/t10k-labels*")[0])
    logits = forward(x, config, w)
    z = logits - logits.max(1, keepdims=True)
    loss = -(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(1))).mean()
    print(f"{config['kind']} depth {config['depth']}: test accuracy {(logits.argmax(1) == y).mean():.4f}, test loss {loss:.4f}")


if __name__ == "__main__":
    main()
