"""Fused attention for the `attention` entry point: tile plans, the Triton kernels and a FlexAttention path.

Only `tiles`, `support` and `flex` are importable without Triton; `function` (and `triton_kernels`) need it,
so `mm4m.core.model.attention` imports them lazily, on the path that uses them.
"""
