"""Random 4M batches in the reference layouts (spec §4.2) and tiny registry-built models, for property tests."""

from __future__ import annotations

import torch

from mm4m.core.model.config import FourMConfig
from mm4m.core.model.fourm import FourM
from mm4m.registry import get_registry

IMAGE_KEYS = ("tok_depth@224", "tok_dinov2_global")
SEQ_KEYS = ("caption", "det")


def tiny_config(variant: str = "swiglu", *, dim: int = 32, depth: int = 2, heads: int = 4,
                domains_in=("rgb@224", *IMAGE_KEYS, *SEQ_KEYS), domains_out=(*IMAGE_KEYS, *SEQ_KEYS),
                **overrides) -> FourMConfig:
    """A small config of the given variant (``swiglu`` = no biases, ``gelu_qknorm`` = biases + QK-norm)."""
    swiglu = variant == "swiglu"
    return FourMConfig(domains_in=list(domains_in), domains_out=list(domains_out), dim=dim, encoder_depth=depth,
                       decoder_depth=depth, num_heads=heads, act_layer="SiLU" if swiglu else "GELU",
                       gated_mlp=swiglu, qkv_bias=not swiglu, proj_bias=not swiglu, mlp_bias=not swiglu,
                       norm_bias=not swiglu, qk_norm=not swiglu, **overrides)


def tiny_model(seed: int = 0, **kwargs) -> FourM:
    """A randomly initialised tiny FourM with non-trivial norms and biases, in eval mode."""
    torch.manual_seed(seed)
    model = FourM(tiny_config(**kwargs))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "norm" in name:
                p.add_(0.1 * torch.randn_like(p))
    return model.eval()


def image_entry(n: int, vocab: int, b_in: int, b_tgt: int, batch: int, g: torch.Generator) -> dict:
    """Random permutation split into b_in inputs and b_tgt targets; code #targets at the first target."""
    tensor = torch.randint(0, vocab, (batch, n), generator=g)
    input_mask = torch.ones(batch, n, dtype=torch.bool)
    target_mask = torch.ones(batch, n, dtype=torch.bool)
    codes = torch.zeros(batch, n, dtype=torch.int32)
    for b in range(batch):
        perm = torch.randperm(n, generator=g)
        input_mask[b, perm[:b_in]] = False
        target_mask[b, perm[b_in:b_in + b_tgt]] = False
        if b_tgt:
            codes[b, int(perm[b_in:b_in + b_tgt].min())] = b_tgt
    return {"tensor": tensor, "input_mask": input_mask, "target_mask": target_mask, "decoder_attention_mask": codes}


def seq_entry(max_tokens: int, l_in: int, b_in: int, l_tgt: int, batch: int, g: torch.Generator) -> dict:
    """Layout of §4.2: input ids at [0, l_in), target ids at [b_in, b_in + l_tgt), PAD elsewhere."""
    length = 2 * (max_tokens + 1)
    tensor = torch.zeros(batch, length, dtype=torch.int64)
    input_mask = torch.ones(batch, length, dtype=torch.bool)
    target_mask = torch.ones(batch, length, dtype=torch.bool)
    codes = torch.zeros(batch, length, dtype=torch.int32)
    tensor[:, :l_in] = torch.randint(4, 5000, (batch, l_in), generator=g)
    input_mask[:, :l_in] = False
    tensor[:, b_in:b_in + l_tgt] = torch.randint(4, 5000, (batch, l_tgt), generator=g)
    target_mask[:, b_in:b_in + l_tgt] = False
    codes[:, b_in:b_in + l_tgt] = 1
    return {"tensor": tensor, "input_mask": input_mask, "target_mask": target_mask, "decoder_attention_mask": codes}


def random_mod_dict(seed: int, budgets: dict[str, tuple[int, int]], batch: int = 2) -> dict[str, dict]:
    """A batch for the keys of ``budgets`` ({key: (inputs, targets)}); rgb@224 gets pixels and inputs only."""
    g = torch.Generator().manual_seed(seed)
    registry = get_registry()
    out = {}
    for key, (b_in, b_tgt) in budgets.items():
        spec = registry.spec(key)
        if key == "rgb@224":
            entry = image_entry(spec.max_tokens, 1, b_in, 0, batch, g)
            entry["tensor"] = torch.randn(batch, 3, 224, 224, generator=g)
        elif spec.kind.is_image:
            entry = image_entry(spec.max_tokens, 1000, b_in, b_tgt, batch, g)
        else:
            entry = seq_entry(spec.max_tokens, b_in, b_in, b_tgt, batch, g)
        out[key] = entry
    return out
