"""Patched ADM-style UNet diffusion decoder of the DiVAE tokenizers (§5.1).

Pixel-unshuffle by P, concatenate the nearest-upsampled quantized latents, run a guided-diffusion UNet
(GroupNorm-32 ResBlocks with a time embedding, legacy single-head attention), pixel-shuffle back.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from mm4m.core.tokenizers.neural.presets import UNetPreset


class GroupNorm32(nn.GroupNorm):
    """GroupNorm with 32 groups, computed in at least float32 (half-precision inputs are upcast)."""

    def __init__(self, channels: int):
        super().__init__(32, channels, eps=1e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.to(torch.promote_types(x.dtype, torch.float32))).type(x.dtype)


def timestep_features(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """(B,) timesteps → (B, dim) features ``[cos(t·f), sin(t·f)]`` with ``f_k = max_period^(−k/half)``."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half) / half)  # the default dtype: float32, or float64
    args = t[:, None].to(freqs.dtype) * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class ResBlock(nn.Module):
    """GroupNorm/SiLU/conv, plus the projected time embedding, GroupNorm/SiLU/conv, identity or 1×1 skip."""

    def __init__(self, channels: int, emb_channels: int, out_channels: int):
        super().__init__()
        self.in_layers = nn.Sequential(GroupNorm32(channels), nn.SiLU(),
                                       nn.Conv2d(channels, out_channels, 3, padding=1))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_channels, out_channels))
        self.out_layers = nn.Sequential(GroupNorm32(out_channels), nn.SiLU(), nn.Dropout(0.0),
                                        nn.Conv2d(out_channels, out_channels, 3, padding=1))
        nn.init.zeros_(self.out_layers[3].weight)
        nn.init.zeros_(self.out_layers[3].bias)
        self.skip_connection = (nn.Identity() if channels == out_channels
                                else nn.Conv2d(channels, out_channels, 1))

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.in_layers(x) + self.emb_layers(emb)[:, :, None, None]
        return self.skip_connection(x) + self.out_layers(h)


class AttentionBlock(nn.Module):
    """Single-head spatial self-attention (legacy order): q and k each scaled by C^-1/4, softmax in ≥ float32."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = GroupNorm32(channels)
        self.qkv = nn.Conv1d(channels, 3 * channels, 1)
        self.proj_out = nn.Conv1d(channels, channels, 1)
        nn.init.zeros_(self.proj_out.weight)
        nn.init.zeros_(self.proj_out.bias)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        b, c, *spatial = x.shape
        flat = x.reshape(b, c, -1)
        q, k, v = self.qkv(self.norm(flat)).split(c, dim=1)
        scale = 1 / math.sqrt(math.sqrt(c))
        weights = torch.einsum("bct,bcs->bts", q * scale, k * scale)
        weights = torch.softmax(weights.to(torch.promote_types(weights.dtype, torch.float32)), dim=-1).type(weights.dtype)
        out = self.proj_out(torch.einsum("bts,bcs->bct", weights, v))
        return (flat + out).reshape(b, c, *spatial)


class Downsample(nn.Module):
    """Strided 3×3 convolution halving the grid."""

    def __init__(self, channels: int):
        super().__init__()
        self.op = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Upsample(nn.Module):
    """Nearest ×2 upsampling followed by a 3×3 convolution."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class _Conv(nn.Conv2d):
    """A 3×3 convolution that ignores the time embedding (the UNet's first layer)."""

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x)


class EmbedSequential(nn.ModuleList):
    """Layers applied in order, each given the time embedding (keys ``…blocks.{n}.{m}.*``)."""

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        for layer in self:
            x = layer(x, emb)
        return x


class PatchedUNet(nn.Module):
    """Diffusion decoder: (noisy image, timestep, quantized latents[, latent mask]) → prediction of the image."""

    def __init__(self, preset: UNetPreset, *, image_channels: int, cond_channels: int):
        super().__init__()
        self.patch = preset.patch_size
        self.model_channels = mc = preset.model_channels
        emb = 4 * mc
        self.time_embed = nn.Sequential(nn.Linear(mc, emb), nn.SiLU(), nn.Linear(emb, emb))
        in_channels = image_channels * self.patch**2 + cond_channels
        self.input_blocks = nn.ModuleList([EmbedSequential([_Conv(in_channels, mc, 3, padding=1)])])
        skips, ch, ds = [mc], mc, 1
        last = len(preset.channel_mult) - 1
        for level, mult in enumerate(preset.channel_mult):
            for _ in range(preset.num_res_blocks):
                layers: list[nn.Module] = [ResBlock(ch, emb, mult * mc)]
                ch = mult * mc
                if ds in preset.attention_resolutions:
                    layers.append(AttentionBlock(ch))
                self.input_blocks.append(EmbedSequential(layers))
                skips.append(ch)
            if level != last:
                self.input_blocks.append(EmbedSequential([Downsample(ch)]))
                skips.append(ch)
                ds *= 2
        self.middle_block = EmbedSequential([ResBlock(ch, emb, ch), AttentionBlock(ch), ResBlock(ch, emb, ch)])
        self.output_blocks = nn.ModuleList()
        for level, mult in reversed(list(enumerate(preset.channel_mult))):
            for i in range(preset.num_res_blocks + 1):
                layers = [ResBlock(ch + skips.pop(), emb, mult * mc)]
                ch = mult * mc
                if ds in preset.attention_resolutions:
                    layers.append(AttentionBlock(ch))
                if level and i == preset.num_res_blocks:
                    layers.append(Upsample(ch))
                    ds //= 2
                self.output_blocks.append(EmbedSequential(layers))
        self.out = nn.Sequential(GroupNorm32(ch), nn.SiLU(),
                                 nn.Conv2d(ch, image_channels * self.patch**2, 3, padding=1))
        nn.init.zeros_(self.out[2].weight)
        nn.init.zeros_(self.out[2].bias)

    @property
    def size_multiple(self) -> int:
        """Image sides must be multiples of this (patch × 2^downsamplings)."""
        return self.patch * 2 ** sum(isinstance(block[0], Downsample) for block in self.input_blocks)

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, cond: torch.Tensor,
                cond_mask: torch.Tensor | None = None) -> torch.Tensor:
        x = F.pixel_unshuffle(sample, self.patch)
        if cond_mask is not None:
            cond = cond.masked_fill(cond_mask[:, None], 0.0)
        x = torch.cat([x, F.interpolate(cond, size=x.shape[-2:], mode="nearest")], dim=1)
        timesteps = torch.as_tensor(timestep).reshape(-1)
        if timesteps.numel() not in (1, x.shape[0]):
            raise ValueError(f"expected one timestep or one per sample ({x.shape[0]}), found {timesteps.numel()}")
        # A single timestep is embedded once, (1, 4·mc), and the embedding broadcasts over the batch (as in the
        # reference): repeating t first gives the same values up to float32 rounding, but the time-embedding
        # Linears then run a (B, ·) instead of a (1, ·) product, which rounds differently (~3e-6 at the output).
        features = timestep_features(timesteps, self.model_channels).to(self.time_embed[0].weight.dtype)
        emb = self.time_embed(features)
        skips = []
        h = x
        for block in self.input_blocks:
            h = block(h, emb)
            skips.append(h)
        h = self.middle_block(h, emb)
        for block in self.output_blocks:
            h = block(torch.cat([h, skips.pop()], dim=1), emb)
        return F.pixel_shuffle(self.out(h), self.patch)
