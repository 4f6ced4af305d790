"""ModalitySpec: resolution rules, derived ids, JSON round trips and field-naming validation errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.ids import modality_id
from mm4m.core.spec import ModalityKind, ModalitySpec, SpecError

TOKENIZER = {"family": "vqvae", "id": "vq-test"}


def image_tokens(**overrides) -> dict:
    spec = {"key": "tok_test@224", "kind": "image_tokens", "vocab_size": 1024, "patch_size": 16, "input_size": 224,
            "positional_embedding": "sincos_2d", "decoding": "roar", "tokenizer": TOKENIZER}
    return {**spec, **overrides}


def test_grid_max_tokens_resolve_from_input_and_patch_size():
    assert ModalitySpec.parse(image_tokens()).max_tokens == 196
    assert ModalitySpec.parse(image_tokens(patch_size=14)).max_tokens == 256
    assert ModalitySpec.parse(image_tokens(key="tok_test@448", input_size=448)).max_tokens == 784


def test_modality_id_is_derived_from_the_key(shared_dir):
    ids = json.loads((shared_dir / "fixtures/4m-golden/manifest.json").read_text())["pure"]["uint15_hash"]
    for key, expected in ids.items():
        assert modality_id(key) == expected, key
    assert ModalitySpec.parse(image_tokens(key="tok_depth@224")).modality_id == ids["tok_depth@224"]


def test_sequence_positions_default_to_max_tokens():
    seq = {"key": "caption", "kind": "text_sequence", "vocab_size": 30000, "max_tokens": 256,
           "positional_embedding": "sincos_1d", "decoding": "autoregressive",
           "tokenizer": {"family": "wordpiece", "id": "wp"}}
    assert ModalitySpec.parse(seq).max_positions == 256
    assert ModalitySpec.parse({**seq, "max_positions": 200}).max_positions == 200


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"vocab_size": 0}, "vocab_size"),
        ({"vocab_size": None}, "vocab_size"),
        ({"kind": "sandwich"}, "kind"),
        ({"key": "Bad Key"}, "key"),
        ({"input_size": 220}, "input_size"),
        ({"max_tokens": 100}, "max_tokens"),
        ({"decoding": "autoregressive"}, "decoding"),
        ({"positional_embedding": "sincos_1d"}, "positional_embedding"),
        ({"tokenizer": {"family": "vqvae"}}, "tokenizer"),
        ({"colour": "red"}, "colour"),
        ({"modality_id": 7}, "modality_id"),
    ],
)
def test_invalid_specs_name_the_key_and_the_field(overrides, field):
    with pytest.raises(SpecError) as info:
        ModalitySpec.parse(image_tokens(**overrides), source="plugin.toml")
    message = str(info.value)
    assert message.startswith("plugin.toml: ")
    assert f"'{field}'" in message
    assert info.value.field.split(".")[0] == field or field in message


# ---------------------------------------------------------------- properties

keys = st.from_regex(r"\A[a-z][a-z0-9_]{0,12}(@(224|448))?\Z")


@st.composite
def valid_specs(draw) -> dict:
    """Random valid spec dicts over every kind."""
    kind = draw(st.sampled_from(list(ModalityKind)))
    key = draw(keys)
    data: dict = {"key": key, "kind": kind.value, "summary": draw(st.text(max_size=20))}
    if kind.is_image:
        patch = draw(st.sampled_from([8, 14, 16, 56]))
        data |= {"patch_size": patch, "input_size": patch * draw(st.integers(1, 32))}
    else:
        data["max_tokens"] = draw(st.integers(1, 512))
        data["positional_embedding"] = "sincos_1d"
    if kind in (ModalityKind.IMAGE_PIXELS, ModalityKind.SEQUENCE_EMBEDDING):
        data |= {"channels": draw(st.integers(1, 4096)), "can_be_target": False, "tokenizer": {"family": "none"}}
    else:
        data |= {"vocab_size": draw(st.integers(1, 2**17)), "tokenizer": TOKENIZER,
                 "can_be_input": draw(st.booleans()), "can_be_target": True}
        data["decoding"] = "autoregressive" if kind is ModalityKind.TEXT_SEQUENCE else \
            draw(st.sampled_from(["maskgit", "roar"]))
    if kind is ModalityKind.GLOBAL_TOKENS:
        data["positional_embedding"] = "learned"
    elif kind.is_image:
        data["positional_embedding"] = draw(st.sampled_from(["sincos_2d", "learned"]))
    return data


@given(valid_specs())
def test_valid_specs_round_trip_through_json(data):
    spec = ModalitySpec.parse(data)
    again = ModalitySpec.model_validate_json(spec.model_dump_json())
    assert again == spec
    assert again.modality_id == modality_id(data["key"])
    assert json.loads(again.model_dump_json()) == json.loads(spec.model_dump_json())


REQUIRED_OR_TYPED = ["key", "kind", "positional_embedding", "tokenizer", "vocab_size", "patch_size", "max_tokens",
                     "channels", "can_be_input"]


@given(valid_specs(), st.sampled_from(REQUIRED_OR_TYPED), st.sampled_from([None, -3, "x", [1]]))
def test_corrupting_a_field_is_refused_naming_it(data, field, bad):
    if field not in data and bad is None:
        return  # setting an optional, absent field to None leaves a valid spec
    corrupted = {**data, field: bad}
    try:
        ModalitySpec.parse(corrupted)
    except SpecError as exc:
        assert exc.field, str(exc)
        assert f"modality {data['key']!r}" in str(exc) or field == "key"
        return
    # Only a few corruptions can still be valid: 'x' is a fine key, and an unused field may be None.
    unused = bad is None and not ModalityKind(data["kind"]).is_image and field in {"patch_size", "channels"}
    assert (field, bad) == ("key", "x") or unused
