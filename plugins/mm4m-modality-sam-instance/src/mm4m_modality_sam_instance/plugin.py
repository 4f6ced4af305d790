"""Hooks: sam_instance uses the shared sequence layers; its records become 4M text via SamInstanceSerializer."""

from mm4m.core.modalities import TextModality
from mm4m.core.tokenizers.serializers import SamInstanceSerializer
from mm4m.registry import hookimpl, manifest_specs


@hookimpl
def mm4m_modalities():
    return [TextModality(spec, serializer=SamInstanceSerializer()) for spec in manifest_specs(__name__)]
