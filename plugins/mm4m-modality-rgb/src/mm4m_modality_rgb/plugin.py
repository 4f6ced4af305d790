"""Hook implementations: rgb@224, rgb@448 use the shared patch-projection encoder embedding (never a target)."""

from mm4m.core.modalities import ImagePixelModality
from mm4m.registry import hookimpl, manifest_specs


@hookimpl
def mm4m_modalities():
    return [ImagePixelModality(spec) for spec in manifest_specs(__name__)]
