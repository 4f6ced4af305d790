"""Config ↔ header metadata in the reference's format (spec §3.2) plus mm4m's provenance keys.

Config values are stored as Python ``str(value)``; reading parses each with YAML ``safe_load`` after
replacing ``None`` by ``null`` (falling back to the raw string), as the reference loader does.
Provenance keys start with ``mm4m_`` and hold JSON.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml

from mm4m.core.spec import ModalitySpec

PROVENANCE_PREFIX = "mm4m_"
MAX_PARSED_VALUE_CHARS = 10_000


def config_to_metadata(config: dict[str, Any]) -> dict[str, str]:
    """Each config value as ``str(value)`` (``"['caption', 'det']"``, ``"True"``, ``"4.0"``)."""
    return {key: str(value) for key, value in config.items()}


def parse_value(text: str) -> Any:
    """One metadata string → Python value, the reference way (YAML after None → null; else the raw string)."""
    if len(text) > MAX_PARSED_VALUE_CHARS:
        return text
    try:
        return yaml.safe_load(text.replace("None", "null"))
    except yaml.YAMLError:
        return text


def metadata_to_config(metadata: dict[str, str]) -> dict[str, Any]:
    """The config keys of a header (provenance keys excluded), parsed."""
    return {k: parse_value(v) for k, v in metadata.items() if not k.startswith(PROVENANCE_PREFIX)}


def spec_hash(spec: ModalitySpec) -> str:
    """sha256 of the spec's canonical JSON: any change to a modality's definition changes it."""
    canonical = json.dumps(spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def provenance_metadata(version: str, providers: dict[str, str], specs: dict[str, ModalitySpec]) -> dict[str, str]:
    """``mm4m_version``, ``mm4m_plugins`` ({key: "dist version"}) and ``mm4m_spec_sha256`` ({key: hash})."""
    return {
        "mm4m_version": version,
        "mm4m_plugins": json.dumps(dict(sorted(providers.items()))),
        "mm4m_spec_sha256": json.dumps({k: spec_hash(s) for k, s in sorted(specs.items())}),
    }


def provenance_drift(metadata: dict[str, str], version: str, providers: dict[str, str],
                     specs: dict[str, ModalitySpec]) -> list[str]:
    """Human-readable differences between a header's provenance and this environment (empty if none)."""
    if "mm4m_version" not in metadata:
        return []
    drift = []
    if metadata["mm4m_version"] != version:
        drift.append(f"written by mm4m {metadata['mm4m_version']}, loading with mm4m {version}")
    saved_plugins = _json(metadata.get("mm4m_plugins"))
    saved_hashes = _json(metadata.get("mm4m_spec_sha256"))
    for key, spec in sorted(specs.items()):
        if key in saved_plugins and saved_plugins[key] != providers.get(key):
            drift.append(f"modality '{key}' was provided by {saved_plugins[key]}, now by {providers.get(key)}")
        if key in saved_hashes and saved_hashes[key] != spec_hash(spec):
            drift.append(f"modality '{key}' spec changed since saving (sha256 {saved_hashes[key][:12]}… "
                         f"→ {spec_hash(spec)[:12]}…)")
    return drift


def _json(text: str | None) -> dict:
    try:
        value = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
