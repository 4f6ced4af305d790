"""The tokenizer networks: ``VQ`` (encoder + quantizer), ``VQVAE`` (feed-forward decoder), ``DiVAE`` (diffusion).

Module names follow the released state-dict keys (§4.1) so checkpoints load strictly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from mm4m.core.tokenizers.neural.builders import build_decoder, build_encoder, build_quantizer
from mm4m.core.tokenizers.neural.config import DiVAEConfig, VQConfig, VQVAEConfig
from mm4m.core.tokenizers.neural.errors import TokenizerInputError
from mm4m.core.tokenizers.neural.lucid import LucidQuantizer
from mm4m.core.tokenizers.neural.presets import UNET_PRESETS
from mm4m.core.tokenizers.neural.sampling import SamplingStep, sample_images
from mm4m.core.tokenizers.neural.schedulers import DDIMScheduler, DDPMScheduler, SchedulerConfig, Spacing
from mm4m.core.tokenizers.neural.unet import PatchedUNet

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VQ(nn.Module):
    """Encoder → 1×1 ``quant_proj`` → quantizer; ``tokenize`` gives int64 ids, ``tokens_to_embedding`` inverts it."""

    def __init__(self, config: VQConfig):
        super().__init__()
        self.config = config
        self.cls_emb = nn.Embedding(config.n_labels, config.n_channels) if config.n_labels else None
        self.encoder, enc_dim = build_encoder(config)
        self.quant_proj = nn.Conv2d(enc_dim, config.latent_dim, 1)
        self.quantize = build_quantizer(config)

    @property
    def name(self) -> str:
        """Short description for error messages."""
        return f"{type(self).__name__}({self.config.enc_type}, {self.config.quant_type} K={self.config.codebook_size})"

    def prepare_input(self, x: torch.Tensor) -> torch.Tensor:
        """Embed label maps (semseg) or undo ImageNet standardisation (``undo_std``), after checking the layout."""
        self._check_input(x)
        if self.cls_emb is not None:
            return self.cls_emb(x).permute(0, 3, 1, 2)
        if self.config.undo_std:
            mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype).view(1, -1, 1, 1)
            std = torch.tensor(IMAGENET_STD, dtype=x.dtype).view(1, -1, 1, 1)
            return (x * std + mean) * 2 - 1
        return x

    def latents(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-quantisation latents (B, D, h, w)."""
        return self.quant_proj(self.encoder(self.prepare_input(x)))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(quantized latents, code loss, token ids)."""
        return self.quantize(self.latents(x))

    def tokenize(self, x: torch.Tensor) -> torch.Tensor:
        """Token ids: (B, h, w) for lucid, (B, heads, h, w) for memcodes."""
        return self.encode(x)[2]

    def tokens_to_embedding(self, ids: torch.Tensor) -> torch.Tensor:
        """Quantized latents of the given ids (raw codebook rows / memcodes values)."""
        self._check_ids(ids)
        return self.quantize.indices_to_embedding(ids)

    def _check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor):
            raise TokenizerInputError(f"{self.name}: expected a torch.Tensor, found {type(x).__name__}")
        if self.cls_emb is not None:
            if x.dim() != 3 or x.dtype.is_floating_point or x.dtype == torch.bool:
                raise TokenizerInputError(f"{self.name}: expected an integer label map (B, H, W), found "
                                          f"{x.dtype} of shape {tuple(x.shape)}")
            if x.numel() and (x.min() < 0 or x.max() >= self.config.n_labels):
                raise TokenizerInputError(f"{self.name}: expected labels in [0, {self.config.n_labels}), found "
                                          f"[{int(x.min())}, {int(x.max())}]")
        else:
            dtype = self.quant_proj.weight.dtype
            if x.dim() != 4 or x.shape[1] != self.config.n_channels or x.dtype != dtype:
                raise TokenizerInputError(f"{self.name}: expected a {dtype} tensor (B, {self.config.n_channels}, H, "
                                          f"W), found {x.dtype} of shape {tuple(x.shape)}")
        spatial = x.shape[-2:]
        multiple = self.config.patch_size if self.config.patch_proj and not self.config.mlp_encoder else 1
        if any(side % multiple for side in spatial) or min(spatial) < 1:
            raise TokenizerInputError(f"{self.name}: expected H and W to be positive multiples of the patch size "
                                      f"{multiple}, found {tuple(spatial)}")

    def _check_ids(self, ids: torch.Tensor) -> None:
        memcodes = not isinstance(self.quantize, LucidQuantizer)
        expected = f"integer token ids {(f'(B, {self.config.num_codebooks}, 1, 1)' if memcodes else '(B, h, w)')}"
        if not isinstance(ids, torch.Tensor):
            raise TokenizerInputError(f"{self.name}: expected {expected}, found {type(ids).__name__}")
        layout_ok = (ids.dim() == 4 and ids.shape[1] == self.config.num_codebooks and ids.shape[2:] == (1, 1)
                     if memcodes else ids.dim() == 3)
        if ids.dtype.is_floating_point or ids.dtype == torch.bool or not layout_ok:
            raise TokenizerInputError(f"{self.name}: expected {expected}, found {ids.dtype} of shape "
                                      f"{tuple(ids.shape)}")
        if ids.numel() and (ids.min() < 0 or ids.max() >= self.config.codebook_size):
            raise TokenizerInputError(f"{self.name}: expected token ids in [0, {self.config.codebook_size}), found "
                                      f"[{int(ids.min())}, {int(ids.max())}]")


class VQVAE(VQ):
    """VQ + ``post_quant_proj`` + feed-forward (ViT or MLP) decoder."""

    def __init__(self, config: VQVAEConfig):
        super().__init__(config)
        self.decoder, dec_dim = build_decoder(config)
        self.post_quant_proj = nn.Conv2d(config.latent_dim, dec_dim, 1)

    def decode_quant(self, quant: torch.Tensor) -> torch.Tensor:
        """Quantized latents → reconstruction (label logits for semseg)."""
        return self.decoder(self.post_quant_proj(quant))

    def decode_tokens(self, ids: torch.Tensor) -> torch.Tensor:
        """Token ids → reconstruction."""
        return self.decode_quant(self.tokens_to_embedding(ids))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(reconstruction, code loss)."""
        quant, code_loss, _ = self.encode(x)
        return self.decode_quant(quant), code_loss


