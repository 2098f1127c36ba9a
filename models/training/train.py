#!/usr/bin/env python3
"""Train the ShelfSight recognition models end to end (`npm run train`).

Steps, each printing progress with units:
  1. generate the synthetic training set with the simulator CLI unless a set made by the current
     simulator code is cached;
  2. letterbox every image once into a uint8 cache (decoding 1280x960 JPEGs per step would dominate);
  3. train the class-agnostic detector (product / empty slot), CenterNet-style, with a depth head (how many
     packs stand in front of each pack: decode.ts tells a second box on one pack from a pushed-back pack by it);
  4. train the SKU embedder with a cosine-margin softmax on all SKUs except a few held-out ones,
     which are later enrolled from a handful of crops to prove enrollment without retraining;
  5. export both to ONNX, build the gallery, calibrate the unknown threshold on validation crops and
     write models/model.json, the single source of preprocessing constants for Python and TypeScript.

CPU only. The nets train one after the other, each on all cores (SHELFSIGHT_TRAIN_THREADS lowers it on a
shared machine): measured on the 2-core build machine, the detector runs ~5x faster with two threads than
in a one-thread process beside the embedder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import EMPTY, UNKNOWN, PAD_VALUE, Sample, expand_box, letterbox, letterbox_params, load_coco, resize_u8, sample_crop  # noqa: E402
from nets import CosineHead, Counter, Detector, Embedder  # noqa: E402
import counter as column_counter  # noqa: E402
import cpu_training  # noqa: E402
from env_defaults import env_default, one_of, whole  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)
REPO = os.path.dirname(MODELS)
CACHE = os.path.join(HERE, ".cache")

# Preprocessing constants; written to model.json so the TypeScript pipeline reads the same numbers.
INPUT_W, INPUT_H = 640, 480  # detector input: a can is ~24 px wide here, 3 output cells
# Crops come from a larger "work" image: brand text on look-alike cans (a can is ~48 px wide in a
# 1280x960 frame) needs more pixels than the detector does.
WORK_W, WORK_H = 1280, 960
MEAN = [0.5, 0.5, 0.5]
STD = [0.25, 0.25, 0.25]
STRIDE = Detector.STRIDE
CROP_W, CROP_H = 320, 256  # detector training window
CLASSES = ["product", "empty"]
EMB_W, EMB_H = 40, 80
EMB_DIM = 128
CROP_PAD = 0.04
GALLERY_SHOTS = 5  # reference crops per SKU: "a few images" enroll a SKU
TRAIN_SEED = 101
EXTRA_SEED = 102  # the invented-brand scenes that widen the embedder's training (--emb-extra-brands)
EXTRA_DIFFICULTY_SEED = 103  # catalog scenes of one difficulty added to the embedder's crops (--emb-extra-difficulty)
EXTRA_DIFFICULTIES = ("easy", "default", "hard", "mixed", "none")
# Packs hidden more than this (e.g. the third pack back, of which only a rim shows) are "ignore"
# objects: never trained as negatives, and neither hits nor misses in evaluation.
MAX_OCCLUSION = 0.9
HELD_OUT_COUNT = 4
# Depth targets: a pack's depth covers the cells where its centre Gaussian is at least this and stronger
# than any other pack's, so every cell that may turn into a candidate box on it learns its depth.
DEPTH_CELL_MIN = 0.3
MAX_DEPTH = 3.0  # deeper packs are rims at most; their exact depth does not matter
DEPTH_SUPPRESSION = {"iou": 0.35, "gap": 0.5, "apartIou": 0.8}  # chosen on the tuning set (seed 8001), see the model card
# prior.ts: a pack behind a front takes the front's SKU unless its own best match beats that SKU by more
# than `margin`, and if that SKU scores at least unknownThreshold - `slack` (D33, tuning seeds 8001-8003).
STACK_PRIOR = {"margin": 0.3, "slack": 0.5}


def log(msg: str) -> None:
    print(f"[train {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def fmt_eta(seconds: float) -> str:
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


def sim(*args: str) -> None:
    cmd = ["npm", "run", "--silent", "sim", "--", *args]
    log("running " + " ".join(cmd))
    subprocess.run(cmd, cwd=REPO, check=True)


def ensure_dataset(root: str, count: int, seed: int, difficulty: str | None, fixture: str, extra_brands: int = 0) -> bool:
    """Has the simulator make the cached training set unless ROOT already holds it, made by the
    current simulator code (`sim dataset --reuse`). Returns True when the set was (re)made."""
    ann = os.path.join(root, "annotations.json")
    before = os.path.getmtime(ann) if os.path.exists(ann) else None
    args = ["dataset", "--out", root, "--count", str(count), "--seed", str(seed), "--fixture", fixture, "--reuse"]
    if difficulty:
        args += ["--difficulty", difficulty]
    if extra_brands:
        args += ["--extra-brands", str(extra_brands)]
    sim(*args)
    return before is None or os.path.getmtime(ann) != before


def pack_sizes() -> dict[str, dict]:
    """Pack fronts in mm per catalog SKU (`sim catalog`), for the gallery's size check (size.ts)."""
    out = os.path.join(CACHE, "catalog")
    sim("catalog", "--out", out)
    with open(os.path.join(out, "catalog.json"), encoding="utf-8") as f:
        return {e["sku"]: {"width": e["pack"]["widthMm"], "height": e["pack"]["heightMm"]} for e in json.load(f)}


def letterbox_cache(samples: list[Sample], key: str) -> tuple[np.ndarray, np.ndarray, list[list[tuple]]]:
    """Work images and detector inputs for every sample, plus boxes mapped into work pixels."""
    wpath = os.path.join(CACHE, f"work-{key}-{WORK_W}x{WORK_H}.npy")
    dpath = os.path.join(CACHE, f"det-{key}-{INPUT_W}x{INPUT_H}.npy")
    boxes = []
    for s in samples:
        scale, _, _, left, top = letterbox_params(s.width, s.height, WORK_W, WORK_H)
        boxes.append(
            [
                (o.name, (o.box[0] * scale + left, o.box[1] * scale + top, o.box[2] * scale, o.box[3] * scale), o.extra)
                for o in s.objs
            ]
        )
    if os.path.exists(wpath) and os.path.exists(dpath):
        work = np.load(wpath, mmap_mode="r")
        if work.shape[0] == len(samples):
            return work, np.load(dpath, mmap_mode="r"), boxes
    n = len(samples)
    work = np.lib.format.open_memmap(wpath + ".tmp.npy", mode="w+", dtype=np.uint8, shape=(n, WORK_H, WORK_W, 3))
    det = np.lib.format.open_memmap(dpath + ".tmp.npy", mode="w+", dtype=np.uint8, shape=(n, INPUT_H, INPUT_W, 3))
    t0 = time.time()
    for i, s in enumerate(samples):
        with Image.open(s.path) as im:
            work[i], _ = letterbox(im, WORK_W, WORK_H)
        det[i] = resize_u8(work[i], INPUT_W, INPUT_H)
        if (i + 1) % 200 == 0 or i + 1 == n:
            log(f"decoded {i + 1}/{n} images ({(i + 1) / (time.time() - t0):.1f} img/s)")
    work.flush()
    det.flush()
    del work, det
    os.replace(wpath + ".tmp.npy", wpath)
    os.replace(dpath + ".tmp.npy", dpath)
    return np.load(wpath, mmap_mode="r"), np.load(dpath, mmap_mode="r"), boxes


