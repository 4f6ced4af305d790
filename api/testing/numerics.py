"""Comparisons against float32 reference fixtures that hold on every CPU (docs/numerics.md).

A fixture is a float32 result of another implementation on another CPU; its last bits depend on the
summation orders that CPU's kernels chose. So a test never compares our float32 result with the fixture's
bits. It recomputes the same function in float64 from the same float32 weights and inputs (the "truth",
whose own error is ~1e-16 and negligible) and asserts that *both* float32 results lie within the float32
rounding bound of the truth: the reference one proves we compute the reference's function, ours proves our
float32 path is as accurate as it should be, and together they bound |ours − reference| by twice the bound
on any CPU.

The bound models each float32 rounding as an independent error uniform in [−u, u] (u = 2⁻²⁴, standard
deviation u/√3) relative to the magnitude it rounds. The sum of ``n`` of them has standard deviation
u·√(n/3); the bound is six of those (a 6σ event has probability ~2e-9 per element, so a fixture of a few
million elements does not trip it by chance). Discrete results (ids, argmaxes, masks, shapes) compare
exactly, except that a decision the truth makes at a near tie (margin below the float32 error) is reported
as a `NearTieWarning` instead of being allowed to flip silently.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import torch
from torch import nn

UNIT_ROUNDOFF = 2.0**-24
"""u: the largest relative error of one float32 rounding to nearest."""
SIGMAS = 6.0
"""How many standard deviations of the accumulated rounding error a bound allows (see the module doc)."""

T = TypeVar("T")


class NearTieWarning(UserWarning):
    """A fixture's discrete decision was taken at a margin smaller than the float32 error of its inputs."""


def rounding_bound(n: int | torch.Tensor, scale: float | torch.Tensor) -> float | torch.Tensor:
    """6σ bound on the sum of ``n`` independent float32 roundings, each relative to ``scale``."""
    root = torch.sqrt(n / 3) if isinstance(n, torch.Tensor) else math.sqrt(n / 3)
    return SIGMAS * UNIT_ROUNDOFF * root * scale


