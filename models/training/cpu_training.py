"""Training speed on the CPU: channels-last memory and, where the CPU computes in bf16, bf16 autocast.

The nets are small convolutional nets whose depthwise and 1x1 convolutions oneDNN runs far faster on
NHWC (channels-last) tensors than on PyTorch's default NCHW, and on CPUs with AVX512-BF16 or AMX about
twice as fast again in bf16 (decision D44). Weights, optimiser state, losses and the exported ONNX stay
fp32: only the convolutions and dense layers of the forward and backward passes run in bf16.
Validation and export always run in plain fp32.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

PRECISIONS = ("auto", "bf16", "fp32")


def cpu_has_bf16() -> bool:
    """Whether the CPU has native bf16 arithmetic (without it oneDNN emulates bf16, slower than fp32)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve(spec: str) -> str:
    """`auto` -> bf16 where the CPU has it, else fp32; `bf16` / `fp32` as asked."""
    if spec not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {spec!r}")
    if spec == "auto":
        return "bf16" if cpu_has_bf16() else "fp32"
    return spec


def channels_last(net: nn.Module) -> nn.Module:
    return net.to(memory_format=torch.channels_last)


def plain(net: nn.Module) -> nn.Module:
    """Back to the default memory format, as validation, checkpoints and the ONNX exporter expect."""
    return net.to(memory_format=torch.contiguous_format)


def batch(x: torch.Tensor) -> torch.Tensor:
    return x.contiguous(memory_format=torch.channels_last)


def autocast(precision: str):
    """The context a training forward pass runs in; outputs come out bf16 where it is on: cast them
    with `.float()` before a loss."""
    if precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()
