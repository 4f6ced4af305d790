"""Stable modality ids: the hash the reference uses to tell modalities apart inside masks."""

from hashlib import sha256

MODALITY_ID_MODULUS = 2**15
"""Ids live in int16 masks; -1 is reserved for padding and register tokens."""


def modality_id(key: str) -> int:
    """Return ``int(sha256(key)) mod 2**15``, the id the reference gives modality ``key`` (spec §1.4)."""
    return int(sha256(key.encode("utf-8")).hexdigest(), 16) % MODALITY_ID_MODULUS
