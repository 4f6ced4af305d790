"""Errors of the generation package."""


class GenerationSettingsError(ValueError):
    """An invalid generation plan or settings file; the message names the source, the field, expected and found."""
