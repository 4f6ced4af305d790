"""Hook implementations: tok_imagebind@224 use the shared image-token embeddings and output head."""

from mm4m.core.modalities import ImageTokenModality
from mm4m.registry import hookimpl, manifest_specs


@hookimpl
def mm4m_modalities():
    return [ImageTokenModality(spec) for spec in manifest_specs(__name__)]
