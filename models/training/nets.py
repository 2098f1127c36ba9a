"""Network definitions for the ShelfSight recognition models.

Both nets are deliberately tiny: they run on a single CPU thread on the edge device, and they are
trained from scratch on synthetic scenes in well under an hour on a 2-core machine.
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F


def conv_bn(cin: int, cout: int, k: int = 3, s: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class DWBlock(nn.Module):
    """Depthwise-separable residual block: most of the receptive field for a fraction of the MACs."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.dw = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=False), nn.BatchNorm2d(c))
        self.pw = nn.Sequential(nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.pw(F.relu(self.dw(x))))


def down(cin: int, cout: int, blocks: int) -> nn.Sequential:
    return nn.Sequential(conv_bn(cin, cout, 3, 2), *[DWBlock(cout) for _ in range(blocks)])


class Detector(nn.Module):
    """CenterNet-style anchor-free detector with a stride-4 output.

    Outputs, for an input of H x W:
      heat: (N, C, H/4, W/4) object-centre probabilities per class (0 = product, 1 = empty slot)
      reg:  (N, 4, H/4, W/4) = [dx, dy, log(w/4), log(h/4)]: sub-cell centre offset and box size.
      depth: (N, 1, H/4, W/4) how many packs stand in front of the pack centred here (0 = the front pack).
    Depth tells two boxes on one pack (the same depth) from a pack and the one pushed back behind it
    (depths one apart), which overlap just as much in the image.
    Stride 4 rather than 8: a pack pushed back behind another shows up ~13 px higher at 640x480,
    which at stride 8 puts both centres in neighbouring cells, where peak picking merges them.
    The sigmoid is applied inside the graph so that the runtime only does peak picking.
    """

    STRIDE = 4

    def __init__(self, num_classes: int = 2, width: int = 16) -> None:
        super().__init__()
        w = width
        self.stem = conv_bn(3, w, 3, 2)  # /2
        self.s4 = down(w, 2 * w, 1)  # /4
        self.s8 = down(2 * w, 3 * w, 2)  # /8
        self.s16 = down(3 * w, 4 * w, 2)  # /16
        self.s32 = down(4 * w, 6 * w, 2)  # /32: sees whole packs plus their neighbours
        self.lat16 = conv_bn(4 * w, 3 * w, 1)
        self.top32 = conv_bn(6 * w, 3 * w, 1)
        self.lat8 = conv_bn(3 * w, 3 * w, 1)
        self.fuse8 = nn.Sequential(conv_bn(3 * w, 3 * w, 3), DWBlock(3 * w))
        self.top8 = conv_bn(3 * w, 2 * w, 1)
        self.lat4 = conv_bn(2 * w, 2 * w, 1)
        self.fuse4 = nn.Sequential(DWBlock(2 * w), DWBlock(2 * w))
        self.heat = nn.Conv2d(2 * w, num_classes, 1)
        self.reg = nn.Conv2d(2 * w, 4, 1)
        self.depth = nn.Sequential(conv_bn(2 * w, 2 * w, 3), nn.Conv2d(2 * w, 1, 1))
        # Focal-loss prior: start with a low object probability so the loss does not explode.
        nn.init.constant_(self.heat.bias, -2.19)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The stride-4 feature map every head reads."""
        x = self.stem(x)
        c4 = self.s4(x)
        c8 = self.s8(c4)
        c16 = self.s16(c8)
        c32 = self.s32(c16)
        p16 = self.lat16(c16) + F.interpolate(self.top32(c32), scale_factor=2.0, mode="nearest")
        p8 = self.fuse8(self.lat8(c8) + F.interpolate(p16, scale_factor=2.0, mode="nearest"))
        return self.fuse4(self.lat4(c4) + F.interpolate(self.top8(p8), scale_factor=2.0, mode="nearest"))

    def logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        p4 = self.features(x)
        return self.heat(p4), self.reg(p4), self.depth(p4)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        heat, reg, depth = self.logits(x)
        return torch.sigmoid(heat), reg, depth


class Embedder(nn.Module):
    """Maps a product crop to an L2-normalised embedding; matched by cosine against a gallery."""

    def __init__(self, dim: int = 128, width: int = 24) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            conv_bn(3, w, 3, 2),
            DWBlock(w),
            down(w, 2 * w, 1),
            down(2 * w, 3 * w, 2),
            down(3 * w, 4 * w, 2),
            conv_bn(4 * w, 6 * w, 1),
        )
        self.proj = nn.Linear(6 * w, dim)
        self.bn = nn.BatchNorm1d(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.features(x))

    def project(self, f: torch.Tensor) -> torch.Tensor:
        """Feature map -> embedding (training runs it in fp32 where the features came out bf16)."""
        # Mean + max pooling: max keeps small distinctive marks (flavour badges) that averaging dilutes.
        f = f.mean(dim=(2, 3)) + f.amax(dim=(2, 3))
        return F.normalize(self.bn(self.proj(f)), dim=1)


class CosineHead(nn.Module):
    """Additive-margin cosine softmax (CosFace): trains embeddings whose angles separate classes."""

    def __init__(self, dim: int, num_classes: int, scale: float = 20.0, margin: float = 0.25) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_classes, dim) * 0.1)
        self.scale = scale
        self.margin = margin

    def forward(self, emb: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        cos = emb @ F.normalize(self.weight, dim=1).t()
        onehot = F.one_hot(labels, cos.shape[1]).to(cos.dtype)
        return self.scale * (cos - self.margin * onehot)


class Counter(nn.Module):
    """Packs in one shelf column, and where those behind the front show, from a crop round its front
    pack (64 x 160 as shipped; see counter.py).

    Plain strided convolutions down to a 1/16 grid (10 x 4 as shipped), then two small dense heads (count; places):
    where in the crop a sliver of a back pack shows matters, so the map is flattened rather than
    pooled. About 8 M multiply-adds per column, a few milliseconds for a whole cooler on one core.
    """

    def __init__(self, classes: int = 4, width: int = 64, height: int = 160) -> None:
        super().__init__()
        self.width, self.height = width, height  # the crop size it takes (counter.py cuts crops at it)
        self.f = nn.Sequential(conv_bn(3, 16, 3, 2), conv_bn(16, 24, 3, 2), conv_bn(24, 32, 3, 2), conv_bn(32, 48), conv_bn(48, 64, 3, 2))
        cells = -(-width // 16) * -(-height // 16)  # four stride-2 convolutions with padding 1
        self.h = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(64 * cells, 64), nn.ReLU(inplace=True), nn.Linear(64, classes))
        # Where the 1st .. (classes - 1)-th pack behind the front shows in this column: x, y offset in
        # front-box widths and heights and size as a share of the front box, 4 numbers per pack. A
        # branch of its own, so that it can be trained on a finished counter without changing a count.
        self.b = nn.Sequential(nn.Flatten(), nn.Linear(64 * cells, 64), nn.ReLU(inplace=True), nn.Linear(64, 4 * (classes - 1)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.f(x)
        return self.h(z), self.b(z)
