"""``mm4m tokenize``: ids of the reference fixture tokenizers and the text tokenizer, and ``--decode`` pictures."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from mm4m.cli.tokenize import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE
from mm4m.core.render import render

TEXT_TOKENIZER = "text_tokenizer_4m_wordpiece_30k.json"
# The fixtures' test-only presets are registered by the tokenizer tests' helper (one definition).
_PRESETS = Path(__file__).parents[1] / "core" / "tokenizers" / "neural" / "fixture_presets.py"
_spec = importlib.util.spec_from_file_location("mm4m_test_fixture_presets", _PRESETS)
fixture_presets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixture_presets)


@pytest.fixture(scope="module")
def tok_dir(shared_dir: Path) -> Path:
    return shared_dir / "fixtures" / "tokenizers"


@pytest.fixture(scope="module")
def checkpoint(tok_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """Gunzipped copy of a fixture checkpoint, with the manifest's test-only presets registered."""
    fixture_presets.register_presets(json.loads((tok_dir / "manifest.json").read_text()))
    out = tmp_path_factory.mktemp("fixture_checkpoints")

    def unzip(name: str) -> Path:
        path = out / f"{name}.safetensors"
        if not path.exists():
            path.write_bytes(gzip.decompress((tok_dir / f"{name}.safetensors.gz").read_bytes()))
        return path

    return unzip


@pytest.fixture(scope="module")
def tok_io(tok_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(tok_dir / "tok_io.safetensors"))


def read_ids(path: Path) -> torch.Tensor:
    return torch.tensor(json.loads(path.read_text())["ids"])


def test_semseg_png_tokenizes_to_the_reference_tokens_and_decodes_to_its_palette(run, tmp_path, checkpoint, tok_io):
    raw = ((tok_io["semseg_tiny.in32"][0] - 1) % 256).numpy().astype(np.uint8)  # undo the +1 label shift
    Image.fromarray(raw, mode="L").save(tmp_path / "labels.png")
    ids_path = tmp_path / "ids.json"
    assert run(["tokenize", "--modality", "tok_semseg@224", str(tmp_path / "labels.png"),
                "--tokenizer", str(checkpoint("semseg_tiny")), "--out", str(ids_path)]) == EXIT_OK
    document = json.loads(ids_path.read_text())
    assert document["modality"] == "tok_semseg@224" and document["shape"] == [1, 8, 8]
    assert torch.equal(read_ids(ids_path), tok_io["semseg_tiny.in32.tokens"][:1])
    assert run(["tokenize", "--modality", "tok_semseg@224", str(ids_path), "--decode",
                "--tokenizer", str(checkpoint("semseg_tiny")), "--out", str(tmp_path / "decoded.png")]) == EXIT_OK
    expected = render((tok_io["semseg_tiny.in32.decoded_argmax"][0] - 1) % 256, "tok_semseg@224")
    with Image.open(tmp_path / "decoded.png") as decoded:
        assert np.array_equal(np.asarray(decoded), np.asarray(expected))


@pytest.mark.parametrize(("key", "model", "sample", "tokens"), [
    ("tok_clip@224", "featmap_tiny", "featmap_tiny.in8", "featmap_tiny.in8.tokens"),
    ("tok_dinov2_global", "global_tiny", "global_tiny.in", "global_tiny.in.tokens"),
])
def test_embedding_arrays_tokenize_to_the_reference_tokens(run, tmp_path, checkpoint, tok_io, key, model, sample,
                                                           tokens):
    array = tok_io[sample][0].numpy()
    np.save(tmp_path / "x.npy", array.reshape(-1) if model == "global_tiny" else array)
    out = tmp_path / "ids.safetensors"
    assert run(["tokenize", "--modality", key, str(tmp_path / "x.npy"), "--tokenizer", str(checkpoint(model)),
                "--out", str(out)]) == EXIT_OK
    assert torch.equal(load_file(str(out))["ids"], tok_io[tokens][:1])
    assert run(["tokenize", "--modality", key, str(out), "--decode", "--tokenizer", str(checkpoint(model))]) == EXIT_OK
    with Image.open(out.with_suffix(".png")) as picture:
        assert picture.format == "PNG"


