"""Registry errors. Every message names the thing, what was expected and what was found."""

from __future__ import annotations

from typing import NamedTuple


class PluginProblem(NamedTuple):
    """One plugin failure, reported in one line and never fatal unless strict mode is on."""

    distribution: str
    version: str
    stage: str  # discover | manifest | api-version | spec | duplicate | import | hook
    message: str

    def __str__(self) -> str:
        return f"{self.distribution} {self.version} [{self.stage}]: {self.message}"


class RegistryError(Exception):
    """Base class of registry errors."""


class PluginLoadError(RegistryError):
    """A plugin failed (raised in strict mode, or when its modality is asked for)."""

    def __init__(self, problem: PluginProblem):
        super().__init__(str(problem))
        self.problem = problem


class DuplicateModalityError(RegistryError):
    """A second provider for an existing modality key, without ``replace=True``."""


class UnknownModalityError(RegistryError, KeyError):
    """A modality key nobody provides."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])
