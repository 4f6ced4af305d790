"""Hook implementations: t5_caption use the shared linear feature embedding (input only)."""

from mm4m.core.modalities import SequenceFeatureModality
from mm4m.registry import hookimpl, manifest_specs


@hookimpl
def mm4m_modalities():
    return [SequenceFeatureModality(spec) for spec in manifest_specs(__name__)]
