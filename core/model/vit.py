"""`FourMViT`: the RGB encoder of a 4M model as a plain ViT backbone (spec §6)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mm4m.core.model.blocks import BlockOptions, EncoderBlock
from mm4m.core.model.config import FourMConfig
from mm4m.core.model.fourm import ModelBuildError, drop_path_rates, resolve_modalities
from mm4m.core.model.init import init_weights
from mm4m.core.model.layers import LayerNorm


class FourMViT(nn.Module):
    """Patch embedding ``encoder_embeddings.rgb@<size>`` → encoder blocks → optional ``encoder_norm`` → head.

    Its state-dict names are a subset of FourM's, so a full 4M checkpoint loads into it; the decoder
    side of the checkpoint is ignored. Without ``output_head`` it returns all patch tokens (B, N, D).
    """

    def __init__(self, config: FourMConfig | Mapping[str, Any], *, use_norm: bool = True,
                 output_head: nn.Module | None = None, registry: Any = None):
        super().__init__()
        config = config if isinstance(config, FourMConfig) else FourMConfig.parse(dict(config))
        self.image_key = f"rgb@{config.image_size}"
        if self.image_key not in config.domains_in:
            raise ModelBuildError(f"FourMViT needs '{self.image_key}' among domains_in, found {config.domains_in}")
        modality = resolve_modalities([self.image_key], registry)[self.image_key]
        self.config = config
        self.encoder_embeddings = nn.ModuleDict({self.image_key: modality.encoder_embedding(config.dim)})
        opts = BlockOptions(dim=config.dim, num_heads=config.num_heads, mlp_ratio=config.mlp_ratio,
                            qkv_bias=config.qkv_bias, proj_bias=config.proj_bias, mlp_bias=config.mlp_bias,
                            norm_bias=config.norm_bias, gated_mlp=config.gated_mlp, qk_norm=config.qk_norm,
                            act=getattr(nn, config.act_layer))
        self.encoder = nn.ModuleList(EncoderBlock(opts, r) for r in drop_path_rates(config)[0])
        self.encoder_norm = LayerNorm(config.dim, bias=config.norm_bias) if use_norm else nn.Identity()
        init_weights(self)
        self.output_head = output_head

    @classmethod
    def from_pretrained(cls, path: str | Path, *, use_norm: bool = True, output_head: nn.Module | None = None,
                        registry: Any = None) -> FourMViT:
        """Load the RGB encoder of a full 4M checkpoint (file, hub directory or hub id); decoder keys unused."""
        from mm4m.core.checkpoint.loading import build_on_meta, load_weights
        from mm4m.core.checkpoint.pretrained import parse_config
        from mm4m.core.checkpoint.source import resolve

        src = resolve(path)
        config = parse_config(str(src.weights), src.config)
        model = build_on_meta(lambda: cls(config, use_norm=use_norm, registry=registry))
        load_weights(model, src.weights, allow_unexpected=True)
        model.output_head = output_head
        return model.eval()

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) pixels → patch features (B, N, D), or the output head applied to them."""
        x, emb = self.encoder_embeddings[self.image_key](image)
        x = x + emb
        for block in self.encoder:
            x = block(x)
        x = self.encoder_norm(x)
        return x if self.output_head is None else self.output_head(x)
