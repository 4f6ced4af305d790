"""What the fused Triton kernels accept, checked without importing Triton."""

from __future__ import annotations

import importlib.util
import os

import torch

SUPPORTED_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
SUPPORTED_HEAD_DIMS = (32, 64, 128)


def triton_installed() -> bool:
    """Whether the optional ``triton`` package can be imported (it is not imported here)."""
    return importlib.util.find_spec("triton") is not None


def interpreter_enabled() -> bool:
    """Whether ``TRITON_INTERPRET`` asks Triton to run kernels on the CPU with its interpreter."""
    return os.environ.get("TRITON_INTERPRET", "").strip().lower() in ("1", "true", "on", "yes")


def unsupported_reason(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> str | None:
    """Why the fused kernels cannot take these inputs (thing, expected, found), or None when they can."""
    if q.dim() != 4 or k.dim() != 4 or v.dim() != 4:
        return f"q, k, v must be 4-D (B, H, N, Dh); found {q.dim()}-D, {k.dim()}-D, {v.dim()}-D"
    if not q.dtype == k.dtype == v.dtype:
        return f"q, k, v must share a dtype; found {q.dtype}, {k.dtype}, {v.dtype}"
    if q.dtype not in SUPPORTED_DTYPES:
        return f"dtype must be one of {[str(d) for d in SUPPORTED_DTYPES]}; found {q.dtype}"
    if not q.shape[-1] == k.shape[-1] == v.shape[-1]:
        return f"q, k, v must share a head dim; found {q.shape[-1]}, {k.shape[-1]}, {v.shape[-1]}"
    if q.shape[-1] not in SUPPORTED_HEAD_DIMS:
        return f"head dim must be one of {list(SUPPORTED_HEAD_DIMS)}; found {q.shape[-1]}"
    if k.shape[:3] != v.shape[:3] or q.shape[:2] != k.shape[:2]:
        return f"k and v must be (B, H, N, Dh) with q's B and H; found q {tuple(q.shape)}, k {tuple(k.shape)}, " \
               f"v {tuple(v.shape)}"
    if not q.device == k.device == v.device:
        return f"q, k, v must be on one device; found {q.device}, {k.device}, {v.device}"
    if q.device.type != "cuda" and not (q.device.type == "cpu" and interpreter_enabled()):
        return f"device must be cuda (or cpu with TRITON_INTERPRET=1 for Triton's interpreter); found {q.device}"
    return None
