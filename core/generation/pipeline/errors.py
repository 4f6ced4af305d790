"""The errors of the generation pipeline: each message names the input, target or tokenizer at fault."""

from __future__ import annotations


class PipelineError(ValueError):
    """An input, target, plan or tokenizer that does not fit the model or its modality; the message names it."""


class MissingTokenizerError(PipelineError):
    """A modality whose tokenizer is needed but was not given (``key`` names it)."""

    def __init__(self, message: str, *, key: str):
        super().__init__(message)
        self.key = key
