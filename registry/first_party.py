"""Which first-party plugin provides a key, from the catalog in ``entry_points.toml`` (installed as
``mm4m/registry/first_party.toml``); used only to suggest a ``pip install`` in error messages."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources


@cache
def first_party_plugins() -> dict[str, dict]:
    """``{distribution: {entry_point, module, keys, summary}}`` of every first-party plugin."""
    text = resources.files("mm4m.registry").joinpath("first_party.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)["plugins"]


def first_party_distribution(key: str) -> str | None:
    """The first-party distribution that provides ``key``, or None."""
    for distribution, info in first_party_plugins().items():
        if key in info["keys"]:
            return distribution
    return None
