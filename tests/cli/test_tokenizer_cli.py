"""``mm4m tokenizer train-text``: parsing, training to a file that loads back, and one-line errors."""

from __future__ import annotations

import argparse

import pytest

from mm4m.cli.tokenizer import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, add_parser
from mm4m.core.tokenizers.text import load_text_tokenizer

CORPUS = "A man rides a horse on the beach.\nTwo dogs chase a red ball in the park.\n" * 5


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mm4m")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.run(args)


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(CORPUS, encoding="utf-8")
    return path


def test_trains_a_tokenizer_that_loads_back(tmp_path, corpus, capsys):
    output = tmp_path / "out" / "tok.json"
    assert run(["tokenizer", "train-text", str(corpus), "-o", str(output), "--vocab-size", "4400",
                "--min-frequency", "1"]) == EXIT_OK
    tokenizer = load_text_tokenizer(output)
    assert 4284 < tokenizer.vocab_size <= 4400
    assert 1 not in tokenizer.tokenize("two dogs chase a horse")
    assert tokenizer.tokenize("[S_1] v0=3 dog") == [5, 207, 4232]
    out = capsys.readouterr().out
    assert str(output) in out and f"{tokenizer.vocab_size}" in out


def test_existing_output_needs_force(tmp_path, corpus, capsys):
    output = tmp_path / "tok.json"
    output.write_text("keep me")
    assert run(["tokenizer", "train-text", str(corpus), "-o", str(output), "--vocab-size", "4400"]) == EXIT_USAGE
    assert "already exists (pass --force" in capsys.readouterr().err
    assert output.read_text() == "keep me"
    assert run(["tokenizer", "train-text", str(corpus), "-o", str(output), "--vocab-size", "4400",
                "--force"]) == EXIT_OK
    assert load_text_tokenizer(output).vocab_size > 4284


def test_missing_corpus_files_are_named(tmp_path, capsys):
    missing = tmp_path / "nope.txt"
    assert run(["tokenizer", "train-text", str(missing), "-o", str(tmp_path / "t.json")]) == EXIT_USAGE
    assert f"corpus file(s) not found: {missing}" in capsys.readouterr().err


@pytest.mark.parametrize(("content", "extra", "message"), [
    (CORPUS, ["--vocab-size", "100"], "vocab_size must exceed the 4284 special tokens, got 100"),
    ("\n\n", [], "at least one non-empty text"),
])
def test_training_problems_are_one_line_and_leave_no_file(tmp_path, capsys, content, extra, message):
    corpus = tmp_path / "c.txt"
    corpus.write_text(content)
    output = tmp_path / "t.json"
    assert run(["tokenizer", "train-text", str(corpus), "-o", str(output), *extra]) == EXIT_PROBLEM
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not output.exists()


def test_output_is_required():
    with pytest.raises(SystemExit) as exit_info:
        run(["tokenizer", "train-text", "corpus.txt"])
    assert exit_info.value.code == 2


def test_undecodable_corpus_is_reported(tmp_path, capsys):
    corpus = tmp_path / "latin1.txt"
    corpus.write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    assert run(["tokenizer", "train-text", str(corpus), "-o", str(tmp_path / "t.json")]) == EXIT_PROBLEM
    assert f"corpus file {corpus} must be UTF-8, found the non-UTF-8 byte 0xe9" in capsys.readouterr().err
