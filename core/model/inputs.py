"""Validation of the reference's ``mod_dict`` call format (spec §2.5) with errors that name the key."""

from __future__ import annotations

from collections.abc import Mapping

import torch

MOD_DICT_FIELDS = ("tensor", "input_mask", "target_mask", "decoder_attention_mask")


class ModDictError(ValueError):
    """A ``mod_dict`` entry the model cannot use; the message names key, expected and found."""


def check_known_keys(mod_dict: Mapping[str, Mapping[str, torch.Tensor]], inputs: list[str],
                     targets: list[str]) -> None:
    """Every key must be an input or a target of the model."""
    if not isinstance(mod_dict, Mapping) or not mod_dict:
        raise ModDictError(f"mod_dict: expected a non-empty mapping of modality key → dict, found {mod_dict!r:.80}")
    for key, entry in mod_dict.items():
        if key not in inputs and key not in targets:
            raise ModDictError(f"modality '{key}' is not a domain of this model: expected one of inputs "
                               f"{sorted(inputs)} or targets {sorted(targets)}")
        if not isinstance(entry, Mapping):
            raise ModDictError(f"modality '{key}': expected a dict with {list(MOD_DICT_FIELDS)}, "
                               f"found {type(entry).__name__}")


def entry_tensor(key: str, entry: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """``entry['tensor']``; its shape and dtype are checked by the modality's embedding."""
    if "tensor" not in entry or not isinstance(entry["tensor"], torch.Tensor):
        raise ModDictError(f"modality '{key}': expected a torch.Tensor under 'tensor', "
                           f"found {type(entry.get('tensor')).__name__}")
    return entry["tensor"]


def entry_field(key: str, entry: Mapping[str, torch.Tensor], name: str, *, boolean: bool) -> torch.Tensor:
    """``entry[name]`` as a tensor; masks must be bool (True = excluded), codes integer."""
    if name not in entry:
        raise ModDictError(f"modality '{key}': missing '{name}' (found fields {sorted(entry)})")
    value = entry[name]
    if not isinstance(value, torch.Tensor):
        raise ModDictError(f"modality '{key}': '{name}' must be a torch.Tensor, found {type(value).__name__}")
    if boolean and value.dtype != torch.bool:
        raise ModDictError(f"modality '{key}': '{name}' must be bool (True = excluded), found {value.dtype}")
    if not boolean and (value.is_floating_point() or value.dtype == torch.bool):
        raise ModDictError(f"modality '{key}': '{name}' must be an integer tensor, found {value.dtype}")
    return value


def check_token_shape(key: str, name: str, value: torch.Tensor, expected: tuple[int, int]) -> None:
    """A per-token field must be (B, N) with the modality's N and the batch's B."""
    if tuple(value.shape) != expected:
        raise ModDictError(f"modality '{key}': '{name}' must have shape {expected}, found {tuple(value.shape)}")
