"""``mm4m train`` and ``mm4m data tokenize|verify`` through their argument parsers."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from mm4m.cli import data as data_cli
from mm4m.cli import train as train_cli
from mm4m.core.data.shards import ShardedDataset
from mm4m.core.tokenizers.text import load_text_tokenizer, train_text_tokenizer

_spec = importlib.util.spec_from_file_location(
    "mm4m_training_helpers", Path(__file__).parents[1] / "core" / "training" / "helpers.py")
helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helpers)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mm4m")
    commands = parser.add_subparsers(dest="command", required=True)
    train_cli.add_parser(commands)
    data_cli.add_parser(commands)
    args = parser.parse_args(argv)
    return args.run(args)


@pytest.fixture
def run_yaml(tmp_path) -> Path:
    helpers.write_token_dataset(tmp_path / "data")
    return helpers.write_config(tmp_path / "run.yaml", helpers.tiny_config_dict("data", "run"))


def test_train_stops_and_resumes(run_yaml, tmp_path, capsys):
    assert run(["train", str(run_yaml), "--stop-at-step", "2"]) == train_cli.EXIT_OK
    assert "trained steps 1-2" in capsys.readouterr().out
    assert run(["train", str(run_yaml), "--stop-at-step", "2"]) == train_cli.EXIT_PROBLEM
    assert "already has checkpoints" in capsys.readouterr().err
    assert run(["train", str(run_yaml), "--resume", "--stop-at-step", "3"]) == train_cli.EXIT_OK
    assert "trained steps 3-3" in capsys.readouterr().out
    assert len((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) == 3


def test_train_reports_config_and_data_problems(run_yaml, tmp_path, capsys):
    assert run(["train", str(tmp_path / "missing.yaml")]) == train_cli.EXIT_USAGE
    assert "missing.yaml not found" in capsys.readouterr().err
    bad = helpers.write_config(tmp_path / "bad.yaml", helpers.tiny_config_dict("data", "run", batch={"batch_size": 0}))
    assert run(["train", str(bad)]) == train_cli.EXIT_USAGE
    assert "field 'batch.batch_size'" in capsys.readouterr().err
    (tmp_path / "data" / "shard-000001.safetensors").unlink()
    assert run(["train", str(run_yaml)]) == train_cli.EXIT_PROBLEM
    assert "shard-000001.safetensors: shard file is missing" in capsys.readouterr().err


def test_data_tokenize_writes_a_dataset_that_verifies(tmp_path, capsys):
    texts = ["a cat on a mat", "two dogs in the park", "a red car on the road"] * 5
    tokenizer = train_text_tokenizer(texts, vocab_size=4400, min_frequency=1)
    tokenizer_file = tokenizer.save(tmp_path / "text.json")
    np.save(tmp_path / "t5.npy", np.ones((3, 4096), dtype=np.float32))
    manifest = tmp_path / "raw.jsonl"
    manifest.write_text("".join(json.dumps({"caption": t, "t5_caption": "t5.npy"}) + "\n" for t in texts))
    out = tmp_path / "ds"
    argv = ["data", "tokenize", str(manifest), "-o", str(out), "--tokenizer", f"caption={tokenizer_file}",
            "--samples-per-shard", "4"]
    assert run(argv) == data_cli.EXIT_OK
    dataset = ShardedDataset(out)
    assert len(dataset) == 15 and len(dataset.index.shards) == 4
    assert dataset[1]["caption"].tolist() == load_text_tokenizer(tokenizer_file).tokenize(texts[1])
    assert dataset.layouts["t5_caption"].sample_shape == (-1, 4096)
    assert run(["data", "verify", str(out)]) == data_cli.EXIT_OK
    assert "15 samples in 4 shards" in capsys.readouterr().out
    shard = out / "shard-000003.safetensors"
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0xFF
    shard.write_bytes(bytes(data))
    assert run(["data", "verify", str(out)]) == data_cli.EXIT_PROBLEM
    assert "shard-000003.safetensors: corrupt shard" in capsys.readouterr().err
    assert run(argv) == data_cli.EXIT_PROBLEM
    assert "a dataset already exists" in capsys.readouterr().err
