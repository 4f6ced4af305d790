"""Lazy package attributes: public names that load their module on first access, so that importing a
package (``mm4m``, ``mm4m.registry``, ``mm4m.core.masking``, ...) stays cheap and free of torch."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_attributes(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving ``names`` (public name → module, absolute or relative to ``package``)."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = names[name] if names[name].startswith("mm4m.") else f"{package}.{names[name]}"
        return getattr(import_module(module), name)

    return __getattr__
