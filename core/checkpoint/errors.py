"""Checkpoint errors and warnings; every message names the file and what was expected and found."""

from __future__ import annotations


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the model (corrupt file, missing config, ...)."""


class StateDictMismatchError(CheckpointError):
    """Strict loading failed: lists missing and unexpected keys and shape mismatches by name."""

    def __init__(self, source: str, missing: list[str], unexpected: list[str],
                 mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]]):
        self.missing, self.unexpected, self.mismatched = missing, unexpected, mismatched
        lines = [f"{source}: the checkpoint does not match the model built from its config"]
        if missing:
            lines.append(f"  missing keys ({len(missing)}): " + ", ".join(missing))
        if unexpected:
            lines.append(f"  unexpected keys ({len(unexpected)}): " + ", ".join(unexpected))
        for name, expected, found in mismatched:
            lines.append(f"  shape mismatch for {name}: model expects {expected}, checkpoint has {found}")
        super().__init__("\n".join(lines))


class CheckpointDriftWarning(UserWarning):
    """The checkpoint was written with another mm4m / plugin version or another modality spec."""
