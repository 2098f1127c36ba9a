"""Column counter: how many packs stand in a shelf column, read from the front pack's neighbourhood.

The detector sees a column's back packs as slivers above the front pack, a few pixels apart at its
640x480 input, and now and then puts two boxes on one pack. The counter looks at the column in the
1280x960 work image (twice the detector's pixels) and says how many packs it holds; the edge agent
(edge-agent/src/recognition/recount.ts) drops a column's weakest surplus boxes when the counter is sure,
and adds the packs it counts but the detector missed, where back_boxes says such packs show.
Trained on truth front packs with box jitter that imitates the detector's error; measured on the
detector's own front boxes it scores as well as on truth boxes (see the model card).
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict

import numpy as np
import torch
import torch.nn.functional as F

from data import sample_crop
from nets import Counter

COUNTER_W, COUNTER_H = 64, 160
# The crop round a front pack's box (x, y, w, h), in box widths and heights: packs further back show
# above the front pack and up to a third of a width beside it (measured on the training set).
REGION = {"left": 0.4, "up": 0.6, "width": 1.8, "height": 1.6}
CLASSES = 4  # 1, 2, 3 and "4 or more" packs: an upright cooler shelf here is at most 4 packs deep
# recount.ts acts on a column only at this softmax probability or more: chosen on the tuning sets
# (seeds 8001-8003), where it traded the fewest true back packs for the most double boxes removed.
MIN_CONFIDENCE = 0.8
# A column below MIN_CONFIDENCE still loses boxes while P(packs >= boxes) < dropBelow and gains one pack
# where P(packs >= boxes + 1) >= addFrom (recount.ts; D35, chosen on the tuning sets 8001-8003).
UNSURE = {"dropBelow": 0.1, "addFrom": 0.7}


def front_view_images(root: str) -> list[bool]:
    """Per image of the COCO set (in file order): is it a front view (upright cooler or shelf)?"""
    with open(os.path.join(root, "annotations.json"), encoding="utf-8") as f:
        coco = json.load(f)
    default = (coco.get("info") or {}).get("fixture", "upright")
    return [im.get("fixture", default) != "chest" for im in coco["images"]]


def column_items(
    boxes: list[list[tuple]], idx: list[int], front_view: list[bool], max_occlusion: float
) -> list[tuple[int, tuple, int]]:
    """(image, front pack box in work pixels, class = packs - 1) for every stocked column of front views.

    A pack hidden more than `max_occlusion` is not counted: the evaluation ignores it too.
    """
    items = []
    for i in idx:
        if not front_view[i]:
            continue
        cols: dict[tuple, list[tuple]] = defaultdict(list)
        for _, b, e in boxes[i]:
            if e.get("kind") in ("product", "unknown") and "row" in e and "column" in e and "depth" in e:
                cols[(e["row"], e["column"])].append((e["depth"], b, e.get("occlusion", 0)))
        for packs in cols.values():
            packs.sort(key=lambda p: p[0])
            n = sum(1 for p in packs if p[2] <= max_occlusion)
            if n > 0:
                items.append((i, packs[0][1], min(n, CLASSES) - 1))
    return items


def back_boxes(samples, idx: list[int], front_view: list[bool], max_occlusion: float) -> list[dict]:
    """Where the k-th pack behind a column's front pack shows (k = 1 .. CLASSES - 1), relative to the
    front pack's box, over the training columns: offset of the visible part in front-box widths and
    heights, and size as a share of the front box's (medians). Seen through a wide lens, packs further
    back shift toward the image centre, so the x offset is fitted as dx + dxPerX * (front centre x /
    image width - 0.5) (least-squares slope, median intercept). recount.ts places the packs the
    detector missed there. Packs hidden more than `max_occlusion` are left out, as in column_items.
    `samples`: data.Sample objects (boxes in their own pixels).
    """
    rel: dict[int, list[tuple]] = defaultdict(list)
    for i in idx:
        if not front_view[i]:
            continue
        cols: dict[tuple, list[tuple]] = defaultdict(list)
        for o in samples[i].objs:
            e = o.extra
            if e.get("kind") in ("product", "unknown") and "row" in e and "column" in e and "depth" in e:
                cols[(e["row"], e["column"])].append((e["depth"], o.box, e.get("occlusion", 0)))
        for packs in cols.values():
            packs.sort(key=lambda p: p[0])
            fx, fy, fw, fh = packs[0][1]
            if fw <= 0 or fh <= 0:
                continue
            u = (fx + fw / 2) / samples[i].width - 0.5
            seen = [p for p in packs[1:] if p[2] <= max_occlusion]
            for k, (_, (x, y, w, h), _) in enumerate(seen[: CLASSES - 1], start=1):
                rel[k].append(((x - fx) / fw, (y - fy) / fh, w / fw, h / fh, u))
    out = []
    for k in range(1, CLASSES):
        if len(rel[k]) < 2:
            break
        a = np.array(rel[k])
        slope = float(np.polyfit(a[:, 4], a[:, 0], 1)[0])
        dx = float(np.median(a[:, 0] - slope * a[:, 4]))
        dy, w, h = (float(v) for v in np.median(a[:, 1:4], axis=0))
        out.append({"dx": round(dx, 4), "dy": round(dy, 4), "w": round(w, 4), "h": round(h, 4), "dxPerX": round(slope, 4)})
    return out


def region(box: tuple) -> tuple:
    x, y, w, h = box
    return (x - REGION["left"] * w, y - REGION["up"] * h, REGION["width"] * w, REGION["height"] * h)


def crops_u8(work: np.ndarray, items: list[tuple[int, tuple, int]], rng: np.random.Generator | None, log=None) -> np.ndarray:
    """The counter's crop of every item as uint8 HWC; with `rng`, boxes jittered as the detector's are."""
    out = np.empty((len(items), COUNTER_H, COUNTER_W, 3), np.uint8)
    t0 = time.time()
    for n, (i, box, _) in enumerate(items):
        x, y, w, h = box
        if rng is not None:  # the detector's front boxes are off by a few percent
            j = rng.uniform(-0.06, 0.06, 4)
            x, y, w, h = x + j[0] * w, y + j[1] * h, w * (1 + j[2]), h * (1 + j[3])
        out[n] = np.clip(np.rint(sample_crop(work[i], region((x, y, w, h)), COUNTER_W, COUNTER_H)), 0, 255)
        if log and ((n + 1) % 20000 == 0 or n + 1 == len(items)):
            log(f"counter crops {n + 1}/{len(items)} ({(n + 1) / (time.time() - t0):.0f} crops/s)")
    return out


def to_tensor(x: np.ndarray, mean, std) -> torch.Tensor:
    t = torch.from_numpy(x).float().div_(255.0).permute(0, 3, 1, 2)
    return (t - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def train_counter(work, items, steps: int, mean, std, log, batch: int = 128, lr: float = 2e-3, jitters: int = 2) -> Counter:
    rng = np.random.default_rng(3)
    # Crops cut once, each column at `jitters` jittered boxes: cutting them per step would take longer
    # than the training step itself.
    x_all = crops_u8(work, items * jitters, rng, log)
    labels = torch.tensor([c for _, _, c in items] * jitters)
    net = Counter(CLASSES)
    opt = torch.optim.AdamW(net.parameters(), lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.1)
    t0, run = time.time(), 0.0
    net.train()
    for step in range(1, steps + 1):
        pick = rng.integers(0, len(x_all), batch)
        x = to_tensor(x_all[pick], mean, std)
        if rng.random() < 0.5:  # a column's count does not change in a mirror
            x = x.flip(3)
        x = x * torch.empty(batch, 1, 1, 1).uniform_(0.7, 1.3) + torch.empty(batch, 3, 1, 1).uniform_(-0.3, 0.3)
        loss = F.cross_entropy(net(x), labels[pick], label_smoothing=0.05)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        run = 0.95 * run + 0.05 * loss.item() if step > 1 else loss.item()
        if step % 250 == 0 or step == steps:
            rate = step / (time.time() - t0)
            log(f"counter step {step}/{steps}: loss {run:.3f}, {rate * batch:.0f} crops/s, eta {(steps - step) / rate / 60:.1f} min")
    net.eval()
    return net


def validate_counter(net: Counter, work, items, mean, std) -> dict:
    x_all = crops_u8(work, items, None)
    right = confident = right_confident = 0
    with torch.no_grad():
        for k in range(0, len(items), 256):
            p = net(to_tensor(x_all[k : k + 256], mean, std)).softmax(1)
            conf, pred = p.max(1)
            truth = torch.tensor([c for _, _, c in items[k : k + 256]])
            right += int((pred == truth).sum())
            sure = conf >= MIN_CONFIDENCE
            confident += int(sure.sum())
            right_confident += int(((pred == truth) & sure).sum())
    n = max(1, len(items))
    return {
        "columns": len(items),
        "accuracy": right / n,
        "confidentShare": confident / n,
        "confidentAccuracy": right_confident / max(1, confident),
    }


def export_counter(net: Counter, path: str) -> None:
    torch.onnx.export(
        net,
        torch.zeros(1, 3, COUNTER_H, COUNTER_W),
        path,
        input_names=["crops"],
        output_names=["logits"],
        dynamic_axes={"crops": {0: "n"}, "logits": {0: "n"}},
        opset_version=17,
    )


def model_entry(sha256: str, back: list[dict]) -> dict:
    return {
        "file": "counter.onnx",
        "sha256": sha256,
        "width": COUNTER_W,
        "height": COUNTER_H,
        "region": REGION,
        "classes": CLASSES,
        "minConfidence": MIN_CONFIDENCE,
        "unsure": UNSURE,
        "backBoxes": back,
    }
