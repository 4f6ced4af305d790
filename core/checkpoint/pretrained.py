"""`load_fourm` / `save_pretrained` / `save_checkpoint`: official files and the hub layout (spec §3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mm4m.core.atomic import atomic_paths
from mm4m.core.checkpoint.errors import CheckpointError
from mm4m.core.checkpoint.loading import build_on_meta, load_weights, warn_on_drift
from mm4m.core.checkpoint.metadata import config_to_metadata, provenance_metadata
from mm4m.core.checkpoint.safetensors_file import unshared, write_tensors
from mm4m.core.checkpoint.safetensors_writer import write_safetensors_file
from mm4m.core.checkpoint.source import CONFIG_FILE, WEIGHTS_FILE, resolve
from mm4m.core.model.config import ConfigError, FourMConfig


def mm4m_version() -> str:
    from mm4m import __version__

    return __version__


def providers(keys: list[str], registry: Any = None) -> dict[str, str]:
    """``{key: "<distribution> <version>"}`` (or ``in-process``) of each modality's provider."""
    from mm4m.registry import get_registry

    registry = registry if registry is not None else get_registry()
    return {key: registry.provider(key) for key in keys}


def parse_config(source: str, config: dict[str, Any]) -> FourMConfig:
    try:
        return FourMConfig.parse(config, source=source)
    except ConfigError as exc:
        raise CheckpointError(str(exc)) from None


def load_fourm(path: str | Path, *, registry: Any = None, revision: str | None = None):
    """Build `FourM` from a checkpoint's own config on the meta device and assign its tensors, strictly."""
    from mm4m.core.model.fourm import FourM

    src = resolve(path, revision=revision)
    config = parse_config(str(src.weights), src.config)
    model = load_weights(build_on_meta(lambda: FourM(config, registry=registry)), src.weights)
    model.tie_modality_embeddings()
    warn_on_drift(str(src.weights), src.metadata, mm4m_version(), providers(list(model.specs), registry),
                  model.specs)
    return model.eval()


def checkpoint_metadata(model: Any, registry: Any = None) -> dict[str, str]:
    """Header metadata: the config as ``str(value)`` strings plus mm4m's provenance keys."""
    config = model.config.to_dict()
    return {**config_to_metadata(config),
            **provenance_metadata(mm4m_version(), providers(list(model.specs), registry), model.specs)}


def save_checkpoint(model: Any, path: str | Path, *, registry: Any = None) -> Path:
    """One official-format file: the full state dict with the config in ``__metadata__`` (atomic)."""
    path = Path(path)
    write_tensors(path, model.state_dict(), checkpoint_metadata(model, registry))
    return path


def save_pretrained(model: Any, directory: str | Path, *, registry: Any = None) -> Path:
    """Hub layout in ``directory``: ``config.json`` + ``model.safetensors`` (itself an official file).

    Both files are written to temps before either replaces its target, so a failed write changes neither;
    loading refuses a pair whose header config differs from ``config.json`` (a crash between the renames).
    """
    directory = Path(directory)
    text = json.dumps(model.config.to_dict(), indent=2, sort_keys=True) + "\n"
    with atomic_paths(directory / WEIGHTS_FILE, directory / CONFIG_FILE) as (weights, config):
        write_safetensors_file(weights, unshared(model.state_dict()), checkpoint_metadata(model, registry))
        config.write_bytes(text.encode("utf-8"))
    return directory
