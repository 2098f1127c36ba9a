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

import cpu_training
from data import sample_crop
from nets import Counter

COUNTER_W, COUNTER_H = 64, 160  # default crop size in pixels (train.py --counter-size); a net keeps its own
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
) -> list[tuple[int, tuple, int, list[tuple]]]:
    """(image, front pack box in work pixels, class = packs - 1, boxes of the packs behind it) for every
    stocked column of front views.

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
                behind = [p[1] for p in packs[1:] if p[2] <= max_occlusion]
                items.append((i, packs[0][1], min(n, CLASSES) - 1, behind[: CLASSES - 1]))
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


def crops_u8(
    work: np.ndarray, items: list[tuple], size: tuple[int, int], rng: np.random.Generator | None, log=None
) -> tuple[np.ndarray, np.ndarray]:
    """The counter's crop of every item as uint8 HWC at `size` (width, height), and the front box each
    was cut round; with `rng`, boxes jittered as the detector's are."""
    cw, ch = size
    out = np.empty((len(items), ch, cw, 3), np.uint8)
    fronts = np.empty((len(items), 4), np.float32)
    t0 = time.time()
    for n, (i, box, *_) in enumerate(items):
        x, y, w, h = box
        if rng is not None:  # the detector's front boxes are off by a few percent
            j = rng.uniform(-0.06, 0.06, 4)
            x, y, w, h = x + j[0] * w, y + j[1] * h, w * (1 + j[2]), h * (1 + j[3])
        fronts[n] = (x, y, w, h)
        out[n] = np.clip(np.rint(sample_crop(work[i], region((x, y, w, h)), cw, ch)), 0, 255)
        if log and ((n + 1) % 20000 == 0 or n + 1 == len(items)):
            log(f"counter crops {n + 1}/{len(items)} ({(n + 1) / (time.time() - t0):.0f} crops/s)")
    return out, fronts


