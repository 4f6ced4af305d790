"""The reference fixtures (spec §8): our FourM reproduces the reference's forward on both tiny checkpoints.

Every float tensor is checked the way docs/numerics.md says: ours and the reference's both lie within the
float32 rounding bound of a float64 recomputation from the same weights and batch. Ids, shapes and argmaxes
are exact (argmaxes taken at a near tie are reported instead).
"""

from __future__ import annotations

import pytest
import torch

from mm4m.testing.numerics import (assert_discrete_match, assert_within_float32_bound, reduction_length,
                                   rounding_bound, summation_bound, top2_margin, weighted_rounding_bound)

EXACT = ("target_ids", "n_tokens", "encoder_mod_id_valid", "return_logits_shape")
GOLDEN_NAMES = ("swiglu", "gelu_qknorm")


class ForwardBounds:
    """Float32 error bounds of one run's fixture tensors, derived stage by stage from the float64 truth.

    ``hidden`` roundings reach an encoder/decoder output: every layer's reduction (`reduction_length`) plus,
    per attention layer, the softmax normaliser and the weighted sum over the attended tokens (2 per token).
    Errors are relative to the row's largest |value| (the layer norms rescale them with the activations).
    """

    def __init__(self, golden, run: str, sketch_matrix):
        model, budget = golden.model, golden.budgets[run]
        enc, dec = budget["num_encoder_tokens"], budget["num_decoder_tokens"]
        depth_e, depth_d = model.config.encoder_depth, model.config.decoder_depth
        self.hidden = reduction_length(model) + 2 * (depth_e * enc + depth_d * (dec + enc))
        self.dim = model.config.dim
        self.golden, self.run, self.sketch_matrix = golden, run, sketch_matrix

    def row(self, tensor: torch.Tensor) -> torch.Tensor:
        """Bound of a hidden-state tensor, per row."""
        return rounding_bound(self.hidden, tensor.abs().amax(-1, keepdim=True))

    def logits(self, key: str) -> torch.Tensor:
        """Per row: the decoder output's error through the head, ||W_v||₂-weighted, plus the head's d roundings.

        Each logit is Σ_j W_vj·y_j; the errors of y are sign-random, so they add up with ||W_v||₂, and the
        head's own d roundings are relative to partial sums below √d·||W_v||₂·max|y| (hence d² roundings).
        """
        y = self.golden.truth[f"{self.run}.{key}.decoder_out"]
        weight = self.golden.model.decoder_embeddings[key].to_logits.weight.detach().double()
        scale = y.abs().amax(-1) * weight.norm(dim=1).max()
        return rounding_bound(self.hidden + self.dim**2, scale)

    def cross_entropy(self, key: str) -> torch.Tensor:
        """Per row, ℓ_t − logsumexp: two logit errors (logsumexp is 1-Lipschitz), the relative error of the sum
        of exponentials S (an absolute error of log S: the additions' and the exps' own roundings, over S),
        and the subtraction's rounding."""
        rows = self.golden.truth_rows[f"{self.run}.{key}"]
        exps = (rows - rows.amax(-1, keepdim=True)).exp()
        total = exps.sum(-1)
        own = (summation_bound(exps) ** 2 + weighted_rounding_bound(exps) ** 2).sqrt() / total
        lse = self.golden.truth[f"{self.run}.{key}.logsumexp"].abs()
        return 2 * self.logits(key) + own + rounding_bound(1, 2 * lse)

    def mean(self, per_row: torch.Tensor, value: torch.Tensor, count: int) -> torch.Tensor:
        """A mean of ``count`` positive terms: the largest term's error, plus the additions' roundings (the k-th
        relative to a partial sum ~k/count of the total, so Σ(k/count)² ≈ count/3 of them at the mean's size)
        and the division's."""
        largest = per_row.max() if per_row.numel() else torch.tensor(0.0, dtype=torch.float64)
        return largest + rounding_bound(count / 3 + 1, value.abs())

    def sketch(self, key: str) -> torch.Tensor:
        """ℓ·R_j over the vocabulary: the decoder output's error through Wᵀ·R_j, the head's roundings weighted by
        ||R_j||₂, and the sketch's own V roundings, each relative to its partial sum (6σ of their sum)."""
        rows = self.golden.truth_rows[f"{self.run}.{key}"]
        sketch_r = self.sketch_matrix(rows.shape[-1]).double()
        weight = self.golden.model.decoder_embeddings[key].to_logits.weight.detach().double()
        y = self.golden.truth[f"{self.run}.{key}.decoder_out"]
        y_scale = y.abs().amax(-1, keepdim=True)
        through_head = rounding_bound(self.hidden, y_scale) * (weight.T @ sketch_r).norm(dim=0)
        head_rounding = rounding_bound(self.dim**2, y_scale * weight.norm(dim=1).max()) * sketch_r.norm(dim=0)
        own = torch.stack([summation_bound(rows * sketch_r[:, j]) for j in range(sketch_r.shape[1])], -1)
        return (through_head**2 + head_rounding**2 + own**2).sqrt()


