"""Environment variables that steer plugin loading (documented in README and docs/writing-a-plugin.md)."""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

STRICT_ENV = "MM4M_STRICT_PLUGINS"
"""Set to 1 to re-raise plugin failures instead of reporting them (for plugin authors and tests)."""

SELECT_ENV = "MM4M_PLUGINS"
"""Comma-separated plugin selection: ``no:NAME`` disables NAME; plain names load only those."""

CACHE_DIR_ENV = "MM4M_CACHE_DIR"
NO_CACHE_ENV = "MM4M_NO_CACHE"


def strict_mode() -> bool:
    """True when plugin failures must raise."""
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def selection() -> tuple[frozenset[str] | None, frozenset[str]]:
    """``(only, disabled)`` parsed from ``MM4M_PLUGINS``; ``only`` is None when every plugin may load."""
    raw = os.environ.get(SELECT_ENV)
    if raw is None:
        return None, frozenset()
    names = [n.strip() for n in raw.split(",") if n.strip()]
    disabled = frozenset(n[3:].strip() for n in names if n.startswith("no:"))
    only = frozenset(n for n in names if not n.startswith("no:"))
    return (only if only or not disabled else None), disabled


def is_selected(names: tuple[str, ...]) -> bool:
    """Whether a plugin known by any of ``names`` (entry-point name, distribution) may load."""
    only, disabled = selection()
    if disabled.intersection(names):
        return False
    return only is None or bool(only.intersection(names))


def selection_problem(installed: Collection[str]) -> str | None:
    """Why ``MM4M_PLUGINS`` does not do what it says (it is empty, or names no installed plugin), or None."""
    raw = os.environ.get(SELECT_ENV)
    if raw is None:
        return None
    only, disabled = selection()
    if only is not None and not only:
        return f"{SELECT_ENV} is set but empty, so no plugin is loaded; unset it to load every plugin"
    unmatched = sorted((only or frozenset()).union(disabled) - set(installed))
    if not unmatched:
        return None
    named = ", ".join(_with_suggestion(name, sorted(installed)) for name in unmatched)
    verb = "matches" if len(unmatched) == 1 else "match"
    consequence = ", so no plugin is loaded" if only and only <= set(unmatched) else ""
    return (f"{SELECT_ENV}={raw!r}: {named} {verb} no installed plugin{consequence}; use entry-point or "
            "distribution names (mm4m plugins lists them)")


def _with_suggestion(name: str, installed: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, installed, n=1)
    return f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name)


def enabling_hint(names: tuple[str, ...]) -> str:
    """How to change ``MM4M_PLUGINS`` so that the plugin known by ``names`` (entry point first) loads."""
    _, disabled = selection()
    blocked = sorted(disabled.intersection(names))
    if blocked:
        return "remove " + " and ".join(f"'no:{name}'" for name in blocked) + f" from {SELECT_ENV}"
    return f"add '{names[0]}' to {SELECT_ENV}"


def cache_dir() -> Path | None:
    """Where the listing cache lives, or None when caching is disabled."""
    if os.environ.get(NO_CACHE_ENV, "").strip() not in {"", "0"}:
        return None
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mm4m"
