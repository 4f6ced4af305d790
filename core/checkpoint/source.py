"""Where a pretrained model comes from: an official file, a hub-layout directory or a hub id (spec §3.2–3.3)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mm4m.core.checkpoint.errors import CheckpointError
from mm4m.core.checkpoint.hub import fetch
from mm4m.core.checkpoint.metadata import config_to_metadata, metadata_to_config
from mm4m.core.checkpoint.safetensors_file import header_metadata

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CHECKPOINT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin", ".ckpt", ".json")


@dataclass(frozen=True)
class CheckpointSource:
    """A resolved checkpoint: the weights file, its config dict and its header metadata."""

    weights: Path
    config: dict[str, Any]
    metadata: dict[str, str]


def resolve(path: str | Path, *, revision: str | None = None) -> CheckpointSource:
    """Resolve a file, a directory (``config.json`` + ``model.safetensors``) or a hub id ``org/name``.

    Only a string can be a hub id; a `Path`, or a string that looks like a path, is never sent to the hub.
    """
    local = Path(path).expanduser()
    if local.is_file():
        return from_file(local)
    if local.is_dir():
        return from_directory(local)
    if isinstance(path, str) and looks_like_hub_id(path):
        return from_hub(path, revision=revision)
    raise CheckpointError(f"{path}: no such file or directory (expected a .safetensors file, a directory with "
                          f"{CONFIG_FILE} + {WEIGHTS_FILE}, or a hub id 'org/name')")


def from_file(path: Path) -> CheckpointSource:
    """An official-format file: the config is in the header metadata as ``str(value)`` strings."""
    metadata = header_metadata(path)
    config = metadata_to_config(metadata)
    if not config:
        raise CheckpointError(f"{path}: the safetensors header has no model config in '__metadata__' (found keys "
                              f"{sorted(metadata)}); load it from a directory with {CONFIG_FILE} instead")
    return CheckpointSource(weights=path, config=config, metadata=metadata)


def from_directory(directory: Path) -> CheckpointSource:
    """Hub layout: ``config.json`` is the config, ``model.safetensors`` the weights."""
    config_path, weights = directory / CONFIG_FILE, directory / WEIGHTS_FILE
    for needed in (config_path, weights):
        if not needed.is_file():
            raise CheckpointError(f"{directory}: expected {CONFIG_FILE} and {WEIGHTS_FILE}, {needed.name} is missing")
    return from_directory_files(config_path, weights)


def looks_like_hub_id(text: str) -> bool:
    """``org/name`` with exactly one slash and nothing path-like: no leading ``.``/``~``, no backslash, no
    checkpoint suffix (``.safetensors``, ``.pt``, ...), and no existing local directory ``org``."""
    parts = text.split("/")
    return (len(parts) == 2 and all(parts) and not text.startswith((".", "~")) and "\\" not in text
            and not text.lower().endswith(CHECKPOINT_SUFFIXES) and not os.path.isdir(parts[0]))


def from_hub(repo_id: str, *, revision: str | None = None) -> CheckpointSource:
    """Download ``config.json`` and ``model.safetensors`` with the optional ``huggingface_hub`` extra."""
    files = {name: fetch(repo_id, name, revision=revision) for name in (CONFIG_FILE, WEIGHTS_FILE)}
    return from_directory_files(files[CONFIG_FILE], files[WEIGHTS_FILE])


def from_directory_files(config_path: Path, weights: Path) -> CheckpointSource:
    """Like `from_directory` for files that live apart (the hub cache stores each file by hash)."""
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{config_path}: not valid JSON ({exc})") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{config_path}: expected a JSON object, found {type(config).__name__}")
    metadata = header_metadata(weights)
    check_same_config(config_path, config, weights, metadata_to_config(metadata))
    return CheckpointSource(weights=weights, config=config, metadata=metadata)


def check_same_config(config_path: Path, config: dict[str, Any], weights: Path, header: dict[str, Any]) -> None:
    """Refuse a pair whose weights header carries another config (a save interrupted between its two files).

    Both sides go through the header's ``str(value)`` form, so only real differences count; keys present
    on one side only (a header without a config) are not compared.
    """
    ours = metadata_to_config(config_to_metadata(config))
    differing = sorted(key for key in ours.keys() & header.keys() if ours[key] != header[key])
    if differing:
        found = ", ".join(f"{key}: {ours[key]!r} in {CONFIG_FILE}, {header[key]!r} in the header"
                          for key in differing)
        raise CheckpointError(f"{config_path} and {weights} come from different saves: {found}; save the model "
                              f"again, or load {weights} alone (it carries its own config)")
