"""Suite-wide test settings: hypothesis profiles and the location of the shared reference fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
"""Reference spec and fixtures live beside the checkout (``../shared``), never inside it."""

# "ci" is the default: enough examples to matter (≥200 for the masking invariants) on 2 cores.
# `pytest --hypothesis-profile=thorough` digs deeper; "dev" is for quick local loops.
settings.register_profile("ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared``; tests needing it skip (with the reason) only when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"reference fixtures not found at {SHARED} (they live beside the checkout)")
    return SHARED
