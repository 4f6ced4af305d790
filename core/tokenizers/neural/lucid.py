"""The "lucid" vector quantizer with an L2-normalised (cosine) EMA codebook (§3.1).

Inference: ids = argmax of cosine similarity, quantized latents = the RAW stored codebook rows. Training mode adds
the straight-through estimator, the commitment loss, the EMA codebook update and dead-code replacement.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn


def l2norm(x: torch.Tensor) -> torch.Tensor:
    """Unit-normalise the last dimension."""
    return F.normalize(x, p=2, dim=-1)


class CosineCodebook(nn.Module):
    """Codebook buffers (``initted``, ``cluster_size``, ``embed``) and their EMA / dead-code maintenance."""

    def __init__(self, dim: int, codebook_size: int, *, decay: float, threshold_ema_dead_code: float,
                 replacement: Literal["batch_random", "linde_buzo_gray"]):
        super().__init__()
        self.decay = decay
        self.threshold_ema_dead_code = threshold_ema_dead_code
        self.replacement = replacement
        self.register_buffer("initted", torch.ones(1))
        self.register_buffer("cluster_size", torch.zeros(codebook_size))
        self.register_buffer("embed", l2norm(nn.init.kaiming_uniform_(torch.empty(codebook_size, dim))))

    @property
    def codebook_size(self) -> int:
        """Number of codes K."""
        return self.embed.shape[0]

    def assign(self, flat: torch.Tensor) -> torch.Tensor:
        """Index of the most cosine-similar code for each row of (N, D) latents."""
        return (l2norm(flat) @ l2norm(self.embed).t()).argmax(dim=-1)

    @torch.no_grad()
    def ema_update(self, flat: torch.Tensor, ids: torch.Tensor, generator: torch.Generator | None = None) -> None:
        """EMA of usage counts and of the mean normalised latent per code, then dead-code replacement."""
        normed = l2norm(flat)
        onehot = F.one_hot(ids, self.codebook_size).type(normed.dtype)
        bins = onehot.sum(0)
        self.cluster_size.mul_(self.decay).add_(bins, alpha=1 - self.decay)
        unused = bins == 0
        means = (normed.t() @ onehot / bins.masked_fill(unused, 1.0)).t()
        target = torch.where(unused[:, None], self.embed, l2norm(means))
        self.embed.mul_(self.decay).add_(target, alpha=1 - self.decay)
        self.replace_dead_codes(normed, generator)

    @torch.no_grad()
    def replace_dead_codes(self, normed: torch.Tensor, generator: torch.Generator | None = None) -> None:
        """Codes whose EMA usage fell below the threshold get batch latents or copies of the most used codes."""
        dead = self.cluster_size < self.threshold_ema_dead_code
        n_dead = int(dead.sum())
        if self.threshold_ema_dead_code == 0 or n_dead == 0:
            return
        if self.replacement == "batch_random":
            pool = normed.shape[0]
            picks = (torch.randperm(pool, generator=generator)[:n_dead] if pool >= n_dead
                     else torch.randint(pool, (n_dead,), generator=generator))
            self.embed[dead] = normed[picks].to(self.embed.dtype)
        else:
            most_used = self.cluster_size.argsort(descending=True)
            donors = self.embed[most_used[torch.arange(n_dead) % self.codebook_size]]
            noise = torch.randn(donors.shape, generator=generator, dtype=donors.dtype)
            self.embed[dead] = donors + 1e-10 * noise


class LucidQuantizer(nn.Module):
    """(B, D, h, w) latents → (quantized latents, commitment loss, (B, h, w) int64 ids)."""

    def __init__(self, dim: int, codebook_size: int, *, decay: float = 0.99, threshold_ema_dead_code: float = 0.25,
                 replacement: Literal["batch_random", "linde_buzo_gray"] = "batch_random",
                 commitment_weight: float = 1.0, norm_latents: bool = False):
        super().__init__()
        self.commitment_weight = commitment_weight
        self.norm_latents = norm_latents
        self._codebook = CosineCodebook(dim, codebook_size, decay=decay,
                                        threshold_ema_dead_code=threshold_ema_dead_code, replacement=replacement)

    def forward(self, latents: torch.Tensor, generator: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b, _, h, w = latents.shape
        flat = rearrange(latents, "b d h w -> (b h w) d")
        if self.norm_latents:
            flat = l2norm(flat)
        ids = self._codebook.assign(flat)
        quant = F.embedding(ids, self._codebook.embed)
        loss = torch.zeros(1, device=latents.device)
        if self.training:
            self._codebook.ema_update(flat, ids, generator)
            loss = self.commitment_weight * F.mse_loss(quant.detach(), flat)
            quant = flat + (quant - flat).detach()
        quant = rearrange(quant, "(b h w) d -> b d h w", b=b, h=h, w=w)
        return quant, loss, ids.view(b, h, w)

    def indices_to_embedding(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, h, w) ids → (B, D, h, w) raw codebook rows."""
        return rearrange(F.embedding(ids, self._codebook.embed), "b h w d -> b d h w")
