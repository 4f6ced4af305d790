"""pytest plugin (entry point ``pytest11``): ``pytest --mm4m-conformance`` adds mm4m's masking invariant
suite, run against every installed modality and masking policy. Without the flag it does nothing, and
importing it costs nothing (no torch, no registry)."""

from __future__ import annotations

from importlib.util import find_spec

import pytest

SUITE_MODULE = "mm4m.testing.conformance_suite"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mm4m", "mm4m conformance")
    group.addoption("--mm4m-conformance", action="store_true", default=False,
                    help="run the masking invariant suite against every installed modality and masking policy")
    group.addoption("--mm4m-policy", action="append", default=[], metavar="NAME",
                    help="check only masking policy NAME (repeatable; default: every registered policy)")
    group.addoption("--mm4m-conformance-examples", type=int, default=50, metavar="N",
                    help="hypothesis examples per conformance case (default 50)")


def pytest_configure(config: pytest.Config) -> None:
    """With ``--mm4m-conformance``, add the suite's file to the paths pytest collects."""
    if config.getoption("mm4m_conformance"):
        spec = find_spec(SUITE_MODULE)
        if spec is None or spec.origin is None:
            raise pytest.UsageError(f"--mm4m-conformance: cannot find {SUITE_MODULE}; is mm4m installed?")
        config.args.append(spec.origin)
