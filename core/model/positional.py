"""Fixed sin-cos positional tables of the reference (spec §2.3), built in float64 then cast."""

from __future__ import annotations

import torch

SEQUENCE_TABLE_LENGTH = 512
"""Every 1-D table has 512 rows, whatever the modality's length (a reference quirk kept for checkpoints)."""


def sincos_1d(num_positions: int, dim: int) -> torch.Tensor:
    """(1, num_positions, dim): all sines of p·ω_k first, then all cosines, ω_k = 10000^(−k/(dim/2))."""
    if dim % 2:
        raise ValueError(f"1-D sin-cos positions need an even width, got dim={dim}")
    omega = 10000.0 ** (-torch.arange(dim // 2, dtype=torch.float64) / (dim / 2))
    angles = torch.arange(num_positions, dtype=torch.float64)[:, None] * omega[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1).float().unsqueeze(0)


def sincos_2d(rows: int, cols: int, dim: int) -> torch.Tensor:
    """(1, rows·cols, dim) for a row-major grid: [sin(aω), cos(aω), sin(bω), cos(bω)], ω_k = 10000^(−k/(dim/4)).

    As in the reference, a = n div rows and b = n mod rows for flat index n (row and column on square grids).
    """
    if dim % 4:
        raise ValueError(f"2-D sin-cos positions need a width divisible by 4, got dim={dim}")
    omega = 10000.0 ** (-torch.arange(dim // 4, dtype=torch.float64) / (dim / 4))
    flat = torch.arange(rows * cols, dtype=torch.float64)
    a = torch.div(flat, rows, rounding_mode="floor")[:, None] * omega[None, :]
    b = torch.remainder(flat, rows)[:, None] * omega[None, :]
    return torch.cat([a.sin(), a.cos(), b.sin(), b.cos()], dim=1).float().unsqueeze(0)
