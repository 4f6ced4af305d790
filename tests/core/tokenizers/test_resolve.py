"""Every modality resolves its tokenizer from its spec's binding (family + id)."""

from __future__ import annotations

import pytest

from mm4m.core.interfaces import Tokenizer
from mm4m.core.tokenizers.resolve import TokenizerUnavailableError
from mm4m.core.tokenizers.serializers import BoundingBox, Detection, Detections, StructuredTextTokenizer
from mm4m.core.tokenizers.text import TextTokenizer
from mm4m.registry import Registry, reset_registry
from mm4m.registry.default import get_registry


@pytest.fixture
def text_file(shared_dir):
    return shared_dir / "fixtures/tokenizers/text_tokenizer_4m_wordpiece_30k.json"


@pytest.fixture(autouse=True)
def fresh_registry():
    reset_registry()
    yield
    reset_registry()


def test_caption_uses_the_text_tokenizer(text_file):
    tokenizer = Registry().get("caption").tokenizer(text_file)
    assert isinstance(tokenizer, TextTokenizer) and tokenizer.modality == "caption"
    assert tokenizer.detokenize(tokenizer.tokenize("a red car")) == "a red car"


def test_structured_modalities_wrap_their_serialiser(text_file):
    tokenizer = Registry().get("det").tokenizer(text_file)
    assert isinstance(tokenizer, StructuredTextTokenizer)
    box = BoundingBox(xmin=0.1, ymin=0.2, xmax=0.5, ymax=0.9)
    ids = tokenizer.tokenize(Detections(instances=[Detection(box=box, class_name="dog", score=0.9)]))
    assert tokenizer.text.detokenize(ids) == "v0=100 v1=200 v2=500 v3=899 dog"
    assert tokenizer.detokenize(ids).instances[0].class_name == "dog"


def test_the_text_tokenizer_location_can_come_from_the_environment(text_file, monkeypatch):
    monkeypatch.setenv("MM4M_TEXT_TOKENIZER", str(text_file))
    assert isinstance(Registry().get("metadata").tokenizer(), StructuredTextTokenizer)
    monkeypatch.delenv("MM4M_TEXT_TOKENIZER")
    with pytest.raises(TokenizerUnavailableError, match="MM4M_TEXT_TOKENIZER"):
        Registry().get("caption").tokenizer()


def test_raw_modalities_have_no_tokenizer():
    with pytest.raises(TokenizerUnavailableError, match="'rgb@224' has no tokenizer"):
        Registry().get("rgb@224").tokenizer()


def test_neural_tokenizers_need_their_checkpoint():
    with pytest.raises(TokenizerUnavailableError, match="'divae-depth-8k' of modality 'tok_depth@224' needs"):
        Registry().get("tok_depth@224").tokenizer()


def test_a_registered_tokenizer_id_takes_precedence():
    class Constant(Tokenizer):
        modality, vocab_size = "tok_depth@224", 8192

        def __init__(self, source):
            self.source = source

        def tokenize(self, data):
            return [7]

        def detokenize(self, tokens):
            return None

    get_registry().register_tokenizer("divae-depth-8k", Constant)
    tokenizer = get_registry().get("tok_depth@448").tokenizer("weights.safetensors")
    assert isinstance(tokenizer, Constant) and tokenizer.source == "weights.safetensors"