def bound_for(bounds: ForwardBounds, key: str, truth: torch.Tensor) -> torch.Tensor:
    """The float32 bound of fixture tensor ``key`` (``<run>.<...>``), by what it is."""
    rest = key.split(".", 1)[1]
    golden, run = bounds.golden, bounds.run
    if rest.startswith("loss_"):
        keys = [k for k in golden.model.decoder_embeddings if f"{run}.{k}.ce_mean" in golden.truth]
        per_row = torch.cat([bounds.cross_entropy(k) for k in keys])
        count = sum(golden.truth_rows[f"{run}.{k}"].shape[0] for k in keys) + len(keys)
        return bounds.mean(per_row, truth, count)
    modality, stat = rest.rsplit(".", 1) if "." in rest else (None, rest)
    if stat in ("encoder_out_valid", "decoder_out"):
        return bounds.row(truth)
    if stat in ("max_logit", "logits_first2"):
        per_row = bounds.logits(modality)
        return per_row[: truth.shape[0], None] if truth.dim() == 2 else per_row
    if stat in ("logsumexp", "target_logprob"):
        return bounds.cross_entropy(modality)
    if stat == "ce_mean":
        per_row = bounds.cross_entropy(modality)
        return bounds.mean(per_row, truth, per_row.numel())
    if stat == "logits_sketch":
        return bounds.sketch(modality)
    raise KeyError(f"no float32 bound is derived for fixture tensor {key!r}")


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_every_golden_tensor_matches(name, golden_expected, golden_runs, golden_tools):
    """Losses (both types), hidden states, logit statistics within their bounds; ids, argmaxes and shapes exactly."""
    expected, golden = golden_expected[name], golden_runs[name]
    assert sorted(golden.ours) == sorted(expected)
    bounds = {run: ForwardBounds(golden, run, golden_tools.sketch_matrix) for run in golden.budgets}
    for key, want in expected.items():
        got, truth = golden.ours[key], golden.truth[key]
        run_bounds = bounds[key.split(".", 1)[0]]
        if any(part in key for part in EXACT):
            assert torch.equal(got.long(), want.long()), key
        elif key.endswith(".argmax"):
            modality = key.split(".")[1]
            margin = top2_margin(golden.truth_rows[key.removesuffix(".argmax")])
            assert_discrete_match(key, got, want, margin, run_bounds.logits(modality))
        else:
            assert_within_float32_bound(key, got, want, truth, bound_for(run_bounds, key, truth))


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_loss_bounds_stay_near_1e_5(name, golden_runs, golden_tools):
    """The derived bounds are no excuse for loose checks: every loss is held to a few 1e-5 at most."""
    golden = golden_runs[name]
    for run in golden.budgets:
        bounds = ForwardBounds(golden, run, golden_tools.sketch_matrix)
        for key in (k for k in golden.truth if k.startswith(f"{run}.loss_")):
            assert float(bound_for(bounds, key, golden.truth[key])) < 5e-5, key
