"""The header metadata format of spec §3.2: ``str(value)`` out, YAML (after None → null) back in."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.checkpoint.metadata import MAX_PARSED_VALUE_CHARS, config_to_metadata, metadata_to_config, parse_value

KEYS = st.lists(st.sampled_from(["caption", "det", "rgb@224", "tok_depth@224", "tok_dinov2_global"]), unique=True)
VALUES = st.one_of(st.booleans(), st.integers(-10**6, 10**6), st.floats(0.0, 100.0).map(lambda f: round(f, 3)),
                   st.sampled_from(["SiLU", "GELU"]), KEYS, st.none())


@given(config=st.dictionaries(st.sampled_from(["dim", "qkv_bias", "mlp_ratio", "act_layer", "domains_in", "x"]),
                              VALUES))
def test_str_values_parse_back_to_the_same_config(config):
    metadata = config_to_metadata(config)
    assert all(isinstance(v, str) for v in metadata.values())
    assert metadata_to_config(metadata) == config


def test_reference_examples():
    assert parse_value("['caption', 'det']") == ["caption", "det"]
    assert parse_value("True") is True and parse_value("768") == 768 and parse_value("4.0") == 4.0
    assert parse_value("None") is None and parse_value("SiLU") == "SiLU"


def test_unparseable_and_huge_values_stay_strings():
    assert parse_value("[unclosed") == "[unclosed"
    long = "[" + "1, " * MAX_PARSED_VALUE_CHARS + "]"
    assert parse_value(long) == long


def test_provenance_keys_are_not_config():
    assert metadata_to_config({"dim": "8", "mm4m_version": "0.1.0"}) == {"dim": 8}
