"""Checkpoints of FourM: official safetensors files (config in the header) and the hub directory layout."""

from mm4m.core.checkpoint.errors import CheckpointDriftWarning, CheckpointError, StateDictMismatchError
from mm4m.core.checkpoint.pretrained import load_fourm, save_checkpoint, save_pretrained

__all__ = ["CheckpointDriftWarning", "CheckpointError", "StateDictMismatchError", "load_fourm",
           "save_checkpoint", "save_pretrained"]
