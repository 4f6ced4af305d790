"""The static catalog: installed plugins and their modality specs, read from manifests without importing
plugin code or torch.

Validating manifests needs pydantic (~0.1 s to import), so the validated catalog is cached as JSON and
reused while nothing that could change it has changed: the mtimes of the ``sys.path`` directories
(installing or removing a distribution touches its site-packages folder), the manifests' own mtimes and
sizes, mm4m's version and the plugin selection. A cache that cannot be read is rebuilt; strict mode
always rebuilds, so plugin authors get real tracebacks.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import NamedTuple

from mm4m.registry import settings
from mm4m.registry.errors import PluginLoadError, PluginProblem
from mm4m.registry.version import ENTRY_POINT_GROUP, MANIFEST_FILENAME, PLUGIN_API_VERSION

CACHE_FORMAT = 2


class CatalogEntry(NamedTuple):
    """A modality key as the catalog knows it: its validated spec (as JSON data) and its provider."""

    key: str
    spec: dict
    plugin: str
    distribution: str
    version: str


class PluginStatus(NamedTuple):
    """One installed plugin: where it comes from and whether its manifest was accepted."""

    name: str  # entry-point name
    distribution: str
    version: str
    module: str  # entry-point value: the module holding the hook implementations
    manifest: str | None
    status: str  # ok | failed (nothing served) | conflict (some keys claimed twice) | disabled
    keys: tuple[str, ...]
    problems: tuple[PluginProblem, ...]


class Catalog(NamedTuple):
    """Everything ``mm4m list-modalities`` shows."""

    entries: dict[str, CatalogEntry]
    plugins: list[PluginStatus]
    conflicts: dict[str, list[str]]  # key -> providers, for keys claimed by several plugins

    @property
    def problems(self) -> list[PluginProblem]:
        return [p for plugin in self.plugins for p in plugin.problems]

    @property
    def selection_problem(self) -> str | None:
        """What is wrong with ``MM4M_PLUGINS`` given the installed plugins (see `settings.selection_problem`)."""
        return settings.selection_problem({name for p in self.plugins for name in (p.name, p.distribution)})

    def unserved_reason(self, key: str) -> str | None:
        """Why an installed plugin whose manifest declares ``key`` does not serve it (disabled or refused)."""
        for plugin in self.plugins:
            if plugin.status not in ("disabled", "failed") or key not in declared_keys(plugin):
                continue
            who = f"its plugin {plugin.distribution} {plugin.version}"
            if plugin.status == "failed":
                return f"{who} was refused: " + "; ".join(p.message for p in plugin.problems)
            hint = settings.enabling_hint((plugin.name, plugin.distribution))
            return (f"{who} is installed but not loaded because of {settings.SELECT_ENV}="
                    f"{os.environ.get(settings.SELECT_ENV)!r}; {hint}")
        return None


def load_catalog() -> Catalog:
    """The catalog of installed plugins, from the cache when it is still valid."""
    strict = settings.strict_mode()
    cache_file = None if strict else _cache_file()
    if cache_file is not None:
        cached = _read_cache(cache_file)
        if cached is not None:
            return cached
    catalog = build_catalog(strict=strict)
    if cache_file is not None:
        _write_cache(cache_file, catalog)
    return catalog


def build_catalog(*, strict: bool = False) -> Catalog:
    """Discover entry points and validate every manifest; ``strict`` raises the first failure."""
    from importlib.metadata import entry_points

    from mm4m.registry.manifest import ManifestError, read_manifest

    plugins: list[PluginStatus] = []
    accepted: list = []
    points = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (_dist_name(ep), ep.name))
    for ep in points:
        dist, version = _dist_name(ep), _dist_version(ep)
        base = dict(name=ep.name, distribution=dist, version=version, module=ep.value)
        if not settings.is_selected((ep.name, dist)):
            plugins.append(PluginStatus(**base, manifest=None, status="disabled", keys=(), problems=()))
            continue
        manifest_path = _manifest_path(ep.value)
        try:
            if manifest_path is None:
                raise ManifestError("manifest", f"package of entry point '{ep.name} = {ep.value}' cannot be found")
            manifest = read_manifest(manifest_path)
        except ManifestError as exc:
            problem = PluginProblem(dist, version, exc.stage, str(exc))
            if strict:
                raise PluginLoadError(problem) from exc
            plugins.append(PluginStatus(**base, manifest=_str(manifest_path), status="failed", keys=(),
                                        problems=(problem,)))
            continue
        accepted.append((PluginStatus(**base, manifest=str(manifest_path), status="ok",
                                      keys=tuple(spec.key for spec in manifest.specs), problems=()), manifest))
    return _resolve_conflicts(plugins, accepted, strict)


def _resolve_conflicts(plugins: list[PluginStatus], accepted: list, strict: bool) -> Catalog:
    """Serve every key that exactly one plugin provides; a key claimed twice is served by neither.

    Picking a winner (by install order or name) would be a silent override, so both providers are named
    and the user resolves it by uninstalling or disabling one.
    """
    providers: dict[str, list[PluginStatus]] = {}
    for status, _ in accepted:
        for key in status.keys:
            providers.setdefault(key, []).append(status)
    conflicts = {key: [f"{p.distribution} {p.version}" for p in owners]
                 for key, owners in providers.items() if len(owners) > 1}
    entries: dict[str, CatalogEntry] = {}
    for status, manifest in accepted:
        problems = tuple(
            PluginProblem(status.distribution, status.version, "duplicate", conflict_message(key, conflicts[key]))
            for key in status.keys if key in conflicts
        )
        if problems and strict:
            raise PluginLoadError(problems[0])
        for spec in manifest.specs:
            if spec.key not in conflicts:
                entries[spec.key] = CatalogEntry(spec.key, spec.model_dump(mode="json"), status.name,
                                                 status.distribution, status.version)
        plugins.append(status._replace(status="conflict", problems=problems) if problems else status)
    plugins.sort(key=lambda p: (p.distribution, p.name))
    return Catalog(entries, plugins, conflicts)


def conflict_message(key: str, providers: list[str]) -> str:
    """Why a key is not served, and how to fix it."""
    names = " and ".join(providers)
    disable = providers[-1].split(" ")[0]
    return (f"modality '{key}' is provided by both {names}; neither is used until one is uninstalled or "
            f"disabled (e.g. {settings.SELECT_ENV}=no:{disable})")


def _dist_name(ep) -> str:
    return ep.dist.name if ep.dist is not None else "<unknown distribution>"


def _dist_version(ep) -> str:
    return ep.dist.version if ep.dist is not None else "?"


def _str(path: Path | None) -> str | None:
    return None if path is None else str(path)


def declared_keys(plugin: PluginStatus) -> tuple[str, ...]:
    """The keys a plugin's manifest names, read without validating it: for messages about a disabled or
    refused plugin (empty when the manifest cannot be read)."""
    import tomllib

    path = Path(plugin.manifest) if plugin.manifest else _manifest_path(plugin.module)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8")) if path is not None else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ()
    entries = data.get("modalities")
    if not isinstance(entries, list):
        return ()
    return tuple(e["key"] for e in entries if isinstance(e, dict) and isinstance(e.get("key"), str))


def _manifest_path(entry_point_value: str) -> Path | None:
    """The manifest beside the plugin's top-level package, found without executing the package."""
    from importlib.util import find_spec

    top = entry_point_value.split(":")[0].split(".")[0].strip()
    try:
        spec = find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / MANIFEST_FILENAME


