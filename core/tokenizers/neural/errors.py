"""Errors of the neural tokenizers; every message names the file or tokenizer, what was expected and what was found."""

from __future__ import annotations


class TokenizerConfigError(ValueError):
    """A tokenizer config (checkpoint metadata) that is malformed or describes an unsupported architecture."""


class CheckpointError(ValueError):
    """A tokenizer checkpoint that cannot be read or does not match its own config (keys, shapes)."""


class TokenizerInputError(ValueError):
    """Data handed to a tokenizer (or token ids to a detokenizer) with the wrong type, shape or value range."""