def box_targets(items: list[tuple], fronts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per item, where each pack behind the front shows relative to the box the crop was cut round
    (dx, dy in its widths and heights, w, h as shares of it; CLASSES - 1 packs x 4), and which of
    those packs exist."""
    t = np.zeros((len(items), CLASSES - 1, 4), np.float32)
    m = np.zeros((len(items), CLASSES - 1), np.float32)
    for n, (_, _, _, backs) in enumerate(items):
        fx, fy, fw, fh = fronts[n]
        for k, (x, y, w, h) in enumerate(backs[: CLASSES - 1]):
            t[n, k] = ((x - fx) / fw, (y - fy) / fh, w / fw, h / fh)
            m[n, k] = 1
    return t, m


def mirror_boxes(t: torch.Tensor) -> torch.Tensor:
    """Targets of a mirrored crop: the region is symmetric about the front box's centre line."""
    t = t.clone()
    t[..., 0] = 1 - t[..., 0] - t[..., 2]
    return t


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of (..., 4) x, y, w, h boxes, elementwise."""
    x0 = np.maximum(a[..., 0], b[..., 0])
    y0 = np.maximum(a[..., 1], b[..., 1])
    x1 = np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2])
    y1 = np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3])
    i = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    return i / np.maximum(a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - i, 1e-9)


def to_tensor(x: np.ndarray, mean, std) -> torch.Tensor:
    t = torch.from_numpy(x).float().div_(255.0).permute(0, 3, 1, 2)
    return (t - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def augmented_tensor(u8: np.ndarray, mean, std, gain: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """`to_tensor(u8) * gain + bias` in one scale and one offset per image and channel, straight from the
    NHWC crops into a channels-last tensor: the same numbers as normalising, then augmenting, with a
    quarter of the passes over the batch."""
    sd, mu = torch.tensor(std).view(1, 3, 1, 1), torch.tensor(mean).view(1, 3, 1, 1)
    x = torch.from_numpy(np.ascontiguousarray(u8)).permute(0, 3, 1, 2).float()
    return x.mul_(gain / (255.0 * sd)).add_(bias - gain * mu / sd)


# Weight of the box loss (smooth L1 in front-box units) against the count's cross-entropy when both
# are trained together: at 4 the two are of one size after a few hundred steps.
BOX_LOSS_WEIGHT = 4.0


def counter_from_onnx(path: str) -> Counter:
    """A Counter holding the counting weights of an exported counter.onnx (its box branch starts
    afresh, whether or not the file has one). The exporter folds each batch norm into the
    convolution before it, so the convolution takes the folded weight and the batch norm becomes
    the identity plus the folded bias."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(path)
    init = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    net = Counter(CLASSES, dims[3], dims[2])  # at the crop size the file was trained at
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    layers = list(net.f)
    if len(convs) != len(layers):
        raise ValueError(f"{path}: {len(convs)} convolutions, the counter has {len(layers)}")
    with torch.no_grad():
        for node, layer in zip(convs, layers):
            conv, bn = layer[0], layer[1]
            w, b = init[node.input[1]], init[node.input[2]]
            if tuple(w.shape) != tuple(conv.weight.shape):
                raise ValueError(f"{path}: convolution {node.name} is {tuple(w.shape)}, expected {tuple(conv.weight.shape)}")
            conv.weight.copy_(w)
            bn.weight.fill_(1.0)
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
            bn.bias.copy_(b)
        # Dense layers keep their names in the export (h.2.weight, ...; b.* where it has a box branch).
        state = net.state_dict()
        for name in ("h.2.weight", "h.2.bias", "h.4.weight", "h.4.bias"):
            if name not in init:
                raise ValueError(f"{path}: no {name}: not a column counter")
            state[name].copy_(init[name])
    net.eval()
    return net


def train_counter(
    work,
    items,
    steps: int,
    mean,
    std,
    log,
    batch: int = 128,
    lr: float = 2e-3,
    jitters: int = 2,
    base: Counter | None = None,
    box_weight: float = BOX_LOSS_WEIGHT,
    size: tuple[int, int] = (COUNTER_W, COUNTER_H),
    precision: str = "fp32",
) -> Counter:
    """Trains a counter from scratch (counts and places together, crops of `size` = width, height) or,
    given `base`, only the box branch of `base` (at its own crop size): its convolutions and count head
    stay as they are, so every count does too."""
    net = base if base is not None else Counter(CLASSES, *size)
    rng = np.random.default_rng(3)
    # Crops cut once, each column at `jitters` jittered boxes: cutting them per step would take longer
    # than the training step itself.
    x_all, fronts = crops_u8(work, items * jitters, (net.width, net.height), rng, log)
    labels = torch.tensor([c for _, _, c, _ in items] * jitters)
    t_np, m_np = box_targets(items * jitters, fronts)
    targets, mask = torch.from_numpy(t_np), torch.from_numpy(m_np)
    with torch.no_grad():  # start at the average place of each pack: the head learns the column's own
        mean_box = (targets * mask[..., None]).sum(0) / mask.sum(0).clamp(min=1)[:, None]
        net.b[3].bias.copy_(mean_box.flatten())
        net.b[3].weight.mul_(0.1)
    opt = torch.optim.AdamW((net.b if base is not None else net).parameters(), lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.1)
    t0, run = time.time(), 0.0
    cpu_training.channels_last(net)
    net.train()
    if base is not None:
        net.f.eval()
        net.h.eval()
        for p in [*net.f.parameters(), *net.h.parameters()]:
            p.requires_grad_(False)
    for step in range(1, steps + 1):
        pick = rng.integers(0, len(x_all), batch)
        u8 = x_all[pick]
        t, m = targets[pick], mask[pick]
        if rng.random() < 0.5:  # a column's count does not change in a mirror
            u8 = u8[:, :, ::-1]
            t = mirror_boxes(t)
        gain, bias = torch.empty(batch, 1, 1, 1).uniform_(0.7, 1.3), torch.empty(batch, 3, 1, 1).uniform_(-0.3, 0.3)
        x = augmented_tensor(u8, mean, std, gain, bias)
        # The dense heads too: in fp32 they go through Debian torch's reference BLAS and took half the step.
        with cpu_training.autocast(precision):
            logits, boxes = net(x)
        logits, boxes = logits.float(), boxes.float()
        b = boxes.view(batch, CLASSES - 1, 4)
        box_l1 = (F.smooth_l1_loss(b, t, reduction="none", beta=0.02).sum(2) * m).sum() / m.sum().clamp(min=1)
        loss = box_l1 if base is not None else F.cross_entropy(logits, labels[pick], label_smoothing=0.05) + box_weight * box_l1
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        run = 0.95 * run + 0.05 * loss.item() if step > 1 else loss.item()
        if step % 250 == 0 or step == steps:
            rate = step / (time.time() - t0)
            log(f"counter step {step}/{steps}: loss {run:.3f}, {rate * batch:.0f} crops/s, eta {(steps - step) / rate / 60:.1f} min")
    net.eval()
    return cpu_training.plain(net)


def validate_counter(net: Counter, work, items, mean, std, back: list[dict], width: float) -> dict:
    """Counting accuracy on `items`, and how well the packs behind the front are placed (mean IoU
    with their truth boxes, per pack k behind the front) by the net and by the average places `back`
    (back_boxes; `width`: image width in work pixels, for dxPerX)."""
    x_all, fronts = crops_u8(work, items, (net.width, net.height), None)
    t, m = box_targets(items, fronts)
    right = confident = right_confident = 0
    placed = np.zeros_like(t)
    with torch.no_grad():
        for k in range(0, len(items), 256):
            logits, boxes = net(to_tensor(x_all[k : k + 256], mean, std))
            conf, pred = logits.softmax(1).max(1)
            placed[k : k + 256] = boxes.view(-1, CLASSES - 1, 4).numpy()
            truth = torch.tensor([c for _, _, c, _ in items[k : k + 256]])
            right += int((pred == truth).sum())
            sure = conf >= MIN_CONFIDENCE
            confident += int(sure.sum())
            right_confident += int(((pred == truth) & sure).sum())
    u = (fronts[:, 0] + fronts[:, 2] / 2) / width - 0.5
    avg = np.zeros_like(t)
    for k, b in enumerate(back[: CLASSES - 1]):
        avg[:, k] = np.stack([b["dx"] + b.get("dxPerX", 0) * u, np.full_like(u, b["dy"]), np.full_like(u, b["w"]), np.full_like(u, b["h"])], 1)
    n = max(1, len(items))
    out = {
        "columns": len(items),
        "accuracy": right / n,
        "confidentShare": confident / n,
        "confidentAccuracy": right_confident / max(1, confident),
    }
    for k in range(CLASSES - 1):
        sel = m[:, k] > 0
        if sel.any():
            net_iou, avg_iou = box_iou(placed[sel, k], t[sel, k]), box_iou(avg[sel, k], t[sel, k])
            out[f"backIou{k + 1}"] = float(net_iou.mean())
            out[f"backIou{k + 1}Average"] = float(avg_iou.mean())
            # The evaluation's criterion: a box counts as found at IoU 0.5.
            out[f"backHit{k + 1}"] = float((net_iou >= 0.5).mean())
            out[f"backHit{k + 1}Average"] = float((avg_iou >= 0.5).mean())
    return out


def export_counter(net: Counter, path: str) -> None:
    torch.onnx.export(
        net,
        torch.zeros(1, 3, net.height, net.width),
        path,
        input_names=["crops"],
        output_names=["logits", "boxes"],
        dynamic_axes={"crops": {0: "n"}, "logits": {0: "n"}, "boxes": {0: "n"}},
        opset_version=17,
    )


def model_entry(sha256: str, back: list[dict], net: Counter) -> dict:
    return {
        "file": "counter.onnx",
        "sha256": sha256,
        "width": net.width,
        "height": net.height,
        "region": REGION,
        "classes": CLASSES,
        "minConfidence": MIN_CONFIDENCE,
        "unsure": UNSURE,
        "backBoxes": back,
        # The net also says where each pack behind the front shows in this column (output `boxes`).
        "boxOutput": True,
    }
