"""Shared fixtures for the text tokenizer tests: the official file and the reference goldens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mm4m.core.tokenizers.text import TextTokenizer, load_text_tokenizer


@pytest.fixture(scope="session")
def official_path(shared_dir: Path) -> Path:
    """The released 4M WordPiece file among the shared fixtures."""
    return shared_dir / "fixtures" / "tokenizers" / "text_tokenizer_4m_wordpiece_30k.json"


@pytest.fixture(scope="session")
def official(official_path: Path) -> TextTokenizer:
    """The released tokenizer, loaded once."""
    return load_text_tokenizer(official_path)


@pytest.fixture(scope="session")
def golden(shared_dir: Path) -> dict:
    """The pure-function goldens of the 4M reference (strings, their token ids, special-token ids)."""
    return json.loads((shared_dir / "fixtures" / "4m-golden" / "manifest.json").read_text())["pure"]

