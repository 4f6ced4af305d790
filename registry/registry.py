"""The runtime registry: specs from the catalog, modalities loaded from plugins on first use, and
in-process registrations for notebooks and tests.

A failing plugin is isolated: it is reported once as a `PluginProblem` and only its own keys become
unavailable (asking for one raises `PluginLoadError` with the original reason). Strict mode re-raises.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Mapping
from typing import Any

from mm4m.core.interfaces import MaskingPolicy, Modality, Tokenizer
from mm4m.core.modalities import default_modality
from mm4m.core.spec import ModalitySpec
from mm4m.registry import settings
from mm4m.registry.catalog import Catalog, PluginStatus, conflict_message, load_catalog
from mm4m.registry.errors import (
    DuplicateModalityError,
    PluginLoadError,
    PluginProblem,
    RegistryError,
    UnknownModalityError,
)
from mm4m.registry.first_party import first_party_distribution

IN_PROCESS = "in-process"


class Registry:
    """Modalities, tokenizers and masking policies known to this process."""

    def __init__(self, catalog: Catalog | None = None, *, strict: bool | None = None):
        self._catalog = catalog if catalog is not None else load_catalog()
        self._strict = settings.strict_mode() if strict is None else strict
        self._plugins = {p.name: p for p in self._catalog.plugins}
        self._problems: list[PluginProblem] = list(self._catalog.problems)
        self._failed: dict[str, PluginProblem] = {}
        self._loaded: set[str] = set()
        self._modalities: dict[str, Modality] = {}
        self._local: dict[str, tuple[Modality, str]] = {}
        self._tokenizers: dict[str, tuple[Callable[..., Tokenizer], str]] = {}
        self._policies: dict[str, tuple[Callable[..., MaskingPolicy], str]] = {}
        self._pm: Any = None
        self._builtins_added = False

    # ------------------------------------------------------------ specs (no plugin code runs)

    @property
    def problems(self) -> list[PluginProblem]:
        """Every plugin failure seen so far, in the order they happened."""
        return list(self._problems)

    @property
    def plugins(self) -> list[PluginStatus]:
        """Installed plugins; one whose import or hooks failed in this process is ``failed``, with the reason."""
        return [p._replace(status="failed", problems=(*p.problems, self._failed[p.name])) if p.name in self._failed
                else p for p in self._catalog.plugins]

    @property
    def selection_problem(self) -> str | None:
        """What is wrong with ``MM4M_PLUGINS`` (empty, or naming no installed plugin), or None."""
        return self._catalog.selection_problem

    def keys(self) -> list[str]:
        """All available modality keys, sorted."""
        return sorted(set(self._catalog.entries) | set(self._local))

    def unavailable_keys(self) -> list[str]:
        """Listed keys whose plugin failed to import or run its hooks (asking for one raises the reason)."""
        return sorted(key for key, entry in self._catalog.entries.items()
                      if entry.plugin in self._failed and key not in self._local)

    def __contains__(self, key: object) -> bool:
        return key in self._local or key in self._catalog.entries

    def spec(self, key: str) -> ModalitySpec:
        """The spec of ``key``; unknown keys raise `UnknownModalityError` with suggestions."""
        if key in self._local:
            return self._local[key][0].spec
        entry = self._catalog.entries.get(key)
        if entry is None:
            raise self._unknown(key)
        return ModalitySpec.model_validate(entry.spec)

    def specs(self) -> dict[str, ModalitySpec]:
        """Specs of every available key."""
        return {key: self.spec(key) for key in self.keys()}

    def provider(self, key: str) -> str:
        """Who provides ``key``: ``'<distribution> <version>'`` or ``'in-process'``."""
        if key in self._local:
            return self._local[key][1]
        entry = self._catalog.entries.get(key)
        if entry is None:
            raise self._unknown(key)
        return f"{entry.distribution} {entry.version}"

    # ------------------------------------------------------------ modalities (plugin code runs)

    def get(self, key: str) -> Modality:
        """The `Modality` for ``key``, importing its plugin on first use."""
        if key in self._local:
            return self._local[key][0]
        entry = self._catalog.entries.get(key)
        if entry is None:
            raise self._unknown(key)
        self._load(entry.plugin)
        if entry.plugin in self._failed:
            raise PluginLoadError(self._failed[entry.plugin])
        return self._modalities[key]

    def register(
        self, modality: Modality | ModalitySpec | Mapping[str, Any], *, replace: bool = False,
        provider: str = IN_PROCESS,
    ) -> Modality:
        """Register a modality in this process (the notebook way to add one without packaging).

        Accepts a `Modality`, a `ModalitySpec` or a spec dict (the kind's default layers are used).
        An existing key is refused, naming both providers, unless ``replace=True``.
        """
        if isinstance(modality, Mapping):
            modality = ModalitySpec.parse(dict(modality), source=provider)
        if isinstance(modality, ModalitySpec):
            modality = default_modality(modality)
        if not isinstance(modality, Modality):
            raise TypeError(f"register() expects a Modality, ModalitySpec or spec dict, found {type(modality).__name__}")
        key = modality.key
        if key in self and not replace:
            raise DuplicateModalityError(
                f"modality '{key}' is already provided by {self.provider(key)}; refusing the registration from "
                f"{provider} (pass replace=True to override it explicitly)"
            )
        self._local[key] = (modality, provider)
        return modality

    def unregister(self, key: str) -> None:
        """Remove an in-process registration (installed plugins are removed with pip)."""
        if key not in self._local:
            raise UnknownModalityError(f"no in-process registration of modality '{key}' to remove")
        del self._local[key]

    def load_all(self) -> list[PluginProblem]:
        """Import every accepted plugin and run its hooks; returns the problems found (for doctor)."""
        self._add_builtins()
        for plugin in self._catalog.plugins:
            if plugin.status in ("ok", "conflict"):
                self._load(plugin.name)
        return self.problems

    # ------------------------------------------------------------ tokenizers and masking policies

    def has_tokenizer(self, tokenizer_id: str) -> bool:
        """Whether a plugin or an in-process registration provides ``tokenizer_id``."""
        if tokenizer_id not in self._tokenizers:
            self.load_all()
        return tokenizer_id in self._tokenizers

    def tokenizer_factory(self, tokenizer_id: str) -> Callable[..., Tokenizer]:
        """The factory registered for ``tokenizer_id`` by any plugin."""
        return self._factory(self._tokenizers, tokenizer_id, "tokenizer")

    def masking_policy_names(self) -> list[str]:
        """Every masking policy: mm4m's built-ins, those of plugins and in-process registrations."""
        self.load_all()
        return sorted(self._policies)

    def masking_policy_factory(self, name: str) -> Callable[..., MaskingPolicy]:
        """The factory registered for masking policy ``name`` by any plugin."""
        return self._factory(self._policies, name, "masking policy")

    def register_tokenizer(self, tokenizer_id: str, factory: Callable[..., Tokenizer], *,
                           replace: bool = False, provider: str = IN_PROCESS) -> None:
        """Register a tokenizer factory in this process."""
        self._add(self._tokenizers, tokenizer_id, factory, provider, "tokenizer", replace)

    def register_masking_policy(self, name: str, factory: Callable[..., MaskingPolicy], *,
                                replace: bool = False, provider: str = IN_PROCESS) -> None:
        """Register a masking-policy factory in this process."""
        self._add(self._policies, name, factory, provider, "masking policy", replace)

    def _factory(self, table: dict, name: str, what: str) -> Callable[..., Any]:
        if name not in table:
            self.load_all()
        if name not in table:
            known = ", ".join(sorted(table)) or "none"
            raise UnknownModalityError(f"unknown {what} '{name}'; registered: {known}")
        return table[name][0]

    @staticmethod
    def _add(table: dict, name: str, factory: Callable, provider: str, what: str, replace: bool) -> None:
        if name in table and not replace:
            raise DuplicateModalityError(
                f"{what} '{name}' is already provided by {table[name][1]}; refusing the one from {provider} "
                "(pass replace=True to override it explicitly)"
            )
        table[name] = (factory, provider)

    # ------------------------------------------------------------ plugin loading

    def _add_builtins(self) -> None:
        """mm4m's own masking policies, registered once like a plugin's (provider 'mm4m')."""
        if self._builtins_added:
            return
        self._builtins_added = True
        from mm4m import __version__
        from mm4m.core.masking.policies import BUILTIN_POLICIES

        for name, factory in BUILTIN_POLICIES.items():
            self._policies.setdefault(name, (factory, f"mm4m {__version__}"))

    def _plugin_manager(self):
        if self._pm is None:
            import pluggy

            from mm4m.registry import hookspecs

            self._pm = pluggy.PluginManager(hookspecs.PROJECT)
            self._pm.add_hookspecs(hookspecs)
        return self._pm

    def _load(self, name: str) -> None:
        if name in self._loaded:
            return
        self._loaded.add(name)
        plugin = self._plugins[name]
        try:
            self._run_plugin(plugin)
        except PluginLoadError as exc:
            self._failed[name] = exc.problem
            self._problems.append(exc.problem)
            for key in plugin.keys:
                self._modalities.pop(key, None)
            if self._strict:
                raise

    def _fail(self, plugin: PluginStatus, stage: str, message: str) -> PluginLoadError:
        return PluginLoadError(PluginProblem(plugin.distribution, plugin.version, stage, message))

    def _run_plugin(self, plugin: PluginStatus) -> None:
        provider = f"{plugin.distribution} {plugin.version}"
        module_name = plugin.module.split(":")[0].strip()
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # noqa: BLE001 - any import failure is the plugin's, reported in one line
            raise self._fail(plugin, "import", f"importing {module_name}: {type(exc).__name__}: {exc}") from exc
        pm = self._plugin_manager()
        try:
            pm.register(module, name=plugin.name)
        except Exception as exc:  # noqa: BLE001 - pluggy validation errors name the bad hook
            raise self._fail(plugin, "hook", f"{type(exc).__name__}: {exc}") from exc
        modalities = self._call(plugin, "mm4m_modalities", list)
        expected = set(plugin.keys)
        found = []
        for modality in modalities:
            if not isinstance(modality, Modality):
                raise self._fail(plugin, "hook", f"mm4m_modalities returned {type(modality).__name__}, "
                                                 "expected Modality instances")
            found.append(modality.key)
            declared = self._catalog.entries.get(modality.key)
            if declared is not None and declared.spec != modality.spec.model_dump(mode="json"):
                raise self._fail(plugin, "hook", f"the spec of '{modality.key}' returned by mm4m_modalities "
                                                 "differs from the one in its manifest")
        if set(found) != expected or len(found) != len(expected):
            raise self._fail(plugin, "hook", f"mm4m_modalities returned keys {sorted(found)}, "
                                             f"but the manifest declares {sorted(expected)}")
        for modality in modalities:
            entry = self._catalog.entries.get(modality.key)
            if entry is not None and entry.plugin == plugin.name:  # conflicting keys are served by nobody
                self._modalities[modality.key] = modality
        for hook, table, what in (("mm4m_tokenizers", self._tokenizers, "tokenizer"),
                                  ("mm4m_masking_policies", self._policies, "masking policy")):
            for item_name, factory in self._call(plugin, hook, dict).items():
                try:
                    self._add(table, item_name, factory, provider, what, replace=False)
                except DuplicateModalityError as exc:
                    raise self._fail(plugin, "duplicate", str(exc)) from exc

    def _call(self, plugin: PluginStatus, hook: str, kind: type) -> Any:
        """Call one hook of one plugin, merging its results; failures name the hook."""
        merged = kind()
        for impl in getattr(self._pm.hook, hook).get_hookimpls():
            if impl.plugin_name != plugin.name:
                continue
            try:
                result = impl.function()
            except Exception as exc:  # noqa: BLE001 - a raising hook is reported, not propagated
                raise self._fail(plugin, "hook", f"{hook} raised {type(exc).__name__}: {exc}") from exc
            if not isinstance(result, kind):
                raise self._fail(plugin, "hook", f"{hook} returned {type(result).__name__}, expected {kind.__name__}")
            merged.extend(result) if kind is list else merged.update(result)
        return merged

    def _unknown(self, key: str) -> RegistryError:
        if key in self._catalog.conflicts:
            return DuplicateModalityError(conflict_message(key, self._catalog.conflicts[key]))
        reason = self._catalog.unserved_reason(key)
        if reason:
            return UnknownModalityError(f"modality '{key}' is not available: {reason}")
        known = self.keys()
        hint = ""
        dist = first_party_distribution(key)
        if dist and dist not in {p.distribution for p in self._catalog.plugins}:
            hint = f"; it is provided by the plugin '{dist}': pip install {dist}"
        else:
            close = difflib.get_close_matches(key, known, n=3)
            if close:
                hint = "; did you mean " + " or ".join(repr(c) for c in close) + "?"
        return UnknownModalityError(f"unknown modality '{key}' ({len(known)} available){hint}")
