"""Hook implementations: color_palette use the shared sequence embeddings (compacted 1-D positions) and output head."""

from mm4m.core.modalities import TextModality
from mm4m.registry import hookimpl, manifest_specs


@hookimpl
def mm4m_modalities():
    return [TextModality(spec) for spec in manifest_specs(__name__)]
