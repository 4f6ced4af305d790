"""`Tokenizer` implementations over the neural tokenizer networks, and `load_tokenizer(path)`.

``tokenize`` takes RAW modality data (checked and normalised per the modality's `InputNormalization`) and returns
int64 ids in the network's layout: (B, h, w) grids, or (B, heads, 1, 1) for Memcodes; ``detokenize`` also accepts
4M's flattened (B, N) layout and returns data in the raw domain where the normalisation is invertible.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path
from typing import Literal

import torch

from mm4m.core.interfaces import Tokenizer
from mm4m.core.spec import InputNormalization, TokenizerFamily
from mm4m.core.tokenizers.neural.checkpoint import load_model
from mm4m.core.tokenizers.neural.errors import TokenizerInputError
from mm4m.core.tokenizers.neural.models import VQVAE, DiVAE
from mm4m.core.tokenizers.neural.normalization import InputNormalizer
from mm4m.core.tokenizers.neural.schedulers import Spacing

DEFAULT_DIFFUSION_STEPS = 50
"""DDPM steps of `DiVAETokenizer.detokenize` by default (what the reference demos and notebooks use)."""


class NeuralTokenizer(Tokenizer):
    """Shared tokenize path: normalise raw data, encode, quantize; ids of one modality."""

    def __init__(self, model: VQVAE | DiVAE, *, modality: str, normalization: InputNormalization | None = None):
        self.model = model.eval()
        self.modality = modality
        self.vocab_size = model.config.codebook_size
        self.family: TokenizerFamily = model.config.family
        self.normalizer = InputNormalizer(normalization or InputNormalization(), owner=f"tokenizer {modality!r}")

    @contextmanager
    def named_errors(self) -> Iterator[None]:
        """Prefix input errors raised by the network with this tokenizer's modality."""
        try:
            yield
        except TokenizerInputError as exc:
            raise TokenizerInputError(f"tokenizer {self.modality!r}: {exc}") from None

    @torch.inference_mode()
    def tokenize(self, data: torch.Tensor) -> torch.Tensor:
        """Raw data → int64 ids (B, h, w) or, for Memcodes, (B, heads, 1, 1)."""
        x = self.normalizer.normalize(data)
        if self.family is TokenizerFamily.MEMCODES_MLP and (x.dim() != 4 or x.shape[2:] != (1, 1)):
            raise TokenizerInputError(f"tokenizer {self.modality!r}: expected a global vector (B, "
                                      f"{self.model.config.n_channels}, 1, 1), found shape {tuple(x.shape)}")
        with self.named_errors():
            return self.model.tokenize(x)

    def grid_ids(self, tokens: torch.Tensor) -> torch.Tensor:
        """Ids in the network's layout; 4M's flattened (B, N) is reshaped (square grid, or one id per head)."""
        if not isinstance(tokens, torch.Tensor):
            raise TokenizerInputError(f"tokenizer {self.modality!r}: expected a torch.Tensor of ids, found "
                                      f"{type(tokens).__name__}")
        if tokens.dim() != 2:
            return tokens
        n = tokens.shape[1]
        if self.family is TokenizerFamily.MEMCODES_MLP:
            return tokens.reshape(tokens.shape[0], n, 1, 1)
        side = math.isqrt(n)
        if side * side != n:
            raise TokenizerInputError(f"tokenizer {self.modality!r}: flattened ids need a square number of tokens, "
                                      f"found {n}")
        return tokens.reshape(tokens.shape[0], side, side)


class VQVAETokenizer(NeuralTokenizer):
    """ViT or MLP VQ-VAE (semseg, CLIP / DINOv2 / ImageBind features, SAM masks, global embeddings, poses)."""

    model: VQVAE

    @torch.inference_mode()
    def detokenize(self, tokens: torch.Tensor) -> torch.Tensor:
        """Ids → reconstruction in the raw domain (semseg: label map; mean/std images: un-normalised)."""
        with self.named_errors():
            decoded = self.model.decode_tokens(self.grid_ids(tokens))
        return self.normalizer.denormalize(decoded)


class DiVAETokenizer(NeuralTokenizer):
    """ViT encoder + diffusion decoder (RGB, depth, normals, edges); decoding samples with DDPM or DDIM."""

    model: DiVAE

    @torch.inference_mode()
    def detokenize(self, tokens: torch.Tensor, *, steps: int = DEFAULT_DIFFUSION_STEPS,
                   scheduler: Literal["ddpm", "ddim"] | None = None, spacing: Spacing = "trailing",
                   generator: torch.Generator | None = None, image_size: int | None = None) -> torch.Tensor:
        """Ids → sampled image in the raw domain.

        ``scheduler`` defaults to the checkpoint's (DDPM, which always uses leading steps; ``spacing`` applies to
        DDIM); ``image_size`` defaults to the token grid times the patch size (224 for 14×14 tokens).
        """
        ids = self.grid_ids(tokens)
        with self.named_errors():
            decoded = self.model.decode_tokens(ids, timesteps=steps, scheduler=self.model.make_scheduler(scheduler),
                                               generator=generator,
                                               image_size=image_size or ids.shape[-1] * self.model.config.patch_size,
                                               scheduler_timesteps_mode=spacing)
        return self.normalizer.denormalize(decoded)


def load_tokenizer(path: str | PathLike[str], *, modality: str | None = None,
                   normalization: InputNormalization | None = None) -> NeuralTokenizer:
    """Load a released-format checkpoint strictly from its metadata and wrap it for ``modality``.

    ``modality`` defaults to the file name; ``normalization`` (from the modality spec) decides the raw-input
    contract and defaults to none (inputs already in the network's domain).
    """
    model = load_model(path)
    name = modality or Path(path).name.removesuffix(".safetensors")
    wrapper = DiVAETokenizer if isinstance(model, DiVAE) else VQVAETokenizer
    return wrapper(model, modality=name, normalization=normalization)
