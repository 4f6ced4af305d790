"""Training a new WordPiece tokenizer with the 4M special-token layout, saving and reloading it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.tokenizers.text import (
    COCO_CLASS_NAMES,
    TextTokenizer,
    TextTokenizerError,
    load_text_tokenizer,
    special_tokens_layout,
    train_text_tokenizer,
)

CORPUS = [
    "A man rides a horse along the beach at sunset.",
    "Two dogs play with a frisbee in the park.",
    "A plate of pizza and a glass of wine on a dining table.",
    "The cat sleeps on the warm windowsill.",
    "Children are playing football on a sunny afternoon.",
] * 8
VOCAB_SIZE = 4400


@pytest.fixture(scope="module")
def trained() -> TextTokenizer:
    return train_text_tokenizer(CORPUS, vocab_size=VOCAB_SIZE, min_frequency=1)


def test_trained_tokenizer_keeps_the_4m_special_layout(trained, official):
    layout = [token.content for token in special_tokens_layout()]
    assert [trained.id_to_token(i) for i in range(len(layout))] == layout
    assert trained.special == official.special


def test_trained_vocabulary_is_learned_from_the_corpus(trained):
    assert len(special_tokens_layout()) < trained.vocab_size <= VOCAB_SIZE
    ids = trained.tokenize("a man plays with two dogs")
    assert 1 not in ids, "corpus words must not be unknown"
    assert all(i >= 4204 for i in ids), "ordinary words come from the learned part (or class names)"
    assert trained.detokenize(ids) == "a man plays with two dogs"


@given(st.lists(st.one_of(st.sampled_from(COCO_CLASS_NAMES),
                          st.builds(lambda s, v: f"v{s}={v}", st.integers(0, 3), st.integers(0, 999)),
                          st.builds(lambda k: f"[S_{k}]", st.integers(0, 199))), min_size=1, max_size=20))
def test_structured_text_gets_the_same_ids_as_the_official_tokenizer(trained, official, words):
    text = " ".join(words)
    assert trained.tokenize(text) == official.tokenize(text)


def test_saved_file_round_trips_through_the_loader(trained, tmp_path):
    path = trained.save(tmp_path / "sub" / "mine.json")
    assert sorted(p.name for p in path.parent.iterdir()) == ["mine.json"], "no temporary file may remain"
    reloaded = load_text_tokenizer(path)
    for text in CORPUS[:5] + ["v1=3 v0=7 dining table [S_2]"]:
        assert reloaded.tokenize(text) == trained.tokenize(text)
    assert reloaded.vocab_size == trained.vocab_size


def test_save_replaces_an_existing_file_whole(trained, tmp_path):
    path = tmp_path / "mine.json"
    path.write_text("old content")
    trained.save(path)
    assert load_text_tokenizer(path).vocab_size == trained.vocab_size


@pytest.mark.parametrize(("corpus", "kwargs", "message"), [
    (CORPUS, {"vocab_size": 4284}, "vocab_size must exceed the 4284 special tokens, got 4284"),
    (CORPUS, {"min_frequency": 0}, "min_frequency must be at least 1, got 0"),
    (["fine", 7], {}, "training corpus item 1 must be a str, got int"),
    (["", "  "], {}, "at least one non-empty text"),
])
def test_bad_training_arguments_are_named(corpus, kwargs, message):
    with pytest.raises(TextTokenizerError, match=message):
        train_text_tokenizer(corpus, **kwargs)


# Trains on a small caption grammar in a fresh process and prints a digest of the saved tokenizer file.
TRAINED_FILE_DIGEST = """
import hashlib, random, sys
from mm4m.core.tokenizers.text import train_text_tokenizer
words = "a large small red green blue pink cyan purple white sphere box cylinder left right of with behind".split()
rng = random.Random(0)
corpus = [" ".join(rng.choice(words) for _ in range(8)) for _ in range(2000)]
path = train_text_tokenizer(corpus, vocab_size=4284 + 150, min_frequency=2).save(sys.argv[1])
print(hashlib.sha256(path.read_bytes()).hexdigest())
"""


def test_the_same_corpus_gives_the_same_tokenizer_in_every_process(tmp_path):
    digests = {subprocess.run([sys.executable, "-c", TRAINED_FILE_DIGEST, str(tmp_path / f"{run}.json")],
                              capture_output=True, text=True, check=True).stdout for run in range(3)}
    assert len(digests) == 1, "the trainer's hash-map order leaked into the ids"


def test_only_the_4m_layout_is_special_after_training(trained, tmp_path):
    added = json.loads(trained.save(tmp_path / "mine.json").read_text())["added_tokens"]
    assert [token["id"] for token in added] == list(range(len(special_tokens_layout())))
    assert trained.token_to_id("##s") is not None, "continuation characters stay ordinary vocabulary"
