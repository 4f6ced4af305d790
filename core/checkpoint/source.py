"""Where a pretrained model comes from: an official file, a hub-layout directory or a hub id (spec §3.2–3.3)."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mm4m.core.checkpoint.errors import CheckpointError
from mm4m.core.checkpoint.metadata import metadata_to_config
from mm4m.core.checkpoint.safetensors_file import header_metadata

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


@dataclass(frozen=True)
class CheckpointSource:
    """A resolved checkpoint: the weights file, its config dict and its header metadata."""

    weights: Path
    config: dict[str, Any]
    metadata: dict[str, str]


def resolve(path: str | Path, *, revision: str | None = None) -> CheckpointSource:
    """Resolve a file, a directory (``config.json`` + ``model.safetensors``) or a hub id ``org/name``."""
    local = Path(path).expanduser()
    if local.is_file():
        return from_file(local)
    if local.is_dir():
        return from_directory(local)
    if looks_like_hub_id(str(path)):
        return from_hub(str(path), revision=revision)
    raise CheckpointError(f"{path}: no such checkpoint file or directory (expected a .safetensors file, a "
                          f"directory with {CONFIG_FILE} + {WEIGHTS_FILE}, or a hub id 'org/name')")


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
    """``org/name`` with exactly one slash and no path-like parts."""
    parts = text.split("/")
    return len(parts) == 2 and all(parts) and not text.startswith((".", "~")) and "\\" not in text


def from_hub(repo_id: str, *, revision: str | None = None) -> CheckpointSource:
    """Download ``config.json`` and ``model.safetensors`` with the optional ``huggingface_hub`` extra."""
    if importlib.util.find_spec("huggingface_hub") is None:
        raise CheckpointError(f"{repo_id}: not a local path; loading hub ids needs the optional extra: "
                              f"pip install huggingface_hub")
    from huggingface_hub import hf_hub_download

    files = {name: Path(hf_hub_download(repo_id, name, revision=revision)) for name in (CONFIG_FILE, WEIGHTS_FILE)}
    return from_directory_files(files[CONFIG_FILE], files[WEIGHTS_FILE])


def from_directory_files(config_path: Path, weights: Path) -> CheckpointSource:
    """Like `from_directory` for files that live apart (the hub cache stores each file by hash)."""
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{config_path}: not valid JSON ({exc})") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{config_path}: expected a JSON object, found {type(config).__name__}")
    return CheckpointSource(weights=weights, config=config, metadata=header_metadata(weights))
