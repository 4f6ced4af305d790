"""Fetching one file of a hub repository: from the local hub cache, or after a single metadata request, so an
unreachable hub, offline mode or a missing repository is one `CheckpointError` at once rather than
huggingface_hub's retry loop (about 24 s) and its exception chain."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mm4m.core.checkpoint.errors import CheckpointError


def fetch(repo_id: str, filename: str, *, revision: str | None = None) -> Path:
    """The local path of ``filename`` in hub repository ``repo_id`` (needs the optional huggingface_hub)."""
    if importlib.util.find_spec("huggingface_hub") is None:
        raise CheckpointError(f"{repo_id}: not a local path; loading hub ids needs the optional extra: "
                              f"pip install huggingface_hub")
    import huggingface_hub

    try:
        if not isinstance(huggingface_hub.try_to_load_from_cache(repo_id, filename, revision=revision), str):
            huggingface_hub.get_hf_file_metadata(huggingface_hub.hf_hub_url(repo_id, filename, revision=revision))
        return Path(huggingface_hub.hf_hub_download(repo_id, filename, revision=revision))
    except Exception as exc:  # noqa: BLE001 - any hub client failure becomes one line naming the id
        raise CheckpointError(f"{repo_id}: not a local file or directory, and {filename} could not be fetched "
                              f"from the hub: {why(exc, revision)}") from None


def why(exc: Exception, revision: str | None) -> str:
    """The reason a hub request failed, and what to do, in words."""
    from huggingface_hub import utils

    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, utils.OfflineModeIsEnabled):
        return "HF_HUB_OFFLINE is set and the file is not in the local hub cache (fetch it once online)"
    if isinstance(exc, utils.GatedRepoError):
        return "the repository is gated: accept its terms on the hub and log in (hf auth login)"
    if isinstance(exc, utils.RepositoryNotFoundError):
        return "no such repository (or it is private: log in with hf auth login)"
    if isinstance(exc, utils.RevisionNotFoundError):
        return f"the repository has no revision {revision!r}"
    if isinstance(exc, utils.EntryNotFoundError):
        return "the repository has no such file"
    if isinstance(exc, utils.HfHubHTTPError):
        return f"the hub answered {first_line}"
    return (f"the hub cannot be reached ({type(exc).__name__}: {first_line}); check the network, or set "
            f"HF_HUB_OFFLINE=1 to use only the local hub cache")