# ---------------------------------------------------------------- cache


def _cache_file() -> Path | None:
    directory = settings.cache_dir()
    if directory is None:
        return None
    return directory / f"catalog-{sys.implementation.cache_tag}-{_prefix_digest()}.json"


def _prefix_digest() -> str:
    """Separate caches per environment (venv), so two venvs never share one."""
    from zlib import crc32

    return f"{crc32(sys.prefix.encode()):08x}"


def _environment_fingerprint() -> dict:
    from mm4m import __version__

    paths = []
    cwd = os.getcwd()
    for entry in sys.path:
        if entry in ("", cwd):  # the working directory holds no installed distributions; it changes often
            continue
        try:
            paths.append([entry, os.stat(entry or ".").st_mtime_ns])
        except OSError:
            continue
    return {"format": CACHE_FORMAT, "mm4m": __version__, "api": PLUGIN_API_VERSION, "paths": paths,
            "select": os.environ.get(settings.SELECT_ENV)}


def _manifest_stamp(path: str) -> list | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def _read_cache(path: Path) -> Catalog | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["fingerprint"] != _environment_fingerprint():
            return None
        for manifest, stamp in data["manifests"].items():
            if _manifest_stamp(manifest) != stamp:
                return None
        entries = {e[0]: CatalogEntry(*e) for e in data["entries"]}
        plugins = [
            PluginStatus(*p[:6], tuple(p[6]), tuple(PluginProblem(*q) for q in p[7])) for p in data["plugins"]
        ]
        return Catalog(entries, plugins, data["conflicts"])
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _write_cache(path: Path, catalog: Catalog) -> None:
    """Write atomically (temp file + rename); a cache that cannot be written is simply skipped."""
    manifests = {p.manifest: _manifest_stamp(p.manifest) for p in catalog.plugins if p.manifest}
    data = {
        "fingerprint": _environment_fingerprint(),
        "manifests": manifests,
        "entries": [list(e) for e in catalog.entries.values()],
        "plugins": [[*p[:6], list(p.keys), [list(q) for q in p.problems]] for p in catalog.plugins],
        "conflicts": catalog.conflicts,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