def decoded_set(root: str, samples: list[Sample], regenerated: bool) -> tuple[str, tuple]:
    """The cache key of the set in ROOT and its decoded images (letterbox_cache); a set the simulator
    just (re)made drops its old decoded images first."""
    key = hashlib.sha1(os.path.abspath(root).encode()).hexdigest()[:8]
    if regenerated:  # decoded images of the old set are stale
        for stale in (f"work-{key}-{WORK_W}x{WORK_H}.npy", f"det-{key}-{INPUT_W}x{INPUT_H}.npy"):
            if os.path.exists(os.path.join(CACHE, stale)):
                os.remove(os.path.join(CACHE, stale))
    return key, letterbox_cache(samples, key)


def embedder_items(boxes: list[list[tuple]], idx, cls_of: dict[str, int], offset: int = 0) -> list[tuple[int, tuple, int]]:
    """(frame, box, class) of every pack an embedder trains on: a known class, at least 4 px each
    way, at most MAX_OCCLUSION hidden. `offset` numbers the frames of a second set after the first."""
    return [
        (offset + i, b, cls_of[n])
        for i in idx
        for n, b, e in boxes[i]
        if n in cls_of and b[2] >= 4 and b[3] >= 4 and e.get("occlusion", 0) <= MAX_OCCLUSION
    ]


class Frames:
    """Several image arrays indexed as one, so crops can come from the training set and the
    invented-brand set alike without copying gigabytes of decoded frames into one array."""

    def __init__(self, *arrays: np.ndarray) -> None:
        self.arrays = arrays
        self.starts = np.cumsum([0] + [len(a) for a in arrays])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def __getitem__(self, i: int) -> np.ndarray:
        k = int(np.searchsorted(self.starts, i, side="right")) - 1
        return self.arrays[k][i - self.starts[k]]


def det_boxes(boxes: list[list[tuple]]) -> list[list[tuple]]:
    """Boxes from work pixels to detector-input pixels."""
    sx, sy = INPUT_W / WORK_W, INPUT_H / WORK_H
    return [[(n, (b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy), e) for n, b, e in bs] for bs in boxes]


def to_tensor(batch_u8: np.ndarray) -> torch.Tensor:
    """uint8 NHWC -> normalised float NCHW, exactly as preprocess.ts does."""
    x = torch.from_numpy(np.array(batch_u8, copy=True)).float().div_(255.0).permute(0, 3, 1, 2)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


# ---------------------------------------------------------------------------------------------
# Detector
# ---------------------------------------------------------------------------------------------


