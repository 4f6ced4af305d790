"""pytest plugin (entry point ``pytest11``): ``pytest --mm4m-conformance`` runs mm4m's masking invariant
suite against the installed modalities (or those ``--mm4m-modality`` selects) and masking policies. Without
the flag it does nothing, and importing it costs nothing (no torch, no registry)."""

from __future__ import annotations

from importlib.util import find_spec

import pytest

SUITE_MODULE = "mm4m.testing.conformance_suite"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mm4m", "mm4m conformance")
    group.addoption("--mm4m-conformance", action="store_true", default=False,
                    help="run the masking invariant suite against every installed modality and masking policy")
    group.addoption("--mm4m-modality", action="append", default=[], metavar="NAME",
                    help="check only modality key NAME, or every key of plugin NAME (entry-point or distribution "
                         "name); repeatable; default: every installed modality")
    group.addoption("--mm4m-policy", action="append", default=[], metavar="NAME",
                    help="check only masking policy NAME (repeatable; default: every registered policy)")
    group.addoption("--mm4m-conformance-examples", type=int, default=50, metavar="N",
                    help="hypothesis examples per conformance case (default 50)")


def pytest_configure(config: pytest.Config) -> None:
    """With ``--mm4m-conformance``, collect the suite's file, plus only the paths given on the command line:
    not the ``testpaths`` or the directory pytest was started in, which would run the host project's tests."""
    if config.getoption("mm4m_conformance"):
        spec = find_spec(SUITE_MODULE)
        if spec is None or spec.origin is None:
            raise pytest.UsageError(f"--mm4m-conformance: cannot find {SUITE_MODULE}; is mm4m installed?")
        named = config.args if config.args_source is pytest.Config.ArgsSource.ARGS else []
        config.args[:] = [*named, spec.origin]
