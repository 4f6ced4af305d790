"""``mm4m retrieve build`` / ``query``: an index from embeddings, neighbours of a predicted global embedding."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mm4m.cli.generate import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE
from mm4m.core.retrieval import RetrievalIndex


@pytest.fixture(scope="module")
def global_tokenizer(tmp_path_factory):
    """A Memcodes MLP tokenizer with the checkpoint's tok_dinov2_global shape (16 tokens of 8192 codes); the shared
    global_tiny fixture (4 codebooks of 64 codes) does not fit the tiny 4M model."""
    from mm4m.core.tokenizers.neural import VQVAE, VQVAEConfig
    from mm4m.core.tokenizers.training.release import save_released_checkpoint

    torch.manual_seed(0)
    config = VQVAEConfig(quant_type="memcodes", num_codebooks=16, codebook_size=8192, latent_dim=32, n_channels=24,
                         enc_type="BottleneckMLP/B_1-Wi_16", dec_type="BottleneckMLP/B_1-Wi_16", patch_proj=False,
                         post_mlp=True, patch_size=14)
    return str(save_released_checkpoint(VQVAE(config), tmp_path_factory.mktemp("tok") / "global16.safetensors"))


def test_build_from_an_array_with_ids(run, tmp_path, capsys):
    np.save(tmp_path / "emb.npy", np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32))
    (tmp_path / "ids.txt").write_text("east\nnorth\nnortheast\n")
    index_path = tmp_path / "index.safetensors"
    assert run(["retrieve", "build", "--embeddings", str(tmp_path / "emb.npy"), "--ids", str(tmp_path / "ids.txt"),
                "--out", str(index_path)]) == EXIT_OK
    index = RetrievalIndex.load(index_path)
    assert index.ids == ["east", "north", "northeast"] and index.modality == "tok_dinov2_global"
    assert [hit.id for hit in index.search(torch.tensor([1.0, 0.2]), k=3)] == ["east", "northeast", "north"]
    assert "items      3" in capsys.readouterr().out


def test_build_problems_are_one_line(run, tmp_path, capsys):
    assert run(["retrieve", "build", "--embeddings", str(tmp_path / "none"), "--out", str(tmp_path / "i")]) \
        == EXIT_PROBLEM
    assert "retrieve build: embeddings" in capsys.readouterr().err
    np.save(tmp_path / "emb.npy", np.eye(2, dtype=np.float32))
    assert run(["retrieve", "build", "--embeddings", str(tmp_path / "emb.npy"), "--modality", "tok_dino_global",
                "--out", str(tmp_path / "i")]) == EXIT_PROBLEM
    assert "unknown modality 'tok_dino_global'" in capsys.readouterr().err
    assert not (tmp_path / "i").exists()


def test_generated_embeddings_are_indexed_and_queried(run, tiny4m_checkpoint, global_tokenizer, tmp_path, capsys):
    """``generate`` writes each item's embedding, ``build`` indexes them, ``query`` finds the item whose input and
    seed it repeats. That item is generated with the retrieval plan, the others with generate's default plan
    (temperature 1), which makes them differ: at temperature 0.1 the tiny model gives every image the same tokens."""
    plan = tmp_path / "retrieval.yaml"
    plan.write_text("conditions: [rgb@224]\ntop_p: 0.8\ntargets:\n"
                    "  - {domain: tok_dinov2_global, scheme: roar, steps: 1, temperature: 0.1}\n")
    rng = np.random.default_rng(0)
    for seed, name in enumerate(("cat", "dog", "owl")):
        np.save(tmp_path / f"{name}.npy", rng.random((3, 224, 224), dtype=np.float32))
        decoding = ["--plan", str(plan)] if name == "dog" else ["--target", "tok_dinov2_global"]
        assert run(["generate", "--model", tiny4m_checkpoint, "--input", f"rgb@224={tmp_path / f'{name}.npy'}",
                    *decoding, "--tokenizer", f"tok_dinov2_global={global_tokenizer}",
                    "--out", str(tmp_path / "items" / name), "--seed", str(seed), "--device", "cpu"]) == EXIT_OK
    index_path = tmp_path / "index.safetensors"
    assert run(["retrieve", "build", "--embeddings", str(tmp_path / "items"), "--out", str(index_path)]) == EXIT_OK
    assert RetrievalIndex.load(index_path).ids == ["cat", "dog", "owl"]
    capsys.readouterr()

    assert run(["retrieve", "query", "--index", str(index_path), "--model", tiny4m_checkpoint, "--tokenizer",
                global_tokenizer, "--input", f"rgb@224={tmp_path / 'dog.npy'}", "-k", "2", "--seed", "1", "--json",
                "--device", "cpu"]) == EXIT_OK
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 2 and hits[0]["id"] == "dog" and hits[0]["score"] == pytest.approx(1.0, abs=1e-5)
    assert hits[1]["score"] < 0.999


@pytest.mark.parametrize(("extra", "code", "message"), [
    ([], EXIT_PROBLEM, "needs its tokenizer (the Memcodes MLP checkpoint) to decode the embedding, found none "
                       "(--tokenizer tok_dinov2_global=PATH)"),
    (["--tokenizer", "a.safetensors", "--tokenizer", "b.safetensors"], EXIT_USAGE,
     "--tokenizer: expected one bare PATH (the tok_dinov2_global tokenizer)"),
    (["-k", "0"], EXIT_USAGE, "-k: expected at least 1, found 0"),
])
def test_query_problems_are_one_line(run, tiny4m_checkpoint, tmp_path, capsys, extra, code, message):
    index_path = tmp_path / "index.safetensors"
    RetrievalIndex(torch.eye(24), [str(i) for i in range(24)], modality="tok_dinov2_global").save(index_path)
    image = tmp_path / "image.npy"
    np.save(image, np.zeros((3, 224, 224), dtype=np.float32))
    assert run(["retrieve", "query", "--index", str(index_path), "--model", tiny4m_checkpoint, "--input",
                f"rgb@224={image}", "--device", "cpu", *extra]) == code
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_query_of_a_missing_index(run, tiny4m_checkpoint, tmp_path, capsys):
    assert run(["retrieve", "query", "--index", str(tmp_path / "none.safetensors"), "--model", tiny4m_checkpoint,
                "--input", "caption=a dog"]) == EXIT_PROBLEM
    assert "index" in capsys.readouterr().err
