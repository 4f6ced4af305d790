"""The process-wide registry behind ``mm4m.register_modality`` and friends."""

from __future__ import annotations

from mm4m.registry.registry import Registry

_registry: Registry | None = None


def get_registry() -> Registry:
    """The shared registry, created (from the installed plugins) on first use."""
    global _registry
    if _registry is None:
        _registry = Registry()
    return _registry


def reset_registry() -> None:
    """Forget the shared registry (and in-process registrations); the next use rediscovers plugins."""
    global _registry
    _registry = None
