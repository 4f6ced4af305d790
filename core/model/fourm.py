"""`FourM`: the 4M encoder–decoder, assembled from registered modalities (spec §2).

The forward pass is split into public steps so generation can run the encoder once and the
decoder many times: `embed_encoder` → `select_encoder_tokens` → `run_encoder` (together: `forward_encoder`), then
`embed_decoder` → `select_decoder_tokens` → `forward_decoder` → `modality_logits` → `loss`. ``model(mod_dict, num_encoder_tokens, num_decoder_tokens, loss_type, return_logits)``
chains them exactly like the reference's ``FourM.forward``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from mm4m.core.model.blocks import BlockOptions, DecoderBlock, EncoderBlock
from mm4m.core.model.config import FourMConfig
from mm4m.core.model.init import init_weights
from mm4m.core.model.inputs import check_known_keys, check_token_shape, entry_field, entry_tensor
from mm4m.core.model.layers import LayerNorm
from mm4m.core.model.loss import combine_losses, modality_losses
from mm4m.core.model.tokens import PAD_MODALITY_ID, TokenSet
from mm4m.core.spec import ModalitySpec

ModDict = Mapping[str, Mapping[str, torch.Tensor]]


class ModelBuildError(ValueError):
    """A config the registry cannot turn into a model (missing plugin, modality on the wrong side)."""


@dataclass(frozen=True)
class EncoderState:
    """What the decoder needs from one encoder pass (reusable across decoder steps)."""

    tokens: TokenSet  # the selected encoder tokens (mask, mod ids, emb)
    output: torch.Tensor  # (B, N, D) encoder output after ``encoder_norm``
    context: torch.Tensor  # (B, N, D) ``decoder_proj_context(output) + emb``

    @property
    def context_valid(self) -> torch.Tensor:
        return ~self.tokens.mask


def resolve_modalities(keys: list[str], registry: Any = None) -> dict[str, Any]:
    """``{key: Modality}`` for each key from the registry; a missing plugin names the pip package."""
    from mm4m.registry import get_registry
    from mm4m.registry.first_party import first_party_distribution

    registry = registry if registry is not None else get_registry()
    found = {}
    for key in keys:
        if key not in registry:
            dist = first_party_distribution(key)
            hint = f"install its plugin: pip install {dist}" if dist else "no installed plugin provides it"
            raise ModelBuildError(f"modality '{key}' of this model is not available; {hint}")
        found[key] = registry.get(key)
    return found


def build_embeddings(config: FourMConfig, modalities: dict[str, Any]) -> tuple[nn.ModuleDict, nn.ModuleDict]:
    """Encoder embeddings for ``domains_in`` and decoder embeddings for ``domains_out`` (sorted keys)."""
    encoders, decoders = nn.ModuleDict(), nn.ModuleDict()
    for key in config.all_domains:
        modality = modalities[key]
        for side, domains, table, build in (
            ("input", config.domains_in, encoders, modality.encoder_embedding),
            ("target", config.domains_out, decoders, modality.decoder_embedding),
        ):
            if key in domains:
                layer = build(config.dim)
                if layer is None:
                    raise ModelBuildError(f"modality '{key}' cannot be a{'n' if side == 'input' else ''} {side} "
                                          f"(its plugin builds no {side} embedding; spec can_be_{side}="
                                          f"{getattr(modality.spec, 'can_be_' + side)})")
                table[key] = layer
    return encoders, decoders


def drop_path_rates(config: FourMConfig) -> tuple[list[float], list[float]]:
    """Linearly spaced stochastic-depth rates per stack, or one ramp over both when shared."""
    enc, dec = config.encoder_depth, config.decoder_depth
    if config.shared_drop_path:
        rates = torch.linspace(0, config.drop_path_rate_encoder, enc + dec, device="cpu").tolist()
        return rates[:enc], rates[enc:]
    return (torch.linspace(0, config.drop_path_rate_encoder, enc, device="cpu").tolist(),
            torch.linspace(0, config.drop_path_rate_decoder, dec, device="cpu").tolist())


class FourM(nn.Module):
    """Any-to-any masked encoder–decoder; state-dict names are the reference's (spec §2.10)."""

    def __init__(self, config: FourMConfig | Mapping[str, Any], *, registry: Any = None):
        super().__init__()
        config = config if isinstance(config, FourMConfig) else FourMConfig.parse(dict(config))
        self.config = config
        modalities = resolve_modalities(config.all_domains, registry)
        self.specs: dict[str, ModalitySpec] = {k: m.spec for k, m in modalities.items()}
        dim = config.dim
        self.encoder_embeddings, self.decoder_embeddings = build_embeddings(config, modalities)
        self.tie_modality_embeddings()
        opts = BlockOptions(dim=dim, num_heads=config.num_heads, mlp_ratio=config.mlp_ratio,
                            qkv_bias=config.qkv_bias, proj_bias=config.proj_bias, mlp_bias=config.mlp_bias,
                            norm_bias=config.norm_bias, gated_mlp=config.gated_mlp, qk_norm=config.qk_norm,
                            act=getattr(nn, config.act_layer))
        enc_rates, dec_rates = drop_path_rates(config)
        self.encoder = nn.ModuleList(EncoderBlock(opts, r) for r in enc_rates)
        self.encoder_norm = LayerNorm(dim, bias=config.norm_bias)
        self.decoder_proj_context = nn.Linear(dim, dim, bias=True)
        self.decoder = nn.ModuleList(DecoderBlock(opts, r) for r in dec_rates)
        self.decoder_norm = LayerNorm(dim, bias=config.norm_bias)
        self.mask_token = nn.Parameter(torch.empty(1, 1, dim))
        if config.num_register_tokens:
            self.register_tokens = nn.Parameter(torch.empty(1, config.num_register_tokens, dim))
        init_weights(self)

    # ------------------------------------------------------------------ construction helpers

    @classmethod
    def from_pretrained(cls, path: str | Path, **kwargs: Any) -> FourM:
        """Load a checkpoint file, a hub-layout directory or a hub id (see `mm4m.core.checkpoint`)."""
        from mm4m.core.checkpoint import load_fourm

        return load_fourm(path, **kwargs)

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``config.json`` + ``model.safetensors`` (config also in the header) atomically."""
        from mm4m.core.checkpoint import save_pretrained

        return save_pretrained(self, directory)

    def tie_modality_embeddings(self) -> None:
        """Re-share each decoder ``mod_emb`` with its encoder twin (after loading with ``assign=True``)."""
        if self.config.share_modality_embeddings:
            for key in self.decoder_embeddings.keys() & self.encoder_embeddings.keys():
                self.decoder_embeddings[key].mod_emb = self.encoder_embeddings[key].mod_emb

    # ------------------------------------------------------------------ encoder

    def embed_encoder(self, mod_dict: ModDict) -> TokenSet:
        """Concatenate the encoder tokens of every input modality of ``mod_dict`` in its iteration order."""
        check_known_keys(mod_dict, list(self.encoder_embeddings), list(self.decoder_embeddings))
        parts, batch = [], None
        for key, entry in mod_dict.items():
            if key not in self.encoder_embeddings:
                continue
            mask = entry_field(key, entry, "input_mask", boolean=True)
            x, emb = self.encoder_embeddings[key](entry_tensor(key, entry), mask)
            batch = x.shape[0] if batch is None else batch
            check_token_shape(key, "input_mask", mask, (batch, x.shape[1]))
            ids = torch.full_like(mask, self.specs[key].modality_id, dtype=torch.long)
            parts.append(TokenSet(x=x, emb=emb.expand_as(x), mask=mask, mod_ids=ids))
        if not parts:
            raise ValueError(f"mod_dict has no input modality of this model (inputs: {list(self.encoder_embeddings)},"
                             f" found keys {list(mod_dict)})")
        return TokenSet.concat(parts)

    def select_encoder_tokens(self, tokens: TokenSet, num_encoder_tokens: int) -> TokenSet:
        """Valid-first selection of ``num_encoder_tokens`` slots, then register tokens prepended (§2.6)."""
        selected, _ = tokens.select_valid_first(num_encoder_tokens)
        selected = selected.with_padding_ids()
        if not self.config.num_register_tokens:
            return selected
        b, r = selected.x.shape[0], self.config.num_register_tokens
        reg = self.register_tokens.expand(b, -1, -1)
        return TokenSet.concat([
            TokenSet(x=reg, emb=torch.zeros_like(reg), mask=selected.mask.new_zeros(b, r),
                     mod_ids=selected.mod_ids.new_full((b, r), PAD_MODALITY_ID)),
            selected,
        ])

    def run_encoder(self, tokens: TokenSet) -> EncoderState:
        """Encoder blocks over x + emb (padding keys hidden), ``encoder_norm`` and the decoder context."""
        x = tokens.x + tokens.emb
        valid = ~tokens.mask
        for block in self.encoder:
            x = self._run_block(block, x, key_valid=valid)
        out = self.encoder_norm(x)
        return EncoderState(tokens=tokens, output=out, context=self.decoder_proj_context(out) + tokens.emb)

    def forward_encoder(self, mod_dict: ModDict, num_encoder_tokens: int) -> EncoderState:
        """Embed, select and encode the inputs of ``mod_dict`` (run once per generation step)."""
        return self.run_encoder(self.select_encoder_tokens(self.embed_encoder(mod_dict), num_encoder_tokens))

    # ------------------------------------------------------------------ decoder

    def decoder_keys(self, mod_dict: ModDict) -> list[str]:
        """Target modalities of ``mod_dict`` in its order (the reference shuffles; valid outputs don't care)."""
        return [key for key in mod_dict if key in self.decoder_embeddings]

    def embed_decoder(self, mod_dict: ModDict) -> TokenSet:
        """Concatenate decoder queries: mask tokens for grids, shifted teacher forcing for sequences (§2.7)."""
        check_known_keys(mod_dict, list(self.encoder_embeddings), list(self.decoder_embeddings))
        parts = []
        for key in self.decoder_keys(mod_dict):
            entry, spec, layer = mod_dict[key], self.specs[key], self.decoder_embeddings[key]
            tensor = entry_field(key, entry, "tensor", boolean=False)
            mask = entry_field(key, entry, "target_mask", boolean=True)
            codes = entry_field(key, entry, "decoder_attention_mask", boolean=False).long()
            if spec.kind.is_image:
                emb, ids = layer(tensor, mask)
                b, n = ids.shape
                check_token_shape(key, "target_mask", mask, (b, n))
                check_token_shape(key, "decoder_attention_mask", codes, (b, n))
                x = self.mask_token.expand(b, n, -1)
            else:
                check_token_shape(key, "target_mask", mask, tuple(tensor.shape[:2]))
                check_token_shape(key, "decoder_attention_mask", codes, tuple(tensor.shape[:2]))
                x, emb = layer(tensor, mask)
                x, emb, ids = x[:, :-1], emb[:, :-1], tensor[:, 1:].long()
                mask, codes = mask[:, 1:] | mask[:, :-1], codes[:, :-1]
            ids_mod = torch.full_like(ids, spec.modality_id)
            parts.append(TokenSet(x=x, emb=emb.expand_as(x), mask=mask, mod_ids=ids_mod,
                                  target_ids=ids.long(), codes=codes))
        if not parts:
            raise ValueError(f"mod_dict has no target modality of this model (targets: "
                             f"{list(self.decoder_embeddings)}, found keys {list(mod_dict)})")
        return TokenSet.concat(parts)

    def select_decoder_tokens(self, tokens: TokenSet, num_decoder_tokens: int) -> TokenSet:
        """Valid-first selection of ``num_decoder_tokens`` query slots (mod ids still real at padding)."""
        return tokens.select_valid_first(num_decoder_tokens)[0]

    def decoder_visibility(self, tokens: TokenSet) -> dict[str, torch.Tensor | None]:
        """Self-attention rules of §2.7 as vectors: key bound (cumulative codes or causal) and segments."""
        if self.config.decoder_causal_mask:
            n = tokens.num_tokens
            bound = torch.arange(1, n + 1, device=tokens.mask.device).expand(tokens.mask.shape[0], n)
        else:
            bound = torch.cumsum(tokens.codes, dim=1)
        segments = tokens.mod_ids if self.config.decoder_sep_mask else None
        return {"key_bound": bound, "segments": segments}

    def forward_decoder(self, tokens: TokenSet, encoder: EncoderState) -> torch.Tensor:
        """Decoder blocks over the selected queries → ``decoder_norm`` output (B, M, D)."""
        rules = self.decoder_visibility(tokens)
        x = tokens.x + tokens.emb
        for block in self.decoder:
            x = self._run_block(block, x, encoder.context, context_valid=encoder.context_valid, **rules)
        return self.decoder_norm(x)

    # ------------------------------------------------------------------ heads and loss

    def modality_logits(self, y: torch.Tensor, tokens: TokenSet, keys: list[str]) -> dict[str, torch.Tensor]:
        """Per modality, its head applied to its valid rows (batch-major, then position order): (n_m, V_m)."""
        padded = tokens.with_padding_ids()
        return {key: self.decoder_embeddings[key].to_logits(y[padded.mod_ids == self.specs[key].modality_id])
                for key in keys}

    def all_logits(self, y: torch.Tensor, keys: list[str]) -> dict[str, torch.Tensor]:
        """Every modality's head applied to all decoder rows: (B, M, V_m) (``return_logits=True``)."""
        return {key: self.decoder_embeddings[key].to_logits(y) for key in keys}

    def loss(self, logits: dict[str, torch.Tensor], tokens: TokenSet,
             loss_type: Literal["mod", "token"] = "mod") -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Per-modality mean cross-entropy and their total (§2.8); an empty modality counts as 0."""
        padded = tokens.with_padding_ids()
        targets = {key: tokens.target_ids[padded.mod_ids == self.specs[key].modality_id] for key in logits}
        losses = modality_losses(logits, targets)
        return combine_losses(losses, logits, loss_type), losses

    def forward(self, mod_dict: ModDict, num_encoder_tokens: int, num_decoder_tokens: int,
                loss_type: Literal["mod", "token"] = "mod", return_logits: bool = False):
        """The reference call: ``(loss, per_modality_losses)``, or the (B, M, V) logits per target modality."""
        if loss_type not in ("mod", "token"):
            raise ValueError(f"loss_type must be 'mod' or 'token', found {loss_type!r}")
        encoder = self.forward_encoder(mod_dict, num_encoder_tokens)
        queries = self.select_decoder_tokens(self.embed_decoder(mod_dict), num_decoder_tokens)
        y = self.forward_decoder(queries, encoder)
        keys = self.decoder_keys(mod_dict)
        if return_logits:
            return self.all_logits(y, keys)
        return self.loss(self.modality_logits(y, queries, keys), queries, loss_type)

    def _run_block(self, block: nn.Module, *args: Any, **kwargs: Any) -> torch.Tensor:
        if self.config.use_act_checkpoint and self.training:
            return checkpoint(block, *args, use_reentrant=False, **kwargs)
        return block(*args, **kwargs)

