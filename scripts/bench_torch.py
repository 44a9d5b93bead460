#!/usr/bin/env python3
"""PyTorch reference for `highway bench`: the same nets, the same step, the same report.

input -> plain input layer (ReLU) -> depth-1 highway (width 50, b_T = -2), plain (width 71) or
residual (width 71, x + a*relu(W x + b), a learned and started at 0) layers -> 10 logits; batch 128, float32, SGD with momentum 0.9 (dampening 0), random data.
Prints one JSON object per net with steps_per_s (from the median step), ms_per_step and
peak_rss_mib, the same keys as `highway bench --json`.

    pip install torch --index-url https://download.pytorch.org/whl/cpu   # or plain `pip install torch`
    python3 scripts/bench_torch.py --kind highway --depth 100 --threads 2
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Highway(nn.Module):
    def __init__(self, width, gate_bias):
        super().__init__()
        self.h = nn.Linear(width, width)
        self.t = nn.Linear(width, width)
        nn.init.constant_(self.t.bias, gate_bias)

    def forward(self, x):
        h = F.relu(self.h(x))
        t = torch.sigmoid(self.t(x))
        return x + t * (h - x)


class Residual(nn.Module):
    def __init__(self, width, alpha):
        super().__init__()
        self.f = nn.Linear(width, width)
        self.alpha = nn.Parameter(torch.tensor([alpha]))

    def forward(self, x):
        return x + self.alpha * F.relu(self.f(x))


def hidden(kind, width):
    if kind == "highway":
        return [Highway(width, -2.0)]
    if kind == "residual":
        return [Residual(width, 0.0)]
    return [nn.Linear(width, width), nn.ReLU()]


def net(kind, depth, width, inp, classes):
    layers = [nn.Linear(inp, width), nn.ReLU()]
    for _ in range(depth - 1):
        layers += hidden(kind, width)
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kind", choices=["highway", "plain", "residual"], default="highway")
    p.add_argument("--depth", type=int, default=10)
    p.add_argument("--width", type=int)
    p.add_argument("--input", type=int, default=3072)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--flush-denormal", action="store_true", help="torch.set_flush_denormal(True), as `highway` does")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.flush_denormal:
        torch.set_flush_denormal(True)
    torch.manual_seed(0)
    width = a.width or (50 if a.kind == "highway" else 71)
    model = net(a.kind, a.depth, width, a.input, 10).to(a.device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(a.batch, a.input, device=a.device)
    y = torch.randint(0, 10, (a.batch,), device=a.device)
    times = []
    loss = float("nan")
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        out = F.cross_entropy(model(x), y)
        out.backward()
        opt.step()
        loss = out.item()  # a host read per step, as `highway bench` does
        if i >= a.warmup:
            times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({
        "kind": a.kind, "depth": a.depth, "width": width, "input": a.input, "batch": a.batch,
        "steps": a.steps, "backend": f"torch-{a.device}", "threads": a.threads, "flush_denormal": a.flush_denormal,
        "steps_per_s": 1e3 / median, "ms_per_step": median, "mean_ms_per_step": sum(times) / len(times),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, "final_loss": loss,
    }))


if __name__ == "__main__":
    main()
