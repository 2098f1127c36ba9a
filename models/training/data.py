"""Dataset loading, letterboxing and crop sampling shared by training, gallery building and checks.

The crop sampler mirrors `edge-agent/src/recognition/crop.ts` exactly (bilinear at pixel centres,
edge-clamped) so that embeddings computed here and on the device come from identical pixels.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

EMPTY = "__empty__"
UNKNOWN = "__unknown__"
PAD_VALUE = 114  # grey letterbox padding, same constant in model.json


@dataclass
class Obj:
    name: str  # SKU id, EMPTY or UNKNOWN
    box: tuple[float, float, float, float]  # x, y, w, h in original pixels
    extra: dict = field(default_factory=dict)


@dataclass
class Sample:
    path: str
    width: int
    height: int
    objs: list[Obj]


def load_coco(root: str) -> list[Sample]:
    with open(os.path.join(root, "annotations.json"), encoding="utf-8") as f:
        coco = json.load(f)
    cats = {c["id"]: c["name"] for c in coco["categories"]}
    by_img: dict[int, list[Obj]] = {im["id"]: [] for im in coco["images"]}
    skip = {"id", "image_id", "category_id", "bbox"}
    for a in coco["annotations"]:
        extra = {k: v for k, v in a.items() if k not in skip}
        by_img[a["image_id"]].append(Obj(cats[a["category_id"]], tuple(a["bbox"]), extra))
    out = []
    for im in coco["images"]:
        path = os.path.join(root, "images", os.path.basename(im["file_name"]))
        if not os.path.exists(path):
            path = os.path.join(root, im["file_name"])
        out.append(Sample(path, im["width"], im["height"], by_img[im["id"]]))
    return out


def letterbox_params(w: int, h: int, dst_w: int, dst_h: int) -> tuple[float, int, int, int, int]:
    """Scale and padding that fit a w x h image into dst_w x dst_h keeping aspect ratio.

    Returns (scale, new_w, new_h, pad_left, pad_top); same rounding as letterbox.ts.
    """
    scale = min(dst_w / w, dst_h / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    return scale, nw, nh, (dst_w - nw) // 2, (dst_h - nh) // 2


def letterbox(img: Image.Image, dst_w: int, dst_h: int) -> tuple[np.ndarray, tuple[float, int, int, int, int]]:
    """Aspect-preserving resize onto a grey canvas, like the device's sharp pipeline.

    `draft` lets libjpeg decode at 1/2, 1/4 ... scale first, as sharp's shrink-on-load does, so
    training pixels match device pixels closely (and decoding is faster).
    """
    w, h = img.size
    p = letterbox_params(w, h, dst_w, dst_h)
    _, nw, nh, left, top = p
    if img.format == "JPEG":
        img.draft("RGB", (nw, nh))
    canvas = np.full((dst_h, dst_w, 3), PAD_VALUE, np.uint8)
    rgb = img.convert("RGB")
    if rgb.size != (nw, nh):
        rgb = rgb.resize((nw, nh), Image.LANCZOS)
    canvas[top : top + nh, left : left + nw] = np.asarray(rgb)
    return canvas, p


def resize_u8(arr: np.ndarray, w: int, h: int) -> np.ndarray:
    """Work image -> detector input (Lanczos, as sharp's default kernel)."""
    if arr.shape[1] == w and arr.shape[0] == h:
        return arr
    return np.asarray(Image.fromarray(np.ascontiguousarray(arr)).resize((w, h), Image.LANCZOS))


def sample_crop(img: np.ndarray, box: tuple[float, float, float, float], out_w: int, out_h: int) -> np.ndarray:
    """Bilinear crop of `box` (x, y, w, h in img pixels) resized to out_w x out_h, edge-clamped."""
    x, y, w, h = box
    H, W = img.shape[:2]
    xs = x + (np.arange(out_w) + 0.5) * (w / out_w) - 0.5
    ys = y + (np.arange(out_h) + 0.5) * (h / out_h) - 0.5
    xs = np.clip(xs, 0, W - 1)
    ys = np.clip(ys, 0, H - 1)
    x0 = np.floor(xs).astype(np.int64)
    y0 = np.floor(ys).astype(np.int64)
    x1 = np.minimum(x0 + 1, W - 1)
    y1 = np.minimum(y0 + 1, H - 1)
    fx = (xs - x0)[None, :, None].astype(np.float32)
    fy = (ys - y0)[:, None, None].astype(np.float32)
    # Convert only the window the crop touches: the frame itself can be megapixels.
    ya, yb, xa, xb = int(y0.min()), int(y1.max()) + 1, int(x0.min()), int(x1.max()) + 1
    sub = np.asarray(img[ya:yb, xa:xb], dtype=np.float32)
    y0, y1, x0, x1 = y0 - ya, y1 - ya, x0 - xa, x1 - xa
    r0, r1 = sub[y0], sub[y1]
    top = r0[:, x0] * (1 - fx) + r0[:, x1] * fx
    bot = r1[:, x0] * (1 - fx) + r1[:, x1] * fx
    return top * (1 - fy) + bot * fy  # float32 0-255, (out_h, out_w, 3)


def expand_box(box: tuple[float, float, float, float], pad: float) -> tuple[float, float, float, float]:
    """Grow a box by `pad` of its size on each side: a little context makes crops robust to box jitter."""
    x, y, w, h = box
    return (x - pad * w, y - pad * h, w * (1 + 2 * pad), h * (1 + 2 * pad))
