"""Shared fixtures of the CLI tests: running ``mm4m`` in-process and the tiny 4M checkpoint."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import pytest

from mm4m.cli.main import build_parser


@pytest.fixture
def run() -> Callable[[list[str]], int]:
    """Run ``mm4m`` ARGV in-process (no one-line error handling of `main`); returns the exit code."""
    def run_cli(argv: list[str]) -> int:
        args = build_parser().parse_args(argv)
        return args.run(args)

    return run_cli


@pytest.fixture(scope="module")
def tiny4m_checkpoint(shared_dir, tmp_path_factory) -> str:
    """Path of a gunzipped copy of the tiny 4M golden checkpoint."""
    path = tmp_path_factory.mktemp("cli") / "tiny4m_swiglu.safetensors"
    path.write_bytes(gzip.decompress((shared_dir / "fixtures/4m-golden/tiny4m_swiglu.safetensors.gz").read_bytes()))
    return str(path)
