"""The invariant suite `pytest --mm4m-conformance` runs: every masking policy against every selected modality
(each with a small companion text modality), and against all selected modalities at once."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mm4m.core.spec import ModalitySpec
from mm4m.registry.errors import UnknownModalityError
from mm4m.testing.conformance import check_policy, conformance_set, policy_factories, selected_specs
from mm4m.testing.strategies import batches


def selected(config: pytest.Config) -> dict[str, ModalitySpec]:
    """The modalities ``--mm4m-modality`` names (every installed one without it)."""
    try:
        return selected_specs(config.getoption("mm4m_modality"))
    except UnknownModalityError as exc:
        raise pytest.UsageError(f"--mm4m-modality: {exc}") from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise over registered policies (or those named by ``--mm4m-policy``) and selected modality keys."""
    names = sorted(policy_factories(metafunc.config.getoption("mm4m_policy")))
    if "policy_name" in metafunc.fixturenames:
        metafunc.parametrize("policy_name", names)
    if "modality_key" in metafunc.fixturenames:
        metafunc.parametrize("modality_key", sorted(selected(metafunc.config)))


@pytest.fixture
def examples(request: pytest.FixtureRequest) -> settings:
    """Hypothesis settings with the example count of ``--mm4m-conformance-examples``."""
    return settings(max_examples=request.config.getoption("mm4m_conformance_examples"), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def test_policy_on_each_modality(policy_name: str, modality_key: str, examples: settings,
                                 request: pytest.FixtureRequest) -> None:
    specs = conformance_set([selected(request.config)[modality_key]])
    policy = policy_factories(request.config.getoption("mm4m_policy"))[policy_name](specs)

    @examples
    @given(batch=batches(specs, max_batch=3), seed=st.integers(0, 2**31))
    def run(batch, seed):
        check_policy(policy, batch, specs, seed)

    run()


def test_policy_on_all_modalities(policy_name: str, examples: settings, request: pytest.FixtureRequest) -> None:
    specs = conformance_set(selected(request.config).values())
    policy = policy_factories(request.config.getoption("mm4m_policy"))[policy_name](specs)

    @settings(examples, max_examples=max(1, examples.max_examples // 10))
    @given(batch=batches(specs, max_batch=2), seed=st.integers(0, 2**31))
    def run(batch, seed):
        check_policy(policy, batch, specs, seed)

    run()
