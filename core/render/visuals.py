"""Which picture suits a modality: chosen from its spec's kind, normalisation, tokenizer family and key."""

from __future__ import annotations

from enum import Enum

from mm4m.core.spec import ModalityKind, ModalitySpec, NormalizationMethod, TokenizerFamily


class Visual(str, Enum):
    """How data of a modality is drawn."""

    IMAGE = "image"  # (C, H, W) values in [0, 1]: RGB, normals (xyz as RGB), edges (grey)
    DEPTH = "depth"  # (1, H, W) or (H, W) depth (raw or standardised), shown with a colour map
    LABELS = "labels"  # (H, W) integer class map, one palette colour per class
    FEATURES = "features"  # (C, H, W) feature map, its three main PCA components as RGB
    VECTOR = "vector"  # (C,) global embedding or (L, C) sequence embedding, as a heat map
    BOXES = "boxes"  # detections (boxes + class names), drawn on an image or a blank canvas
    TEXT = "text"  # a string, or any other structured record, set as text


def visual_for(spec: ModalitySpec) -> Visual:
    """The visual of ``spec``'s data (what both raw data and token decodes of that modality look like)."""
    method = spec.normalization.method
    if spec.kind is ModalityKind.TEXT_SEQUENCE:
        return Visual.BOXES if spec.base_key == "det" else Visual.TEXT
    if spec.kind in (ModalityKind.GLOBAL_TOKENS, ModalityKind.SEQUENCE_EMBEDDING):
        return Visual.VECTOR
    if method is NormalizationMethod.LABEL_SHIFT:
        return Visual.LABELS
    if method is NormalizationMethod.TRUNCATED_STANDARDIZATION:
        return Visual.DEPTH
    if spec.kind is ModalityKind.IMAGE_TOKENS and method is NormalizationMethod.NONE \
            and spec.tokenizer.family is TokenizerFamily.VQVAE:
        return Visual.FEATURES
    return Visual.IMAGE
