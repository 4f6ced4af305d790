"""Static plugin manifests (``mm4m-plugin.toml``): the API version and the specs a plugin provides.

The registry reads them without importing plugin code; plugins read their own manifest through
`manifest_specs`, so the spec has one source of truth.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from mm4m.core.spec import ModalitySpec, SpecError
from mm4m.registry.version import MANIFEST_FILENAME, PLUGIN_API_VERSION


class ManifestError(ValueError):
    """A manifest that cannot be used; ``stage`` says why (manifest, api-version or spec)."""

    def __init__(self, stage: str, message: str):
        super().__init__(message)
        self.stage = stage


class Manifest(NamedTuple):
    """A parsed, validated manifest."""

    api_version: str
    specs: list[ModalitySpec]


def check_api_version(declared: object, source: str) -> str:
    """Accept ``MAJOR.MINOR`` strings whose major equals ours; anything else is a `ManifestError`."""
    ours = int(PLUGIN_API_VERSION.split(".")[0])
    if not isinstance(declared, str) or not declared.replace(".", "").isdigit() or declared.count(".") != 1:
        raise ManifestError("manifest", f"{source}: 'api_version' must be a string like '1.0', found {declared!r}")
    major = int(declared.split(".")[0])
    if major != ours:
        raise ManifestError(
            "api-version",
            f"built for plugin API {declared}, but this mm4m implements plugin API {PLUGIN_API_VERSION} "
            f"(major {ours}); install a plugin release made for mm4m's API {ours}.x",
        )
    return declared


def parse_manifest(text: str, source: str) -> Manifest:
    """Parse and validate manifest text; ``source`` names the file in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError("manifest", f"{source}: not valid TOML: {exc}") from None
    api_version = check_api_version(data.get("api_version"), source)
    entries = data.get("modalities")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise ManifestError("manifest", f"{source}: expected a non-empty [[modalities]] array, found {entries!r}")
    unknown = sorted(set(data) - {"api_version", "modalities"})
    if unknown:
        raise ManifestError("manifest", f"{source}: unknown top-level keys {unknown}")
    try:
        specs = [ModalitySpec.parse(entry, source=source) for entry in entries]
    except SpecError as exc:
        raise ManifestError("spec", str(exc)) from None
    keys = [s.key for s in specs]
    if len(set(keys)) != len(keys):
        raise ManifestError("manifest", f"{source}: a modality key appears twice in {keys}")
    return Manifest(api_version, specs)


def read_manifest(path: Path) -> Manifest:
    """Read and validate the manifest at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestError("manifest", f"no readable {MANIFEST_FILENAME} at {path}: {exc.strerror}") from None
    return parse_manifest(text, str(path))


def manifest_specs(package: str) -> list[ModalitySpec]:
    """The specs declared in the manifest shipped inside ``package`` (for a plugin's own hook)."""
    top = package.split(".")[0]
    resource = resources.files(top).joinpath(MANIFEST_FILENAME)
    return parse_manifest(resource.read_text(encoding="utf-8"), f"{top}/{MANIFEST_FILENAME}").specs