class DiVAE(VQ):
    """VQ + patched-UNet diffusion decoder conditioned on the quantized latents, sampled with DDPM or DDIM."""

    def __init__(self, config: DiVAEConfig):
        super().__init__(config)
        self.decoder = PatchedUNet(UNET_PRESETS[config.dec_type], image_channels=config.n_channels,
                                   cond_channels=config.latent_dim)
        self.scheduler_config = SchedulerConfig(
            num_train_timesteps=config.num_train_timesteps, beta_schedule=config.beta_schedule,
            prediction_type=config.prediction_type, thresholding=config.thresholding,
            clip_sample=config.clip_sample, zero_terminal_snr=config.zero_terminal_snr)

    def forward(self, clean: torch.Tensor, noised: torch.Tensor, timesteps: torch.Tensor,
                cond_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One denoiser call on ``noised`` conditioned on the quantized ``clean`` image: (prediction, code loss)."""
        quant, code_loss, _ = self.encode(clean)
        return self.decoder(noised, timesteps, quant, cond_mask), code_loss

    def make_scheduler(self, kind: str | None = None) -> DDPMScheduler | DDIMScheduler:
        """A sampler with this model's diffusion settings; ``kind`` defaults to the config's ``scheduler``."""
        kind = kind or self.config.scheduler
        if kind == "ddim":
            return DDIMScheduler(self.scheduler_config)
        if kind == "ddpm":
            return DDPMScheduler(self.scheduler_config)
        raise ValueError(f"{self.name}: scheduler must be 'ddpm' or 'ddim', found {kind!r}")

    def decode_quant(self, quant: torch.Tensor, *, timesteps: int | None = None,
                     scheduler: DDPMScheduler | DDIMScheduler | None = None,
                     generator: torch.Generator | None = None, image_size: int | None = None,
                     scheduler_timesteps_mode: Spacing = "trailing", x_T: torch.Tensor | None = None,
                     step_noise: Sequence[torch.Tensor] | None = None,
                     on_step: Callable[[SamplingStep], None] | None = None) -> torch.Tensor:
        """Sample an image conditioned on quantized latents (defaults as the reference: own scheduler, T steps)."""
        scheduler = scheduler or self.make_scheduler()
        scheduler.set_timesteps(timesteps or self.config.num_train_timesteps, mode=scheduler_timesteps_mode)
        size = image_size or self.config.decoder_image_size
        multiple = self.decoder.size_multiple
        if size % multiple:
            raise TokenizerInputError(f"{self.name}: expected an image size divisible by {multiple}, found {size}")
        shape = (quant.shape[0], self.config.n_channels, size, size)
        return sample_images(self.decoder, scheduler, quant, shape=shape, generator=generator, x_T=x_T,
                             step_noise=step_noise, on_step=on_step)

    def decode_tokens(self, ids: torch.Tensor, **sampling) -> torch.Tensor:
        """Token ids → sampled image; keyword arguments as :meth:`decode_quant`."""
        return self.decode_quant(self.tokens_to_embedding(ids), **sampling)