def test_divae_rgb_round_trip_through_ids(run, tmp_path, checkpoint, tok_io, capsys):
    np.save(tmp_path / "rgb.npy", (tok_io["divae_tiny.in16"][0] * 0.5 + 0.5).numpy())
    assert run(["tokenize", "--modality", "tok_rgb@224", str(tmp_path / "rgb.npy"),
                "--tokenizer", str(checkpoint("divae_tiny"))]) == EXIT_OK
    printed = json.loads(capsys.readouterr().out)
    assert torch.equal(torch.tensor(printed["ids"]), tok_io["divae_tiny.in16.tokens"][:1])
    (tmp_path / "ids.json").write_text(json.dumps(printed))
    assert run(["tokenize", "--modality", "tok_rgb@224", str(tmp_path / "ids.json"), "--decode", "--steps", "2",
                "--tokenizer", str(checkpoint("divae_tiny"))]) == EXIT_OK
    with Image.open(tmp_path / "ids.png") as picture:
        assert picture.size == (16, 16) and picture.mode == "RGB"


def test_caption_text_round_trips_through_the_text_tokenizer(run, tmp_path, tok_dir, capsys):
    (tmp_path / "caption.txt").write_text("a dog chases a red ball\n", encoding="utf-8")
    tokenizer = str(tok_dir / TEXT_TOKENIZER)
    assert run(["tokenize", "--modality", "caption", str(tmp_path / "caption.txt"), "--tokenizer", tokenizer,
                "--out", str(tmp_path / "ids.json")]) == EXIT_OK
    assert json.loads((tmp_path / "ids.json").read_text())["shape"][0] > 0
    assert run(["tokenize", "--modality", "caption", str(tmp_path / "ids.json"), "--decode", "--tokenizer", tokenizer,
                "--out", str(tmp_path / "decoded.txt")]) == EXIT_OK
    assert (tmp_path / "decoded.txt").read_text() == "a dog chases a red ball\n"
    assert run(["tokenize", "--modality", "caption", str(tmp_path / "ids.json"), "--decode",
                "--tokenizer", tokenizer]) == EXIT_OK
    assert (tmp_path / "ids.png").is_file()


def test_detections_decode_to_boxes_on_an_image(run, tmp_path, tok_dir):
    record = {"instances": [{"box": {"xmin": 0.1, "ymin": 0.2, "xmax": 0.6, "ymax": 0.9}, "class_name": "dog"}]}
    (tmp_path / "det.json").write_text(json.dumps(record))
    Image.new("RGB", (64, 48), (0, 0, 0)).save(tmp_path / "photo.png")
    tokenizer = str(tok_dir / TEXT_TOKENIZER)
    assert run(["tokenize", "--modality", "det", str(tmp_path / "det.json"), "--tokenizer", tokenizer,
                "--out", str(tmp_path / "ids.json")]) == EXIT_OK
    assert run(["tokenize", "--modality", "det", str(tmp_path / "ids.json"), "--decode", "--tokenizer", tokenizer,
                "--background", str(tmp_path / "photo.png")]) == EXIT_OK
    with Image.open(tmp_path / "ids.png") as picture:
        assert picture.size == (64, 48)
        assert np.asarray(picture).max() > 0  # the box was drawn on the black photo


def test_ids_of_another_modality_are_refused(run, tmp_path, checkpoint, capsys):
    (tmp_path / "ids.json").write_text(json.dumps({"modality": "tok_depth@224", "ids": [[[0]]]}))
    assert run(["tokenize", "--modality", "tok_semseg@224", str(tmp_path / "ids.json"), "--decode",
                "--tokenizer", str(checkpoint("semseg_tiny"))]) == EXIT_PROBLEM
    assert "ids of modality 'tok_depth@224', expected 'tok_semseg@224'" in capsys.readouterr().err


def test_a_missing_checkpoint_is_explained(run, tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((1, 16, 16), dtype=np.float32))
    assert run(["tokenize", "--modality", "tok_depth@224", str(tmp_path / "x.npy")]) == EXIT_PROBLEM
    err = capsys.readouterr().err
    assert "needs its checkpoint" in err and err.count("\n") == 1


def test_a_missing_input_file_is_a_usage_error(run, tmp_path, capsys):
    assert run(["tokenize", "--modality", "caption", str(tmp_path / "nope.txt")]) == EXIT_USAGE
    assert "input file" in capsys.readouterr().err
