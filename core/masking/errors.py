"""Errors raised by masking: bad configs and batches that do not fit the modalities' specs."""

from __future__ import annotations


class MaskingError(ValueError):
    """A batch or policy setup that masking cannot handle; the message names the modality and the problem."""


class MaskingConfigError(MaskingError):
    """An invalid masking config; the message reads ``<file>: modality '<key>': field '<field>': <problem>``."""

    def __init__(self, problem: str, *, source: str, modality: str | None = None, field: str | None = None):
        where = [source]
        if modality is not None:
            where.append(f"modality '{modality}'")
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(": ".join([*where, problem]))
        self.source = source
        self.modality = modality
        self.field = field
