"""Training-step speed of the three nets in fp32, channels-last fp32 and channels-last bf16 autocast.

    /usr/bin/python3 models/training/bench_precision.py [--rounds 5] [--steps 8] [--threads N]

Measures a forward + backward + AdamW step on random input of the training batch shapes (no data
loading), with the modes interleaved round by round so that a noisy neighbour hits them alike, and
prints each mode's median milliseconds per step and its speed-up over plain fp32 (decision D44).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpu_training  # noqa: E402
from env_defaults import env_default, whole  # noqa: E402
from nets import Counter, Detector, Embedder  # noqa: E402

# name -> (net factory, training batch shape NCHW, how the training loop runs it)
NETS = {
    "detector": (lambda: Detector(2), (8, 3, 256, 320), lambda m, x: m.logits(x)),
    "embedder": (lambda: Embedder(128, 32), (128, 3, 80, 40), lambda m, x: m.features(x)),
    "counter": (lambda: Counter(), (128, 3, 160, 64), lambda m, x: m(x)),
}
MODES = ("fp32", "fp32-channels-last", "bf16-channels-last")


def scalar(out) -> torch.Tensor:
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return sum(o.float().square().mean() for o in outs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=whole(1), default=5)
    ap.add_argument("--steps", type=whole(1), default=8, help="timed steps per mode and round")
    ap.add_argument(
        "--threads", type=whole(1), default=env_default(ap, "SHELFSIGHT_TRAIN_THREADS", os.cpu_count() or 1, whole(1))
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    bf16 = cpu_training.cpu_has_bf16()
    print(f"torch {torch.__version__}, {args.threads} thread(s), CPU bf16 arithmetic: {'yes' if bf16 else 'no (bf16 is emulated: slow)'}")
    print(f"{'net':9s} {'mode':19s} {'ms/step':>8s} {'items/s':>8s} {'speed-up':>8s}")
    for name, (make, shape, run) in NETS.items():
        setups = {}
        for mode in MODES:
            net = make()
            x = torch.randn(*shape)
            if mode.endswith("channels-last"):
                cpu_training.channels_last(net)
                x = cpu_training.batch(x)
            setups[mode] = (net.train(), x, torch.optim.AdamW(net.parameters(), 1e-3))
        times: dict[str, list[float]] = {m: [] for m in MODES}
        for r in range(args.rounds + 1):  # round 0 warms up oneDNN's kernels and is not counted
            for mode in MODES:
                net, x, opt = setups[mode]
                for _ in range(args.steps):
                    t = time.perf_counter()
                    with cpu_training.autocast("bf16" if mode.startswith("bf16") else "fp32"):
                        out = run(net, x)
                    loss = scalar(out)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    if r > 0:
                        times[mode].append(time.perf_counter() - t)
        base = statistics.median(times["fp32"])
        for mode in MODES:
            ms = statistics.median(times[mode])
            print(f"{name:9s} {mode:19s} {ms * 1000:8.1f} {shape[0] / ms:8.0f} {base / ms:7.2f}x", flush=True)


if __name__ == "__main__":
    main()
