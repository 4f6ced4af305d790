"""Finding and loading a text tokenizer: paths, directories, hub ids, the factory and layout checks."""

from __future__ import annotations

import shutil
import sys
import types

import pytest
from tokenizers import Tokenizer as WordPieceModel
from tokenizers import models

from mm4m.core.tokenizers.text import (
    OFFICIAL_FILENAME,
    TOKENIZER_PATH_ENV,
    TextTokenizer,
    TextTokenizerError,
    load_text_tokenizer,
    resolve_tokenizer_file,
    text_tokenizer_factory,
)


def test_a_directory_holding_the_official_file_loads(tmp_path, official_path):
    shutil.copy(official_path, tmp_path / OFFICIAL_FILENAME)
    tokenizer = load_text_tokenizer(tmp_path)
    assert tokenizer.origin == str(tmp_path / OFFICIAL_FILENAME)
    assert tokenizer.tokenize("v0=1 zebra") == [205, 4283]


def test_a_directory_without_the_file_is_named(tmp_path):
    with pytest.raises(TextTokenizerError, match=f"{tmp_path} must contain {OFFICIAL_FILENAME}"):
        resolve_tokenizer_file(tmp_path)


@pytest.mark.parametrize("source", ["missing.json", "./org/repo", "/abs/missing/file.json", "a/b/c"])
def test_a_missing_path_that_is_no_hub_id_is_named(tmp_path, monkeypatch, source):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TextTokenizerError, match=f"got {source!r} \\(no such file\\)"):
        resolve_tokenizer_file(source)


def test_a_hub_id_is_fetched_with_huggingface_hub(monkeypatch, official_path):
    calls = []

    def fake_download(*, repo_id, filename):
        calls.append((repo_id, filename))
        return str(official_path)

    monkeypatch.setitem(sys.modules, "huggingface_hub", types.SimpleNamespace(hf_hub_download=fake_download))
    tokenizer = load_text_tokenizer("EPFL-VILAB/some-repo")
    assert calls == [("EPFL-VILAB/some-repo", OFFICIAL_FILENAME)]
    assert tokenizer.vocab_size == 30000


def test_hub_failures_become_one_clear_error(monkeypatch):
    def failing_download(*, repo_id, filename):
        raise OSError("offline")

    monkeypatch.setitem(sys.modules, "huggingface_hub", types.SimpleNamespace(hf_hub_download=failing_download))
    with pytest.raises(TextTokenizerError, match="from hub repository 'org/repo': offline"):
        resolve_tokenizer_file("org/repo")


def test_a_hub_id_without_huggingface_hub_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(TextTokenizerError, match="needs huggingface_hub"):
        resolve_tokenizer_file("org/repo")


def test_a_local_path_wins_over_a_hub_id(tmp_path, monkeypatch, official_path):
    (tmp_path / "org").mkdir()
    shutil.copy(official_path, tmp_path / "org" / "repo")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    assert resolve_tokenizer_file("org/repo").resolve() == (tmp_path / "org" / "repo").resolve()


def test_malformed_json_is_reported_with_its_path(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(TextTokenizerError, match=f"{bad} is not a valid `tokenizers` JSON file"):
        load_text_tokenizer(bad)


def test_a_tokenizer_without_the_4m_layout_is_rejected_naming_the_token(tmp_path):
    other = WordPieceModel(models.WordPiece({"[UNK]": 0, "[PAD]": 1, "a": 2}, unk_token="[UNK]"))
    path = tmp_path / "other.json"
    other.save(str(path))
    with pytest.raises(TextTokenizerError, match=r"token '\[PAD\]' must have id 0 .*found 1"):
        load_text_tokenizer(path)


def test_factory_takes_a_path_or_the_environment(monkeypatch, official_path):
    assert isinstance(text_tokenizer_factory(official_path), TextTokenizer)
    monkeypatch.setenv(TOKENIZER_PATH_ENV, str(official_path))
    assert text_tokenizer_factory().origin == str(official_path)


def test_factory_without_any_source_says_how_to_give_one(monkeypatch):
    monkeypatch.delenv(TOKENIZER_PATH_ENV, raising=False)
    with pytest.raises(TextTokenizerError, match=TOKENIZER_PATH_ENV):
        text_tokenizer_factory()


def test_factory_registers_in_the_registry(official_path):
    from mm4m.registry.registry import Registry

    registry = Registry()
    registry.register_tokenizer("wordpiece-4m-30k-test", text_tokenizer_factory)
    tokenizer = registry.tokenizer_factory("wordpiece-4m-30k-test")(official_path)
    assert tokenizer.tokenize("a dog") == [4321, 4232]
