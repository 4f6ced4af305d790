"""mm4m.registry: discovery of modality plugins (entry points + static manifests) and the runtime registry.

Names are imported lazily so that listing modalities stays fast: the catalog path never imports
pluggy, pydantic (on a warm cache) or torch.
"""

from __future__ import annotations

from mm4m.core.lazy import lazy_attributes
from mm4m.registry.version import ENTRY_POINT_GROUP, MANIFEST_FILENAME, PLUGIN_API_VERSION

_LAZY = {
    "hookimpl": "mm4m.registry.hookspecs",
    "hookspec": "mm4m.registry.hookspecs",
    "manifest_specs": "mm4m.registry.manifest",
    "Registry": "mm4m.registry.registry",
    "load_catalog": "mm4m.registry.catalog",
    "Catalog": "mm4m.registry.catalog",
    "PluginProblem": "mm4m.registry.errors",
    "PluginLoadError": "mm4m.registry.errors",
    "DuplicateModalityError": "mm4m.registry.errors",
    "UnknownModalityError": "mm4m.registry.errors",
    "RegistryError": "mm4m.registry.errors",
    "get_registry": "mm4m.registry.default",
    "reset_registry": "mm4m.registry.default",
}

__all__ = ["ENTRY_POINT_GROUP", "MANIFEST_FILENAME", "PLUGIN_API_VERSION", *_LAZY]


__getattr__ = lazy_attributes(__name__, _LAZY)