def weighted_rounding_bound(weights: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """6σ bound on Σ_i δ_i·w_i for independent roundings δ_i (|δ_i| ≤ u), the w_i along ``dim``: 6·u/√3·‖w‖₂."""
    return SIGMAS * UNIT_ROUNDOFF / math.sqrt(3) * weights.double().norm(dim=dim)


def summation_bound(terms: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """6σ bound on the rounding error of summing ``terms`` along ``dim`` one after another.

    Each addition rounds relative to the partial sum it produces, so the weights are the partial sums. For
    same-signed terms that order is the worst: pairwise or lane-blocked orders (what vectorised kernels use)
    produce smaller partial sums, so the bound holds whatever order a CPU's kernels pick.
    """
    return weighted_rounding_bound(terms.double().cumsum(dim), dim)


def reduction_length(module: nn.Module) -> int:
    """Roundings that can accumulate into one output of ``module``, from its layers' shapes alone.

    A linear or convolution output is a dot product of fan-in terms; a layer norm reduces its features twice
    (mean, variance). Along any path through the network each layer contributes at most once, so the total
    over all layers bounds the chain of any one element. Reductions whose length depends on the input
    (attention over tokens, group norms over pixels) are the caller's to add.
    """
    total = 0
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            total += layer.weight[0].numel()
        elif type(layer).__name__.endswith("LayerNorm") and isinstance(getattr(layer, "weight", None), torch.Tensor):
            total += 2 * layer.weight.numel()
    return total


def traced_reduction_length(module: nn.Module, *args: Any) -> int:
    """`reduction_length` plus the reductions whose length depends on the input, seen in one call with ``args``.

    Group norms reduce (C/G)·spatial values twice; a module whose class name contains ``Attention`` reduces
    over its tokens twice (softmax normaliser, weighted sum), its input laid out (B, T, D) or (B, C, *spatial).
    """
    extra = 0

    def count(layer: nn.Module, inputs: tuple, _output: Any) -> None:
        nonlocal extra
        x = inputs[0]
        if isinstance(layer, nn.GroupNorm):
            extra += 2 * (x.shape[1] // layer.num_groups) * math.prod(x.shape[2:])
        elif "Attention" in type(layer).__name__:
            extra += 2 * (x.shape[1] if x.dim() == 3 else math.prod(x.shape[2:]))

    handles = [layer.register_forward_hook(count) for layer in module.modules()]
    try:
        with torch.no_grad():
            module(*args)
    finally:
        for handle in handles:
            handle.remove()
    return reduction_length(module) + extra


def to_float64(value: T) -> T:
    """A float64 copy of a module, tensor, or nested dict/list/tuple of them (integer tensors unchanged)."""
    if isinstance(value, nn.Module):
        return copy.deepcopy(value).double()
    if isinstance(value, torch.Tensor):
        return value.double() if value.is_floating_point() else value
    if isinstance(value, Mapping):
        return type(value)({k: to_float64(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return type(value)(to_float64(v) for v in value)
    return value


def in_float64(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``fn`` (a module is copied too) on float64 copies of its arguments, float64 the default dtype."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        with torch.no_grad():
            call = to_float64(fn) if isinstance(fn, nn.Module) else fn
            return call(*to_float64(args), **to_float64(kwargs))
    finally:
        torch.set_default_dtype(previous)


def _excess(name: str, which: str, got: torch.Tensor, truth: torch.Tensor, bound: torch.Tensor) -> str | None:
    error = (got.double() - truth.double()).abs()
    over = error > bound
    if not over.any():
        return None
    limit = bound.expand_as(error)
    index = tuple(int(i) for i in torch.unravel_index((error - limit).flatten().argmax(), error.shape))
    return (f"{name}: {which} is {float(error[index]):.3g} from the float64 recomputation at {index}, beyond "
            f"its float32 bound {float(limit[index]):.3g} ({int(over.sum())} of {error.numel()} "
            f"elements over; largest error {float(error.max()):.3g})")


def assert_within_float32_bound(name: str, ours: torch.Tensor, reference: torch.Tensor | None,
                                truth: torch.Tensor, bound: float | torch.Tensor) -> None:
    """Assert ours (and the reference, when given) lie within ``bound`` of the float64 ``truth``, elementwise."""
    if reference is not None and reference.shape != truth.shape:
        raise AssertionError(f"{name}: the reference has shape {tuple(reference.shape)}, the recomputation "
                             f"{tuple(truth.shape)}")
    if ours.shape != truth.shape:
        raise AssertionError(f"{name}: ours has shape {tuple(ours.shape)}, expected {tuple(truth.shape)}")
    limit = torch.as_tensor(bound, dtype=torch.float64)
    problems = [_excess(name, "ours", ours, truth, limit)]
    if reference is not None:
        problems.append(_excess(name, "the reference", reference, truth, limit))
    found = [p for p in problems if p]
    if found:
        raise AssertionError("; ".join(found))


def top2_margin(scores: torch.Tensor) -> torch.Tensor:
    """Gap between the largest and the second-largest score along the last axis (the argmax's safety margin)."""
    top = scores.topk(2, dim=-1).values
    return top[..., 0] - top[..., 1]


def assert_discrete_match(name: str, ours: torch.Tensor, reference: torch.Tensor, margin: torch.Tensor,
                          error: float | torch.Tensor) -> None:
    """Exact equality of discrete decisions, except that decisions taken within ``2·error`` are reported.

    ``margin`` is the float64 truth's margin for each decision (e.g. `top2_margin` of the scores) and
    ``error`` the float32 bound of the scores: a margin above twice the bound cannot flip between two float32
    computations that each lie within the bound, so any mismatch there fails. Mismatches at near ties are
    reported as a `NearTieWarning`; near ties that did not flip are reported too, as the fixture's fragility.
    """
    if ours.shape != reference.shape:
        raise AssertionError(f"{name}: ours has shape {tuple(ours.shape)}, the reference {tuple(reference.shape)}")
    near = margin.double() <= 2 * torch.as_tensor(error, dtype=torch.float64)
    differs = ours != reference
    firm = differs & ~near
    if firm.any():
        where = [tuple(int(i) for i in idx) for idx in firm.nonzero()[:5]]
        raise AssertionError(f"{name}: {int(firm.sum())} of {ours.numel()} decisions differ from the reference "
                             f"although their margin exceeds the float32 error {float(torch.as_tensor(error).max()):.3g}"
                             f" (first at {where})")
    if near.any():
        warnings.warn(NearTieWarning(
            f"{name}: {int(near.sum())} of {ours.numel()} decisions are near ties (margin ≤ 2×{float(torch.as_tensor(error).max()):.3g}); "
            f"{int((differs & near).sum())} of them differ from the reference"), stacklevel=2)


def chain_bounds(step_bounds: Sequence[float], growths: Sequence[float]) -> list[float]:
    """Bounds on a free-running chain: step k's own bound, and the carried bound grown by step k's ``growths[k]``.

    The own errors of different steps come from different roundings, so (as within a step) they add in
    quadrature: B_k = √(own_k² + (G_k·B_{k−1})²).
    """
    bounds, carried = [], 0.0
    for own, growth in zip(step_bounds, growths, strict=True):
        carried = math.hypot(own, growth * carried)
        bounds.append(carried)
    return bounds


def amplification(step: Callable[[torch.Tensor], torch.Tensor], state: torch.Tensor, size: float,
                  *, seed: int = 0, trials: int = 4) -> float:
    """How much one float64 step magnifies a rounding-like perturbation of its input (root-mean-square ratio).

    Rounding errors are small, sign-random and independent, so random ±``size`` perturbations measure the
    first-order growth of their typical size through the step (the largest of a few trials; below 1 where the
    step contracts them).
    """
    generator = torch.Generator().manual_seed(seed)
    base = step(state)
    worst = 0.0
    for _ in range(trials):
        signs = torch.randint(0, 2, state.shape, generator=generator, dtype=torch.int64) * 2 - 1
        delta = signs.to(state.dtype) * size
        moved = step(state + delta)
        worst = max(worst, float((moved - base).pow(2).mean().sqrt() / size))
    return worst
