"""Fixtures for the training tests: a small synthetic token dataset and a tiny-model training config."""

from __future__ import annotations

from pathlib import Path

import pytest

from mm4m.core.training.config import TrainConfig

from .helpers import tiny_config_dict, write_token_dataset


@pytest.fixture(scope="session")
def token_dataset(tmp_path_factory) -> Path:
    return write_token_dataset(tmp_path_factory.mktemp("tokens") / "data")


@pytest.fixture
def tiny_config(token_dataset: Path, tmp_path: Path) -> TrainConfig:
    return TrainConfig.parse(tiny_config_dict(token_dataset, tmp_path / "run"))