def det_targets(
    objs: list[tuple], flip: bool, ox: int = 0, oy: int = 0, cw: int = INPUT_W, ch: int = INPUT_H
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Heatmap, regression, mask, ignore, depth and depth-weight targets for the window (ox, oy, cw, ch)
    of a letterboxed image."""
    ho, wo = ch // STRIDE, cw // STRIDE
    hm = np.zeros((len(CLASSES), ho, wo), np.float32)
    reg = np.zeros((4, ho, wo), np.float32)
    mask = np.zeros((ho, wo), np.float32)
    ignore = np.zeros((ho, wo), np.float32)
    depth = np.zeros((ho, wo), np.float32)
    owner = np.zeros((ho, wo), np.float32)  # strongest product Gaussian per cell so far
    gy, gx = np.mgrid[0:ho, 0:wo].astype(np.float32)
    for name, (x, y, w, h), extra in objs:
        x, y = x - ox, y - oy
        if flip:
            x = cw - x - w
        if w < 2 or h < 2 or extra.get("occlusion", 0) > MAX_OCCLUSION:
            x0, y0 = max(0, int(x // STRIDE)), max(0, int(y // STRIDE))
            ignore[y0 : int((y + h) // STRIDE) + 1, x0 : int((x + w) // STRIDE) + 1] = 1
            continue
        cls = 1 if name == EMPTY else 0
        cx, cy = (x + w / 2) / STRIDE, (y + h / 2) / STRIDE
        if not (0 <= cx < wo and 0 <= cy < ho):
            continue
        ci, cj = int(cx), int(cy)
        # Elliptical Gaussian sized to the box (TTFNet): tall bottles get tall peaks, so neighbours
        # in a tightly packed row do not merge into one blob.
        sx, sy = max(0.5, 0.54 * w / STRIDE / 6), max(0.5, 0.54 * h / STRIDE / 6)
        g = np.exp(-((gx - ci) ** 2 / (2 * sx * sx) + (gy - cj) ** 2 / (2 * sy * sy)))
        np.maximum(hm[cls], g, out=hm[cls])
        if cls == 0:
            mine = (g >= DEPTH_CELL_MIN) & (g > owner)
            depth[mine] = min(float(extra.get("depth", 0)), MAX_DEPTH)
            owner[mine] = g[mine]
        reg[:, cj, ci] = (cx - ci, cy - cj, math.log(w / STRIDE), math.log(h / STRIDE))
        mask[cj, ci] = 1.0
    hm_ignore = ignore * (hm.max(0) < 0.5)  # never ignore a real object's peak
    return hm, reg, mask, hm_ignore, depth, (owner > 0).astype(np.float32)


def photometric(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Brightness/contrast jitter on normalised NCHW tensors (cooler lights and exposure vary)."""
    n = x.shape[0]
    gain = 1 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.5
    bias = (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.6
    return x * gain + bias


def focal_loss(logits: torch.Tensor, gt: torch.Tensor, ignore: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss, computed from logits for numerical stability."""
    pos = gt.eq(1).float()
    neg = (1 - pos) * (1 - ignore)
    logp = F.logsigmoid(logits)
    log1mp = F.logsigmoid(-logits)
    p = logits.sigmoid()
    pos_loss = (logp * (1 - p) ** 2 * pos).sum()
    neg_loss = (log1mp * p**2 * (1 - gt) ** 4 * neg).sum()
    npos = pos.sum().clamp(min=1)
    return -(pos_loss + neg_loss) / npos


def train_detector(
    images: np.ndarray,
    boxes: list,
    idx: list[int],
    steps: int,
    batch: int,
    init: str | None = None,
    lr: float = 3e-3,
    depth_only: bool = False,
    precision: str = "fp32",
) -> Detector:
    det = Detector(len(CLASSES))
    if init:  # fine-tune: start from a checkpoint instead of from scratch
        missing, _ = det.load_state_dict(torch.load(init), strict=False)
        if any(not k.startswith("depth.") for k in missing):
            raise SystemExit(f"{init} is not a detector checkpoint: missing {', '.join(missing)}")
        log(f"detector initialised from {init}" + (" (a new depth head)" if missing else ""))
    # depth_only: train the depth head on the frozen detector, whose boxes stay exactly as they were.
    params = det.depth.parameters() if depth_only else det.parameters()
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)
    cpu_training.channels_last(det)
    det.train()
    if depth_only:
        det.eval()  # frozen batch-norm statistics too
        det.depth.train()
    t0 = time.time()
    run = {"hm": 0.0, "reg": 0.0, "depth": 0.0}
    for step in range(1, steps + 1):
        pick = rng.choice(idx, size=batch, replace=False)
        flips = rng.random(batch) < 0.5
        # Random windows (multiples of the coarsest stride) cut the cost per step ~2.4x; the net is
        # fully convolutional, so it still runs on the whole letterboxed frame at inference.
        oxs = rng.integers(0, (INPUT_W - CROP_W) // 32 + 1, batch) * 32
        oys = rng.integers(0, (INPUT_H - CROP_H) // 32 + 1, batch) * 32
        imgs = np.stack(
            [
                (lambda a: a[:, ::-1] if f else a)(images[i][oy : oy + CROP_H, ox : ox + CROP_W])
                for i, f, ox, oy in zip(pick, flips, oxs, oys)
            ]
        )
        tg = [det_targets(boxes[i], bool(f), ox, oy, CROP_W, CROP_H) for i, f, ox, oy in zip(pick, flips, oxs, oys)]
        hm = torch.from_numpy(np.stack([t[0] for t in tg]))
        reg = torch.from_numpy(np.stack([t[1] for t in tg]))
        mask = torch.from_numpy(np.stack([t[2] for t in tg])).unsqueeze(1)
        ign = torch.from_numpy(np.stack([t[3] for t in tg])).unsqueeze(1)
        dep = torch.from_numpy(np.stack([t[4] for t in tg])).unsqueeze(1)
        dmask = torch.from_numpy(np.stack([t[5] for t in tg])).unsqueeze(1)
        x = cpu_training.batch(photometric(to_tensor(imgs), gen))
        with cpu_training.autocast(precision):
            if depth_only:
                with torch.no_grad():
                    p4 = det.features(x)
                outs = (None, None, det.depth(p4))
            else:
                outs = det.logits(x)
        heat_logits, reg_pred, dep_pred = (o.float() if o is not None else None for o in outs)
        if depth_only:
            l_hm = l_reg = torch.zeros(())
        else:
            l_hm = focal_loss(heat_logits, hm, ign)
            l_reg = (F.l1_loss(reg_pred * mask, reg * mask, reduction="sum")) / mask.sum().clamp(min=1)
        l_dep = F.smooth_l1_loss(dep_pred * dmask, dep * dmask, reduction="sum") / dmask.sum().clamp(min=1)
        loss = l_hm + l_reg + l_dep
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        run["hm"] = 0.9 * run["hm"] + 0.1 * l_hm.item() if step > 1 else l_hm.item()
        run["reg"] = 0.9 * run["reg"] + 0.1 * l_reg.item() if step > 1 else l_reg.item()
        run["depth"] = 0.9 * run["depth"] + 0.1 * l_dep.item() if step > 1 else l_dep.item()
        if step % 25 == 0 or step == steps:
            el = time.time() - t0
            log(
                f"detector step {step}/{steps}: heat loss {run['hm']:.3f}, box loss {run['reg']:.3f}, "
                f"depth loss {run['depth']:.3f}, "
                f"{step * batch / el:.1f} img/s, ETA {fmt_eta(el / step * (steps - step))}"
            )
    det.eval()
    return cpu_training.plain(det)


def decode_numpy(heat: np.ndarray, reg: np.ndarray, thr: float, max_det: int = 300) -> list[tuple]:
    """Decoder for training-time validation: 3x3 peaks only, no NMS, boxes in input pixels. The agent's
    decode.ts also takes shoulder cells (shoulderThreshold) and then applies NMS; this proxy tracks the
    heatmap's peaks from run to run, and `npm run eval` measures the pipeline."""
    c, ho, wo = heat.shape
    pad = np.pad(heat, ((0, 0), (1, 1), (1, 1)), constant_values=-1)
    peaks = np.ones_like(heat, bool)
    for dy in range(3):
        for dx in range(3):
            peaks &= heat >= pad[:, dy : dy + ho, dx : dx + wo]
    cs, ys, xs = np.nonzero(peaks & (heat >= thr))
    out = []
    for k, j, i in zip(cs, ys, xs):
        dx, dy, lw, lh = reg[:, j, i]
        w, h = math.exp(lw) * STRIDE, math.exp(lh) * STRIDE
        cx, cy = (i + dx) * STRIDE, (j + dy) * STRIDE
        out.append((int(k), float(heat[k, j, i]), (cx - w / 2, cy - h / 2, w, h)))
    out.sort(key=lambda d: -d[1])
    return out[:max_det]


def iou(a: tuple, b: tuple) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    return inter / max(1e-9, a[2] * a[3] + b[2] * b[3] - inter)


def load_detector(path: str) -> Detector:
    det = Detector(len(CLASSES))
    det.load_state_dict(torch.load(path))
    det.eval()
    return det


def validate_detector(det: Detector, images: np.ndarray, boxes: list, idx: list[int]) -> dict:
    val = eval_detector(det, images, boxes, idx)
    log(
        f"detector validation @IoU0.5: precision {val['precision']:.4f}, recall {val['recall']:.4f}; "
        f"depth within 0.5 at {val['depth'] * 100:.1f}% of pack centres"
    )
    return val


def eval_detector(det: Detector, images: np.ndarray, boxes: list, idx: list[int], thr: float = 0.3) -> dict:
    tp = fp = fn = 0
    depth_hit = depth_n = 0
    with torch.no_grad():
        for i in idx:
            heat, reg, depth = det(to_tensor(images[i : i + 1]))
            for n, (x, y, w, h), e in boxes[i]:
                if n == EMPTY or e.get("occlusion", 0) > MAX_OCCLUSION or "depth" not in e:
                    continue
                j, k = int((y + h / 2) // STRIDE), int((x + w / 2) // STRIDE)
                if 0 <= j < depth.shape[2] and 0 <= k < depth.shape[3]:
                    depth_n += 1
                    depth_hit += abs(float(depth[0, 0, j, k]) - min(e["depth"], MAX_DEPTH)) < 0.5
            dets = decode_numpy(heat[0].numpy(), reg[0].numpy(), thr)
            gts = [(1 if n == EMPTY else 0, b) for n, b, e in boxes[i] if e.get("occlusion", 0) <= MAX_OCCLUSION]
            ign = [b for n, b, e in boxes[i] if e.get("occlusion", 0) > MAX_OCCLUSION]
            used = set()
            for k, _, b in dets:
                best, bj = 0.0, -1
                for j, (gk, gb) in enumerate(gts):
                    if j in used or gk != k:
                        continue
                    v = iou(b, gb)
                    if v > best:
                        best, bj = v, j
                if best >= 0.5:
                    used.add(bj)
                    tp += 1
                elif not any(iou(b, g) >= 0.5 for g in ign):
                    fp += 1
            fn += len(gts) - len(used)
    return {"precision": tp / max(1, tp + fp), "recall": tp / max(1, tp + fn), "depth": depth_hit / max(1, depth_n)}


# ---------------------------------------------------------------------------------------------
# Embedder
# ---------------------------------------------------------------------------------------------


def crop_batch(images: np.ndarray, items: list[tuple[int, tuple]], rng: np.random.Generator | None) -> torch.Tensor:
    """Crops (optionally with box jitter that imitates detector error) as a normalised NCHW tensor."""
    out = np.empty((len(items), EMB_H, EMB_W, 3), np.float32)
    for n, (i, box) in enumerate(items):
        x, y, w, h = expand_box(box, CROP_PAD)
        if rng is not None:
            j = rng.normal(0, 0.035, 4)
            x, y = x + j[0] * w, y + j[1] * h
            w, h = w * (1 + j[2]), h * (1 + j[3])
        out[n] = sample_crop(images[i], (x, y, w, h), EMB_W, EMB_H)
    x = torch.from_numpy(out).div_(255.0).permute(0, 3, 1, 2)
    return (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)


def crop_aug(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    n = x.shape[0]
    gain = 1 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.4
    bias = (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.4
    chan = 1 + (torch.rand(n, 3, 1, 1, generator=gen) - 0.5) * 0.06
    noise = torch.randn(x.shape, generator=gen) * 0.04
    return x * gain * chan + bias + noise


def train_embedder(
    images: np.ndarray,
    items: list[tuple[int, tuple, int]],
    num_classes: int,
    steps: int,
    batch: int,
    init: str | None = None,
    lr: float = 3e-3,
    width: int = 24,
    extra_from: int | None = None,
    extra_share: float | None = None,
    precision: str = "fp32",
) -> Embedder:
    emb = Embedder(EMB_DIM, width)
    head = CosineHead(EMB_DIM, num_classes)
    if init:
        # Fine-tune: start from a checkpoint; the class weights (not checkpointed) start at the class
        # means of the checkpoint's embeddings, so the first steps do not tear the embedding apart.
        emb.load_state_dict(torch.load(init))
        emb.eval()
        rng0 = np.random.default_rng(2)
        pick = rng0.choice(len(items), size=min(len(items), 6000), replace=False)
        vecs = embed(emb, images, [(items[p][0], items[p][1]) for p in pick])
        labels = np.array([items[p][2] for p in pick])
        w = head.weight.data.numpy().copy()
        for k in range(num_classes):
            if (labels == k).any():
                w[k] = vecs[labels == k].mean(0)
        head.weight.data = torch.from_numpy(w / (np.linalg.norm(w, axis=1, keepdims=True) + 1e-9))
        log(f"embedder initialised from {init}; class weights from {len(pick)} crops")
    params = list(emb.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(1)
    rng = np.random.default_rng(1)
    cpu_training.channels_last(emb)
    emb.train()
    t0 = time.time()
    run_loss, run_acc = 0.0, 0.0
    for step in range(1, steps + 1):
        if extra_from is not None and extra_share is not None:
            n_extra = round(batch * extra_share)
            pick = np.concatenate(
                [rng.integers(0, extra_from, size=batch - n_extra), rng.integers(extra_from, len(items), size=n_extra)]
            )
        else:
            pick = rng.integers(0, len(items), size=batch)
        x = cpu_training.batch(crop_aug(crop_batch(images, [(items[p][0], items[p][1]) for p in pick], rng), gen))
        y = torch.tensor([items[p][2] for p in pick])
        with cpu_training.autocast(precision):
            f = emb.features(x)
        logits = head(emb.project(f.float()), y)
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        acc = (logits.argmax(1) == y).float().mean().item()
        run_loss = 0.9 * run_loss + 0.1 * loss.item() if step > 1 else loss.item()
        run_acc = 0.9 * run_acc + 0.1 * acc if step > 1 else acc
        if step % 50 == 0 or step == steps:
            el = time.time() - t0
            log(
                f"embedder step {step}/{steps}: loss {run_loss:.3f}, train acc {run_acc * 100:.1f}%, "
                f"{step * batch / el:.0f} crops/s, ETA {fmt_eta(el / step * (steps - step))}"
            )
    emb.eval()
    return cpu_training.plain(emb)


def embed(emb: Embedder, images: np.ndarray, items: list[tuple[int, tuple]]) -> np.ndarray:
    out = []
    with torch.no_grad():
        for k in range(0, len(items), 256):
            out.append(emb(crop_batch(images, items[k : k + 256], None)).numpy())
    return np.concatenate(out) if out else np.zeros((0, EMB_DIM), np.float32)


# ---------------------------------------------------------------------------------------------
# Export, gallery, calibration
# ---------------------------------------------------------------------------------------------


def export_onnx(det: Detector, emb: Embedder, out: str) -> None:
    torch.onnx.export(
        det,
        torch.zeros(1, 3, INPUT_H, INPUT_W),
        os.path.join(out, "detector.onnx"),
        input_names=["images"],
        output_names=["heat", "reg", "depth"],
        opset_version=13,
        do_constant_folding=True,
    )
    torch.onnx.export(
        emb,
        torch.zeros(2, 3, EMB_H, EMB_W),
        os.path.join(out, "embedder.onnx"),
        input_names=["crops"],
        output_names=["embeddings"],
        dynamic_axes={"crops": {0: "n"}, "embeddings": {0: "n"}},
        opset_version=13,
        do_constant_folding=True,
    )
    for f in ("detector.onnx", "embedder.onnx"):
        log(f"exported {os.path.relpath(os.path.join(out, f), REPO)} ({os.path.getsize(os.path.join(out, f)) / 1e6:.2f} MB)")


def counter_size(spec: str) -> tuple[int, int]:
    """Parse WxH, each a multiple of 16 (the counter's four stride-2 convolutions)."""
    try:
        w, h = (int(v) for v in spec.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{spec!r} is not WIDTHxHEIGHT (e.g. 96x240)") from None
    if w < 16 or h < 16 or w % 16 or h % 16:
        raise argparse.ArgumentTypeError(f"{spec!r}: width and height must be multiples of 16, at least 16")
    return w, h


def det_cycles(spec: str) -> list[tuple[int, float]]:
    """Parse STEPS:PEAK_LR[,STEPS:PEAK_LR...] into one-cycle runs."""
    out = []
    for part in spec.split(","):
        try:
            steps, lr = part.split(":")
            out.append((int(steps), float(lr)))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r} is not STEPS:PEAK_LR (e.g. 7000:3e-3)") from None
        if out[-1][0] < 1 or not 0 < out[-1][1] < 1:
            raise argparse.ArgumentTypeError(f"{part!r}: steps must be ≥ 1 and the learning rate in (0, 1)")
    return out


def file_hash(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


def train_column_counter(
    work,
    boxes,
    samples,
    front_view,
    train_idx,
    val_idx,
    steps: int,
    out: str,
    base: Counter | None = None,
    box_weight: float = column_counter.BOX_LOSS_WEIGHT,
    size: tuple[int, int] = (column_counter.COUNTER_W, column_counter.COUNTER_H),
    precision: str = "fp32",
) -> tuple[dict, dict]:
    """Trains, validates and exports the column counter; returns its model.json entry and training
    record. With `base` (a finished counter) only its box branch is trained: counts stay as they were."""
    items = column_counter.column_items(boxes, train_idx, front_view, MAX_OCCLUSION)
    val_items = column_counter.column_items(boxes, val_idx, front_view, MAX_OCCLUSION)
    log(f"column counter: {len(items)} training columns, {len(val_items)} validation columns, {steps} steps")
    ckpt = os.path.join(CACHE, "counter.pt")
    net = column_counter.train_counter(
        work, items, steps, MEAN, STD, log, base=base, box_weight=box_weight, size=size, precision=precision
    )
    torch.save(net.state_dict(), ckpt)
    back = column_counter.back_boxes(samples, train_idx, front_view, MAX_OCCLUSION)
    log(f"column counter: back packs show on average at {back} (relative to the front pack's box)")
    val = column_counter.validate_counter(net, work, val_items, MEAN, STD, back, WORK_W)
    placed = ", ".join(
        f"{k}: {val[f'backIou{k}']:.3f} (average place {val[f'backIou{k}Average']:.3f})" for k in range(1, column_counter.CLASSES) if f"backIou{k}" in val
    )
    log(
        f"column counter on validation columns: {val['accuracy'] * 100:.1f}% counted right; "
        f"{val['confidentShare'] * 100:.0f}% of columns at >= {column_counter.MIN_CONFIDENCE} confidence, "
        f"{val['confidentAccuracy'] * 100:.1f}% of those right; mean IoU of the k-th pack behind the front placed by the net, {placed}"
    )
    path = os.path.join(out, "counter.onnx")
    column_counter.export_counter(net, path)
    record = {"steps": steps, "precision": precision, "columns": len(items), "validation": {k: round(v, 4) for k, v in val.items()}}
    return column_counter.model_entry(file_hash(path), back, net), record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", help="existing COCO dataset dir (default: generate into models/training/.cache)")
    ap.add_argument("--count", type=whole(1), default=env_default(ap, "SHELFSIGHT_TRAIN_COUNT", 1600, whole(1)))
    ap.add_argument(
        "--det-cycles",
        type=det_cycles,
        default=env_default(ap, "SHELFSIGHT_DET_CYCLES", det_cycles("7000:3e-3,10000:2e-3"), det_cycles),
        help="detector schedule: one-cycle runs STEPS:PEAK_LR, comma-separated, each a warm restart from the "
        "last (default 7000:3e-3,10000:2e-3)",
    )
    ap.add_argument("--emb-steps", type=whole(1), default=env_default(ap, "SHELFSIGHT_EMB_STEPS", 12000, whole(1)))
    ap.add_argument("--det-batch", type=whole(1), default=8)
    ap.add_argument("--reuse-detector", action="store_true", help="load the cached detector checkpoint")
    ap.add_argument("--reuse-embedder", action="store_true", help="load the cached embedder checkpoint")
    ap.add_argument("--emb-batch", type=whole(1), default=128)
    ap.add_argument(
        "--counter-steps",
        type=whole(1),
        default=env_default(ap, "SHELFSIGHT_COUNTER_STEPS", 4000, whole(1)),
        help="training steps of the column counter (128 columns each)",
    )
    ap.add_argument(
        "--counter-size",
        type=counter_size,
        default=(column_counter.COUNTER_W, column_counter.COUNTER_H),
        help="crop size WxH of a column counter trained from scratch "
        f"(default {column_counter.COUNTER_W}x{column_counter.COUNTER_H})",
    )
    ap.add_argument(
        "--counter-box-weight",
        type=float,
        default=column_counter.BOX_LOSS_WEIGHT,
        help="weight of the place loss when a counter is trained from scratch; 0 trains counts alone "
        f"(then --stage counter-boxes adds the places) (default {column_counter.BOX_LOSS_WEIGHT:g})",
    )
    ap.add_argument("--fixture", default="mixed", help="simulator fixture mix for a generated set (upright|chest|shelf|mixed)")
    ap.add_argument("--difficulty", default="mixed", help="simulator difficulty for a generated set (easy|default|hard|mixed)")
    ap.add_argument("--init-detector", help="fine-tune: start the detector's first cycle from this state_dict (.pt)")
    ap.add_argument(
        "--det-depth-only",
        action="store_true",
        help="with --init-detector: train only the depth head; the detector's boxes stay as they were",
    )
    ap.add_argument("--init-embedder", help="fine-tune: start the embedder from this state_dict (.pt)")
    ap.add_argument(
        "--stage",
        choices=["all", "detector", "embedder", "counter", "counter-boxes", "counter-geometry"],
        default="all",
        help="train only the detector or only the embedder and save its checkpoint; then "
        "`--reuse-detector --reuse-embedder` exports. `counter` trains the column counter alone and adds it "
        "to the model in --out (counter.onnx and model.json's counter entry), leaving the other files as they are; "
        "`counter-boxes` trains only the box branch of the counter in --out (where the packs behind a front show), "
        "its counts unchanged; "
        "`counter-geometry` only measures where back packs show (model.json counter.backBoxes) on the training set",
    )
    ap.add_argument(
        "--emb-extra-brands",
        type=whole(0),
        default=env_default(ap, "SHELFSIGHT_EMB_EXTRA_BRANDS", 0, whole(0)),
        help="also train the embedder on scenes of this many invented brands (sim dataset --extra-brands; 0: off)",
    )
    ap.add_argument(
        "--emb-extra-share",
        type=float,
        default=None,
        help="share of each embedder batch drawn from the invented-brand crops (default: as many as they are)",
    )
    ap.add_argument(
        "--emb-extra-count",
        type=whole(1),
        default=env_default(ap, "SHELFSIGHT_EMB_EXTRA_COUNT", 800, whole(1)),
        help="frames in the embedder's extra set: hard catalog scenes or, with --emb-extra-brands, invented brands (default 800)",
    )
    ap.add_argument(
        "--emb-extra-difficulty",
        choices=EXTRA_DIFFICULTIES,
        default=env_default(ap, "SHELFSIGHT_EMB_EXTRA_DIFFICULTY", None, one_of(EXTRA_DIFFICULTIES)),
        help="difficulty of the --emb-extra-count scenes the embedder also trains on: catalog scenes, "
        "default hard (D46), none: off; with --emb-extra-brands the invented-brand scenes instead, default mixed",
    )
    ap.add_argument("--emb-lr", type=float, default=3e-3, help="peak learning rate (one-cycle) of the embedder")
    ap.add_argument("--emb-width", type=int, default=32, help="embedder channel width (the ONNX input and output stay the same)")
    ap.add_argument(
        "--precision",
        choices=cpu_training.PRECISIONS,
        default=env_default(ap, "SHELFSIGHT_TRAIN_PRECISION", "auto", one_of(cpu_training.PRECISIONS)),
        help="arithmetic of the training passes: bf16 autocast (about twice as fast where the CPU has "
        "AVX512-BF16 or AMX), fp32, or auto = bf16 where the CPU has it (default auto; weights and ONNX stay fp32)",
    )
    ap.add_argument("--out", default=MODELS, help="where the ONNX files, gallery.json and model.json go (default: models/)")
    ap.add_argument("--version", default=os.environ.get("SHELFSIGHT_MODEL_VERSION", "0.1.0"))
    args = ap.parse_args()
    if args.emb_extra_brands > 0 and args.emb_extra_difficulty == "none":
        ap.error("--emb-extra-brands needs scenes: --emb-extra-difficulty none turns them off")
    # Hard catalog scenes by default (D46); the invented brands of D43 replace them when asked for.
    extra_difficulty = args.emb_extra_difficulty or ("mixed" if args.emb_extra_brands > 0 else "hard")
    extra_set = extra_difficulty != "none"
    if args.emb_extra_share is not None and not (extra_set and 0 <= args.emb_extra_share <= 1):
        ap.error("--emb-extra-share needs the extra scenes (not --emb-extra-difficulty none) and is a fraction in 0-1")
    precision = cpu_training.resolve(args.precision)
    if args.det_depth_only and not args.init_detector:
        ap.error("--det-depth-only needs --init-detector: the depth head is trained on a trained detector")

    threads = env_default(ap, "SHELFSIGHT_TRAIN_THREADS", os.cpu_count() or 1, whole(1))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    os.makedirs(CACHE, exist_ok=True)
    t_start = time.time()
    log(f"torch {torch.__version__}, {threads} thread(s), {precision} training passes, channels-last")

    root = args.dataset or os.path.join(CACHE, f"train-s{TRAIN_SEED}-n{args.count}-{args.fixture}-{args.difficulty}")
    # A set given with --dataset is the user's: used as it is. A generated one follows the simulator.
    regenerated = not args.dataset and ensure_dataset(root, args.count, TRAIN_SEED, args.difficulty, args.fixture)
    samples = load_coco(root)
    if args.stage == "counter-geometry":  # annotations only: no images decoded
        out = os.path.abspath(args.out)
        with open(os.path.join(out, "model.json"), encoding="utf-8") as f:
            model = json.load(f)
        if "counter" not in model:
            ap.error(f"{out}/model.json has no column counter: train it with --stage counter first")
        n_train = len(samples) - max(2, len(samples) // 10)
        back = column_counter.back_boxes(samples, list(range(n_train)), column_counter.front_view_images(root), MAX_OCCLUSION)
        model["counter"]["backBoxes"] = back
        with open(os.path.join(out, "model.json"), "w", encoding="utf-8") as f:
            json.dump(model, f, indent=2)
            f.write("\n")
        log(f"back packs show at {back}; written to {os.path.relpath(out, REPO)}/model.json")
        return
    key, (work, images, boxes) = decoded_set(root, samples, regenerated)
    dboxes = det_boxes(boxes)
    n_val = max(2, len(samples) // 10)
    train_idx = list(range(len(samples) - n_val))
    val_idx = list(range(len(samples) - n_val, len(samples)))
    log(f"dataset {root}: {len(samples)} images ({len(train_idx)} train, {n_val} validation)")

    front_view = column_counter.front_view_images(root)
    if args.stage in ("counter", "counter-boxes"):
        out = os.path.abspath(args.out)
        with open(os.path.join(out, "model.json"), encoding="utf-8") as f:
            model = json.load(f)
        base = None
        if args.stage == "counter-boxes":
            if "counter" not in model:
                ap.error(f"{out}/model.json has no column counter: train it with --stage counter first")
            base = column_counter.counter_from_onnx(os.path.join(out, model["counter"]["file"]))
        counted = model["training"].get("counter")
        model["counter"], model["training"]["counter"] = train_column_counter(
            work, boxes, samples, front_view, train_idx, val_idx, args.counter_steps, out, base, args.counter_box_weight,
            args.counter_size, precision,
        )
        if base is not None and counted:  # the counts were trained before: keep that record
            model["training"]["counter"] = {**counted, "boxBranch": model["training"]["counter"]}
        with open(os.path.join(out, "model.json"), "w", encoding="utf-8") as f:
            json.dump(model, f, indent=2)
            f.write("\n")
        log(f"added the column counter to {os.path.relpath(out, REPO)}/model.json; total {fmt_eta(time.time() - t_start)}")
        return

    # --- detector (checkpointed so the embedder can be retrained alone with --reuse-detector)
    ckpt = os.path.join(CACHE, f"detector-{key}-s{STRIDE}.pt")
    if args.stage == "embedder":
        log("stage embedder: detector skipped")
    elif args.reuse_detector and os.path.exists(ckpt):
        det = load_detector(ckpt)
        log(f"reusing detector checkpoint {os.path.relpath(ckpt, REPO)}")
    else:
        init = args.init_detector
        for k, (steps, lr) in enumerate(args.det_cycles):
            log(f"detector cycle {k + 1}/{len(args.det_cycles)}: {steps} steps, peak learning rate {lr:g}")
            det = train_detector(images, dboxes, train_idx, steps, args.det_batch, init, lr, args.det_depth_only, precision)
            torch.save(det.state_dict(), ckpt)
            init = ckpt  # a warm restart: the next cycle starts from this one's weights, fresh optimizer
    if args.stage != "embedder":
        det_val = validate_detector(det, images, dboxes, val_idx)
    if args.stage == "detector":
        log(f"saved {os.path.relpath(ckpt, REPO)}; total {fmt_eta(time.time() - t_start)}")
        return

    # --- embedder: SKUs sorted by name; a deterministic handful is held out for enrollment
    skus = sorted({n for b in boxes for n, _, _ in b if n not in (EMPTY, UNKNOWN)})
    held_out = sorted(skus[len(skus) // (HELD_OUT_COUNT + 1) :: max(1, len(skus) // (HELD_OUT_COUNT + 1))][:HELD_OUT_COUNT])
    train_skus = [s for s in skus if s not in held_out]
    cls_of = {s: k for k, s in enumerate(train_skus)}
    items = embedder_items(boxes, train_idx, cls_of)
    extra_tag = f"-e{args.emb_steps}" + (f"-x{args.emb_extra_brands}n{args.emb_extra_count}{extra_difficulty}" if extra_set else "")
    extra_tag += f"s{args.emb_extra_share:g}" if args.emb_extra_share is not None else ""
    emb_ckpt = os.path.join(CACHE, f"embedder-{key}{'' if args.emb_width == 24 else f'-w{args.emb_width}'}{extra_tag}.pt")
    log(f"embedder: {len(train_skus)} training SKUs, {len(items)} crops; held out for enrollment: {', '.join(held_out)}")
    emb_frames = work
    extra_skus: list[str] = []
    extra_from = None
    if extra_set and not (args.reuse_embedder and os.path.exists(emb_ckpt)):
        eseed = EXTRA_SEED if args.emb_extra_brands > 0 else EXTRA_DIFFICULTY_SEED
        eroot = os.path.join(CACHE, f"extra-s{eseed}-n{args.emb_extra_count}-b{args.emb_extra_brands}-mixed-{extra_difficulty}")
        eregen = ensure_dataset(eroot, args.emb_extra_count, eseed, extra_difficulty, "mixed", args.emb_extra_brands)
        esamples = load_coco(eroot)
        _, (ework, _, eboxes) = decoded_set(eroot, esamples, eregen)
        # Size variants of an invented line share their art and nearly their crop's shape (a 250 ml
        # and a 500 ml can): one class, as the shelf scale, not the embedder, tells them apart (D28).
        # Taught to split them, the embedder learned cues that cost the catalog's size variants.
        line_of = {n: re.sub(r"-\d+([cpgt])$", r"-\1", n) for b in eboxes for n, _, _ in b if n.startswith("syn")}
        extra_skus = sorted(set(line_of.values()))
        line_cls = {s: len(train_skus) + k for k, s in enumerate(extra_skus)}
        cls_of.update({n: line_cls[line] for n, line in line_of.items()})
        extra_items = embedder_items(eboxes, range(len(esamples)), cls_of, offset=len(work))
        extra_from = len(items)
        items += extra_items
        emb_frames = Frames(work, ework)
        invented = f"; {len(line_of)} invented SKUs ({len(extra_skus)} classes: sizes of a line are one) of {args.emb_extra_brands} brands" if line_of else ""
        log(f"embedder: + {len(extra_items)} crops of {args.emb_extra_count} {extra_difficulty} scenes ({eroot}){invented}")
    if args.reuse_embedder and os.path.exists(emb_ckpt):
        emb = Embedder(EMB_DIM, args.emb_width)
        emb.load_state_dict(torch.load(emb_ckpt))
        emb.eval()
        log(f"reusing embedder checkpoint {os.path.relpath(emb_ckpt, REPO)}")
    else:
        emb = train_embedder(
            emb_frames, items, len(train_skus) + len(extra_skus), args.emb_steps, args.emb_batch, args.init_embedder, args.emb_lr, args.emb_width,
            extra_from, args.emb_extra_share, precision,
        )
        torch.save(emb.state_dict(), emb_ckpt)
    if args.stage == "embedder":
        log(f"saved {os.path.relpath(emb_ckpt, REPO)}; total {fmt_eta(time.time() - t_start)}")
        return

    # --- gallery: a few crops per SKU from training images, same crop path as the device
    rng = np.random.default_rng(7)
    by_sku: dict[str, list[tuple[int, tuple]]] = {s: [] for s in skus}
    for i in train_idx:
        for n, b, e in boxes[i]:  # noqa: B007
            # Reference shots are unoccluded front packs, like photos taken to enroll a new SKU.
            if n in by_sku and e.get("occlusion", 0) <= 0.05:
                by_sku[n].append((i, b))
    sizes = pack_sizes()
    entries = []
    protos = []  # per SKU: its shots' embeddings (a crop matches a SKU through its nearest shot)
    for s in skus:
        pool = by_sku[s]
        if not pool:  # no clean front pack of this SKU: fall back to any visible one
            pool = [(i, b) for i in train_idx for n, b, e in boxes[i] if n == s]
        if not pool:  # only in validation images (a small --dataset): enroll it from those
            pool = [(i, b) for i in val_idx for n, b, e in boxes[i] if n == s]
            log(f"gallery: {s} appears only in validation images; its reference shots come from them")
        shots = [pool[k] for k in rng.choice(len(pool), size=min(GALLERY_SHOTS, len(pool)), replace=False)]
        vecs = embed(emb, work, shots)
        proto = vecs.mean(0)
        proto /= np.linalg.norm(proto) + 1e-9
        protos.append(vecs)
        entries.append(
            {
                "sku": s,
                "source": "crops",
                "shots": len(shots),
                "heldOut": s in held_out,
                "vector": [round(float(v), 5) for v in proto],
                "shotVectors": [[round(float(v), 5) for v in vec] for vec in vecs],
                **({"sizeMm": sizes[s]} if s in sizes else {}),
            }
        )

    # --- calibrate the unknown threshold on validation crops (known SKUs vs products not in catalog)
    val_items = [(i, b, n) for i in val_idx for n, b, e in boxes[i] if n != EMPTY and e.get("occlusion", 0) <= MAX_OCCLUSION]
    vecs = embed(emb, work, [(i, b) for i, b, _ in val_items])
    sims = np.stack([(vecs @ p.T).max(1) for p in protos], 1)  # nearest shot of each SKU, as on the device
    best = sims.argmax(1)
    best_sim = sims.max(1)
    names = np.array([n for _, _, n in val_items])
    is_unknown = names == UNKNOWN
    pred = np.array([skus[k] for k in best])
    correct = (pred == names) & ~is_unknown
    held = np.isin(names, held_out)
    thr_best, score_best = 0.5, -1.0
    for thr in np.linspace(0.2, 0.95, 151):
        # Every validation crop counts once: a known SKU must be matched and kept, an unknown rejected.
        score = (correct & (best_sim >= thr)).sum() + (is_unknown & (best_sim < thr)).sum()
        if score > score_best:
            thr_best, score_best = float(thr), float(score)
    known = ~is_unknown
    acc_known = float((correct & (best_sim >= thr_best)).sum() / max(1, known.sum()))
    acc_held = float((correct & held & (best_sim >= thr_best)).sum() / max(1, held.sum()))
    unk_rec = float((is_unknown & (best_sim < thr_best)).sum() / max(1, is_unknown.sum()))
    log(
        f"validation crops: {known.sum()} known ({held.sum()} of held-out SKUs), {is_unknown.sum()} unknown; "
        f"unknown threshold {thr_best:.3f}: SKU accuracy {acc_known * 100:.2f}%, held-out SKUs {acc_held * 100:.2f}%, "
        f"unknown recall {unk_rec * 100:.1f}%"
    )

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    export_onnx(det, emb, out)
    counter_entry, counter_training = train_column_counter(
        work, boxes, samples, front_view, train_idx, val_idx, args.counter_steps, out, box_weight=args.counter_box_weight,
        size=args.counter_size, precision=precision,
    )
    version = args.version
    gallery = {
        "name": "shelfsight-cooler-gallery",
        "version": f"{version}+{dt.date.today().strftime('%Y%m%d')}",
        "dim": EMB_DIM,
        "embedder": file_hash(os.path.join(out, "embedder.onnx")),
        "entries": entries,
    }
    with open(os.path.join(out, "gallery.json"), "w", encoding="utf-8") as f:
        json.dump(gallery, f, separators=(",", ":"))
    model = {
        "name": "shelfsight-cooler",
        "version": version,
        "license": "Apache-2.0",
        "input": {"width": INPUT_W, "height": INPUT_H, "pad": PAD_VALUE, "mean": MEAN, "std": STD},
        "work": {"width": WORK_W, "height": WORK_H},
        "detector": {
            "file": "detector.onnx",
            "sha256": file_hash(os.path.join(out, "detector.onnx")),
            "stride": STRIDE,
            "classes": CLASSES,
            "scoreThreshold": 0.3,
            # Empty slots are stockouts: a lower bar finds 1-2 % more of them for 2-5 points of precision (D30).
            "classThresholds": {"empty": 0.25},
            "maxOcclusion": MAX_OCCLUSION,
            # decode.ts: a cell beside a stronger one is a centre too from this score (a pushed-back pack).
            "shoulderThreshold": 0.35,
            "nmsIou": 0.6,
            # nms.ts: overlapping products at nearly the same predicted depth are one pack seen twice.
            "depthSuppression": DEPTH_SUPPRESSION,
            "maxDetections": 300,
            # recognizer.ts: average the maps with the mirrored frame's (D29; the net trains on flips).
            "flipTest": True,
        },
        "embedder": {
            "file": "embedder.onnx",
            "sha256": file_hash(os.path.join(out, "embedder.onnx")),
            "width": EMB_W,
            "height": EMB_H,
            "dim": EMB_DIM,
            "cropPad": CROP_PAD,
            "unknownThreshold": round(thr_best, 4),
            "stackPrior": STACK_PRIOR,
        },
        "gallery": {"file": "gallery.json", "shots": GALLERY_SHOTS},
        "counter": counter_entry,
        "training": {
            "dataset": os.path.relpath(root, REPO) if not args.dataset else args.dataset,
            "seed": TRAIN_SEED,
            "images": len(samples),
            "fixture": args.fixture,
            "difficulty": args.difficulty,
            "detectorCycles": [{"steps": n, "peakLr": lr} for n, lr in args.det_cycles],
            "embedderSteps": args.emb_steps,
            "detectorInit": os.path.basename(args.init_detector) if args.init_detector else None,
            "embedderInit": os.path.basename(args.init_embedder) if args.init_embedder else None,
            "embedderLr": args.emb_lr,
            "embedderWidth": args.emb_width,
            "embedderExtraBrands": args.emb_extra_brands,
            "embedderExtraImages": args.emb_extra_count if extra_set else 0,
            "embedderExtraDifficulty": extra_difficulty if extra_set else None,
            "heldOutSkus": held_out,
            "precision": precision,
            "counter": counter_training,
            "validation": {
                "detectorPrecision": round(det_val["precision"], 4),
                "detectorRecall": round(det_val["recall"], 4),
                "skuAccuracy": round(acc_known, 4),
                "heldOutSkuAccuracy": round(acc_held, 4),
                "unknownRecall": round(unk_rec, 4),
            },
            "minutes": round((time.time() - t_start) / 60, 1),
        },
    }
    with open(os.path.join(out, "model.json"), "w", encoding="utf-8") as f:
        json.dump(model, f, indent=2)
        f.write("\n")
    log(f"wrote model.json and gallery.json to {os.path.relpath(out, REPO)}; total {fmt_eta(time.time() - t_start)}")
    calibrate_floors(out)
    log(f"done; total {fmt_eta(time.time() - t_start)}")


def calibrate_floors(out: str) -> None:
    """Per-SKU similarity floors (gallery.json minSimilarity, D36) for the new embedder: the old ones
    meant nothing for new vectors. Runs the device pipeline on a simulated set of known SKUs."""
    cmd = ["npm", "run", "--silent", "calibrate-floors", "--", "--models", out, "--write"]
    log("running " + " ".join(cmd))
    subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
