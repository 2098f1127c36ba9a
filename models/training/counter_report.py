"""Where a column counter errs: its confusion on the training set's validation columns, and how often
it says one pack too few or too many by how hidden the packs at the evaluation's 90 % line are (D42).

    /usr/bin/python3 models/training/counter_report.py [--models DIR]

Uses the training set that `npm run train` generates (made here too if missing, ~4 min) and the
counter in DIR (default models/). Read-only: nothing is trained or written besides the cache.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections import defaultdict

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import counter as column_counter  # noqa: E402
import train  # noqa: E402
from data import load_coco  # noqa: E402
from env_defaults import env_default, whole  # noqa: E402


def column_hiddenness(boxes: list[list[tuple]], idx: list[int], front_view: list[bool]) -> list[list[float]]:
    """Per column of column_counter.column_items (same order), how hidden each pack is, front first."""
    out = []
    for i in idx:
        if not front_view[i]:
            continue
        cols: dict[tuple, list[tuple]] = defaultdict(list)
        for _, _, e in boxes[i]:
            if e.get("kind") in ("product", "unknown") and "row" in e and "column" in e and "depth" in e:
                cols[(e["row"], e["column"])].append((e["depth"], e.get("occlusion", 0)))
        for packs in cols.values():
            packs.sort(key=lambda p: p[0])
            if any(o <= train.MAX_OCCLUSION for _, o in packs):
                out.append([o for _, o in packs])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=train.MODELS, help="folder with counter.onnx (default: models/)")
    args = ap.parse_args()
    path = os.path.join(args.models, "counter.onnx")
    if not os.path.isfile(path):
        ap.error(f"{path}: no such file")
    torch.set_num_threads(env_default(ap, "SHELFSIGHT_TRAIN_THREADS", os.cpu_count() or 1, whole(1)))
    root = os.path.join(train.CACHE, f"train-s{train.TRAIN_SEED}-n1600-mixed-mixed")
    train.ensure_dataset(root, 1600, train.TRAIN_SEED, "mixed", "mixed")
    samples = load_coco(root)
    key = hashlib.sha1(os.path.abspath(root).encode()).hexdigest()[:8]
    work, _, boxes = train.letterbox_cache(samples, key)
    n_val = max(2, len(samples) // 10)
    val_idx = list(range(len(samples) - n_val, len(samples)))
    front_view = column_counter.front_view_images(root)
    items = column_counter.column_items(boxes, val_idx, front_view, train.MAX_OCCLUSION)
    hidden = column_hiddenness(boxes, val_idx, front_view)
    assert len(hidden) == len(items)
    net = column_counter.counter_from_onnx(path)
    x, _ = column_counter.crops_u8(work, items, (net.width, net.height), None)
    pred = []
    with torch.no_grad():
        for k in range(0, len(items), 256):
            logits, _ = net(column_counter.to_tensor(x[k : k + 256], train.MEAN, train.STD))
            pred += logits.argmax(1).tolist()
    truth = [c for _, _, c, _ in items]
    n = column_counter.CLASSES
    conf = np.zeros((n, n), int)
    for t, p in zip(truth, pred):
        conf[t, p] += 1
    print(f"{path}: {len(items)} validation columns, {np.trace(conf) / conf.sum() * 100:.1f} % counted right")
    print("truth \\ counted " + " ".join(f"{k + 1:>6}" for k in range(n)))
    for t in range(n):
        print(f"{t + 1:>15} " + " ".join(f"{v:>6}" for v in conf[t]))
    # One pack too few, by how hidden the last pack that counts is; one too many, by how hidden the first
    # pack that does not count is (the evaluation's line: train.MAX_OCCLUSION).
    under, over = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
    for h, t, p in zip(hidden, truth, pred):
        counted = [o for o in h[1:] if o <= train.MAX_OCCLUSION]
        if counted:
            b = min(int(max(counted) * 50) / 50, 0.88)
            under[b][0] += 1
            under[b][1] += p < t
        beyond = [o for o in h[1:] if o > train.MAX_OCCLUSION]
        if beyond:
            b = min(int(min(beyond) * 50) / 50, 0.98)
            over[b][0] += 1
            over[b][1] += p > t
    print("last pack that counts, % hidden: columns, counted too few")
    for b in sorted(under):
        if b >= 0.7:
            c, e = under[b]
            print(f"  {b * 100:.0f}-{b * 100 + 2:.0f} %: {c:>5} columns, {e / c * 100:5.1f} % too few")
    print("first pack that does not count, % hidden: columns, counted too many")
    for b in sorted(over):
        c, e = over[b]
        print(f"  {b * 100:.0f}-{b * 100 + 2:.0f} %: {c:>5} columns, {e / c * 100:5.1f} % too many")


if __name__ == "__main__":
    main()
