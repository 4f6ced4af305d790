"""`mm4m.core.generation.pipeline`: inputs tokenized per modality, plans run on a checkpoint, outputs decoded/saved."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from mm4m.core.generation.errors import GenerationSettingsError
from mm4m.core.generation.pipeline import (
    GeneratedOutput,
    GenerationResult,
    MissingTokenizerError,
    PipelineError,
    TokenIds,
    TokenizerSet,
    generate,
    load_input,
    prepare_pixels,
    resolve_plan,
)
from mm4m.core.generation.plan import GenerationPlan
from mm4m.core.spec import ModalitySpec
from mm4m.core.tokenizers.text import TOKENIZER_PATH_ENV
from mm4m.registry.errors import UnknownModalityError

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406])[:, None, None]
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225])[:, None, None]


@pytest.fixture(scope="module")
def text_tokenizer(shared_dir):
    return str(shared_dir / "fixtures" / "tokenizers" / "text_tokenizer_4m_wordpiece_30k.json")


@pytest.fixture(scope="module")
def global_tokenizer(tmp_path_factory):
    """A Memcodes MLP tokenizer shaped like the checkpoint's tok_dinov2_global (16 tokens of 8192 codes); the
    shared global_tiny fixture has 4 codebooks of 64 codes, which the tiny 4M checkpoint cannot use."""
    from mm4m.core.tokenizers.neural import VQVAE, VQVAEConfig
    from mm4m.core.tokenizers.training.release import save_released_checkpoint

    torch.manual_seed(0)
    config = VQVAEConfig(quant_type="memcodes", num_codebooks=16, codebook_size=8192, latent_dim=32, n_channels=24,
                         enc_type="BottleneckMLP/B_1-Wi_16", dec_type="BottleneckMLP/B_1-Wi_16", patch_proj=False,
                         post_mlp=True, patch_size=14)
    return str(save_released_checkpoint(VQVAE(config), tmp_path_factory.mktemp("tok") / "global16.safetensors"))


@pytest.fixture
def no_env_text_tokenizer(monkeypatch):
    monkeypatch.delenv(TOKENIZER_PATH_ENV, raising=False)


def spec(model, key: str) -> ModalitySpec:
    return model.specs[key]


def test_one_step_maskgit_depth_matches_the_reference_golden(golden_model, golden_rgb, golden_generation):
    """Raw pixels in, the reference's G1 tokens out: the pipeline's normalisation feeds the model what it expects."""
    raw = (golden_rgb[0] * IMAGENET_STD + IMAGENET_MEAN).clamp(0, 1)
    plan = GenerationPlan.parse({"conditions": ["rgb@224"], "targets": [
        {"domain": "tok_depth@224", "scheme": "maskgit", "steps": 1, "temperature": 0}]})
    result = generate(golden_model, {"rgb@224": raw}, plan=plan)
    assert torch.equal(result.outputs["tok_depth@224"].tokens, golden_generation["gen.G1_maskgit1_depth.tokens"][0])
    assert result.outputs["tok_depth@224"].decoded is None


def test_pixels_are_centre_cropped_resized_and_normalised(golden_model):
    image = torch.zeros(3, 100, 160)
    image[:, :, 30:130] = 1.0  # the centre square is white, the side bands black
    pixels = prepare_pixels(spec(golden_model, "rgb@224"), image)
    assert pixels.shape == (1, 3, 224, 224)
    torch.testing.assert_close(pixels[0], ((1 - IMAGENET_MEAN) / IMAGENET_STD).expand(3, 224, 224))
    grey = prepare_pixels(spec(golden_model, "rgb@224"), torch.full((1, 224, 224), 0.5))
    torch.testing.assert_close(grey[0], ((0.5 - IMAGENET_MEAN) / IMAGENET_STD).expand(3, 224, 224))


def test_pixels_of_the_wrong_shape_are_refused(golden_model):
    with pytest.raises(PipelineError, match=r"input 'rgb@224': expected pixels \(3, H, W\), found shape \(4, 8, 8\)"):
        prepare_pixels(spec(golden_model, "rgb@224"), torch.zeros(4, 8, 8))


def test_prompted_caption_and_depth_are_generated_reproducibly(golden_model, text_tokenizer):
    inputs = {"rgb@224": torch.rand(3, 240, 300, generator=torch.Generator().manual_seed(0)),
              "caption": "a red car [S_1]"}
    events = []
    first = generate(golden_model, inputs, ["tok_depth@224", "caption"], tokenizers={"caption": text_tokenizer},
                     seed=3, on_progress=events.append)
    again = generate(golden_model, inputs, ["tok_depth@224", "caption"], tokenizers={"caption": text_tokenizer},
                     seed=3)
    depth, caption = first.outputs["tok_depth@224"], first.outputs["caption"]
    assert depth.tokens.shape == (196,) and 0 <= depth.tokens.min() and depth.tokens.max() < 8192
    assert caption.text.startswith("a red car") and "[S_1]" not in caption.text
    assert torch.equal(depth.tokens, again.outputs["tok_depth@224"].tokens)
    assert caption.text == again.outputs["caption"].text
    assert [step.target_domain for step in first.schedule] == ["tok_depth@224", "caption"]
    assert [e.done for e in events] == [0, 1, 2, 3, 4] and {e.total for e in events} == {4}
    assert events[0].description == "step 1/2: roar tok_depth@224 (196 tokens)"


def test_default_plan_conditions_on_every_input_that_is_not_a_target():
    plan = resolve_plan(["rgb@224", "caption"], ["tok_depth@224", "caption"], None, seed=7)
    assert plan.conditions == ["rgb@224"] and plan.seed == 7
    assert [t.domain for t in plan.targets] == ["tok_depth@224", "caption"] and plan.targets[0].scheme is None


def test_plan_and_targets_must_agree():
    plan = GenerationPlan.parse({"conditions": ["rgb@224"], "targets": ["tok_depth@224"], "seed": 1})
    assert resolve_plan(["rgb@224"], [], plan).seed == 1
    assert resolve_plan(["rgb@224"], ["tok_depth@224"], plan, seed=5).seed == 5
    with pytest.raises(PipelineError, match=r"targets \['caption'\] differ from the plan's targets"):
        resolve_plan(["rgb@224"], ["caption"], plan)
    with pytest.raises(PipelineError, match=r"plan conditions \['rgb@224'\] have no input"):
        resolve_plan(["caption"], [], plan)
    with pytest.raises(PipelineError, match="expected at least one target"):
        resolve_plan(["rgb@224"], [], None)


def test_decoded_global_embedding_and_saved_files(golden_model, global_tokenizer, text_tokenizer, tmp_path):
    result = generate(golden_model, {"rgb@224": torch.rand(3, 224, 224)}, ["tok_dinov2_global", "det"],
                      tokenizers={"tok_dinov2_global": global_tokenizer, "caption": text_tokenizer}, seed=0)
    output = result.outputs["tok_dinov2_global"]
    tokenizer = TokenizerSet({"tok_dinov2_global": global_tokenizer}).get(output.spec, purpose="test")
    torch.testing.assert_close(output.decoded, tokenizer.detokenize(output.tokens[None]))
    det = result.outputs["det"]
    assert (det.record is None) != (det.parse_error is None)

    written = result.save(tmp_path)
    names = sorted(path.name for path in written)
    expected = ["det.txt", "generation.json", "tok_dinov2_global.npy", "tok_dinov2_global.png",
                "tok_dinov2_global.tokens.json"] + (["det.json", "det.png"] if det.record is not None else [])
    assert names == sorted(expected) and sorted(p.name for p in tmp_path.iterdir()) == names  # no temp files
    np.testing.assert_array_equal(np.load(tmp_path / "tok_dinov2_global.npy"), output.decoded.numpy())
    assert Image.open(tmp_path / "tok_dinov2_global.png").format == "PNG"
    assert (tmp_path / "det.txt").read_text() == det.text + "\n"
    summary = json.loads((tmp_path / "generation.json").read_text())
    assert summary["seed"] == 0 and [s["target_domain"] for s in summary["schedule"]] == ["tok_dinov2_global", "det"]
    ids = load_input(output.spec, str(tmp_path / "tok_dinov2_global.tokens.json"))
    assert isinstance(ids, TokenIds) and torch.equal(ids.ids.reshape(-1), output.tokens)


def test_generated_token_ids_file_is_an_input(golden_model, tmp_path):
    first = generate(golden_model, {"rgb@224": torch.rand(3, 224, 224)}, ["tok_depth@224"], seed=0)
    first.save(tmp_path)
    depth = load_input(spec(golden_model, "tok_depth@224"), str(tmp_path / "tok_depth@224.tokens.json"))
    result = generate(golden_model, {"tok_depth@224": depth}, ["tok_rgb@224"], seed=0)
    assert result.outputs["tok_rgb@224"].tokens.shape == (196,)
    with pytest.raises(PipelineError, match=r"ids of modality 'tok_depth@224', expected 'tok_rgb@224'"):
        load_input(spec(golden_model, "tok_rgb@224"), str(tmp_path / "tok_depth@224.tokens.json"))


def test_token_ids_of_the_wrong_size_are_refused(golden_model):
    with pytest.raises(PipelineError, match=r"input 'tok_depth@224' \(<memory>\): expected 196 integer ids, found "
                                            r"torch.int64 of shape \(10,\)"):
        generate(golden_model, {"tok_depth@224": TokenIds(ids=torch.zeros(10, dtype=torch.long))}, ["tok_rgb@224"])


def test_unknown_modality_names_close_keys(golden_model):
    with pytest.raises(UnknownModalityError, match="did you mean 'tok_depth@224'"):
        generate(golden_model, {"rgb@224": torch.rand(3, 224, 224)}, ["tok_dpth@224"])


def test_target_the_checkpoint_lacks(golden_model):
    with pytest.raises(PipelineError, match=r"target 'tok_normal@224': the checkpoint has no target "
                                            r"'tok_normal@224' \(its targets: caption, det, tok_depth@224"):
        generate(golden_model, {"rgb@224": torch.rand(3, 224, 224)}, ["tok_normal@224"])


def test_input_the_checkpoint_lacks(golden_model):
    with pytest.raises(PipelineError, match=r"input 'tok_normal@224': the checkpoint has no input"):
        generate(golden_model, {"tok_normal@224": torch.zeros(3, 224, 224)}, ["tok_depth@224"])


def test_input_file_of_the_wrong_kind(golden_model, tmp_path):
    text = tmp_path / "caption.txt"
    text.write_text("a car")
    with pytest.raises(PipelineError, match=r"input 'rgb@224': expected a PNG or .npy sample, found caption.txt"):
        load_input(spec(golden_model, "rgb@224"), str(text))
    with pytest.raises(PipelineError, match=r"input 'rgb@224': file .*missing.png not found"):
        load_input(spec(golden_model, "rgb@224"), str(tmp_path / "missing.png"))
    labels = tmp_path / "labels.png"
    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(labels)
    assert load_input(spec(golden_model, "rgb@224"), str(labels)).shape == (1, 8, 8)


def test_text_values_and_text_files(golden_model, tmp_path):
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("a red car [S_1]\n")
    assert load_input(spec(golden_model, "caption"), "a dog") == "a dog"
    assert load_input(spec(golden_model, "caption"), f"@{prompt}") == "a red car [S_1]"
    record = load_input(spec(golden_model, "det"), '{"instances": []}')
    assert record == {"instances": []}
    with pytest.raises(PipelineError, match="input 'det': expected a JSON record of the modality"):
        load_input(spec(golden_model, "det"), "v0=1 v1=2")


def test_raw_token_modality_data_needs_its_tokenizer(golden_model):
    with pytest.raises(MissingTokenizerError, match=r"input 'tok_rgb@224' \(raw data; or give an ids file\) needs a "
                                                    r"tokenizer: .*needs its checkpoint") as caught:
        generate(golden_model, {"tok_rgb@224": torch.rand(3, 224, 224)}, ["tok_depth@224"])
    assert caught.value.key == "tok_rgb@224"


def test_text_targets_need_the_text_tokenizer(golden_model, no_env_text_tokenizer):
    with pytest.raises(MissingTokenizerError, match=rf"target 'caption' needs a tokenizer: .*{TOKENIZER_PATH_ENV}"):
        generate(golden_model, {"rgb@224": torch.rand(3, 224, 224)}, ["caption"])


def test_a_prompt_must_mark_where_to_write(golden_model, text_tokenizer):
    with pytest.raises(PipelineError, match=r"input 'caption' is also a target: its prompt must mark where to write "
                                            r"with a sentinel such as \[S_1\], found none in 'a red car'"):
        generate(golden_model, {"caption": "a red car"}, ["caption"], tokenizers={"caption": text_tokenizer})


def test_a_tokenizer_of_another_vocabulary_is_refused(golden_model, shared_dir, tmp_path):
    import gzip

    path = tmp_path / "global_tiny.safetensors"
    path.write_bytes(gzip.decompress((shared_dir / "fixtures/tokenizers/global_tiny.safetensors.gz").read_bytes()))
    with pytest.raises(PipelineError, match=r"tokenizer of 'tok_dinov2_global': expected a vocabulary of 8192 "
                                            r"\(the modality's\), found 64"):
        generate(golden_model, {"rgb@224": torch.rand(3, 224, 224)}, ["tok_dinov2_global"],
                 tokenizers={"tok_dinov2_global": str(path)})


def test_plan_errors_name_the_field(golden_model):
    plan = GenerationPlan.parse({"targets": [{"domain": "caption", "scheme": "roar"}]})
    with pytest.raises(GenerationSettingsError, match=r"field 'targets.0': target 'caption': scheme must be "
                                                      "autoregressive"):
        generate(golden_model, {"rgb@224": torch.rand(3, 224, 224)}, plan=plan)


def test_sequence_embeddings_are_padded_inputs(golden_model, tmp_path):
    np.save(tmp_path / "t5.npy", np.random.default_rng(0).standard_normal((5, 4096)).astype(np.float32))
    features = load_input(spec(golden_model, "t5_caption"), str(tmp_path / "t5.npy"))
    result = generate(golden_model, {"t5_caption": features}, ["tok_rgb@224"], seed=0)
    assert result.outputs["tok_rgb@224"].tokens.shape == (196,)
    with pytest.raises(PipelineError, match=r"input 't5_caption': expected \(L, 4096\) with 1 <= L <= 77, found "
                                            r"shape \(5, 8\)"):
        generate(golden_model, {"t5_caption": torch.zeros(5, 8)}, ["tok_rgb@224"])


DETECTIONS = {"instances": [{"box": {"xmin": 0.1, "ymin": 0.2, "xmax": 0.5, "ymax": 0.9}, "class_name": "car"}]}


def test_structured_records_are_inputs(golden_model, text_tokenizer):
    record = load_input(spec(golden_model, "det"), json.dumps(DETECTIONS))
    result = generate(golden_model, {"det": record}, ["tok_depth@224"], tokenizers={"caption": text_tokenizer}, seed=0)
    assert result.outputs["tok_depth@224"].tokens.shape == (196,)


def test_parsed_records_are_saved_as_json_and_png(golden_model, text_tokenizer, tmp_path):
    det = spec(golden_model, "det")
    tokenizer = TokenizerSet({"caption": text_tokenizer}).get(det, purpose="test")
    ids = torch.tensor(tokenizer.tokenize(DETECTIONS))
    text = tokenizer.text.detokenize(ids)
    output = GeneratedOutput(spec=det, tokens=ids, text=text, record=tokenizer.detokenize(ids))
    GenerationResult(outputs={"det": output}, schedule=[], seed=None).save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["det.json", "det.png", "det.txt", "generation.json"]
    assert json.loads((tmp_path / "det.json").read_text())["instances"][0]["class_name"] == "car"
    assert (tmp_path / "det.txt").read_text() == text + "\n" and text.startswith("v0=100 v1=200 v2=500 v3=")
    assert Image.open(tmp_path / "det.png").format == "PNG"


@pytest.fixture(scope="module")
def depth_tokenizer(tmp_path_factory):
    """A tiny diffusion-decoder (DiVAE) tokenizer for tok_depth@224: 8192 codes, 16-pixel patches (14×14 tokens)."""
    from mm4m.core.tokenizers.neural import (
        DiVAE,
        DiVAEConfig,
        UNetPreset,
        ViTPreset,
        register_unet_preset,
        register_vit_preset,
    )
    from mm4m.core.tokenizers.training.release import save_released_checkpoint

    register_vit_preset("vit_pipeline_test_enc", ViTPreset(dim=16, depth=1, heads=2))
    register_unet_preset("unet_pipeline_test", UNetPreset(patch_size=4, model_channels=32, num_res_blocks=1,
                                                          attention_resolutions=(), channel_mult=(1,)))
    torch.manual_seed(0)
    config = DiVAEConfig(codebook_size=8192, n_channels=1, image_size=224, patch_size=16, latent_dim=8,
                         enc_type="vit_pipeline_test_enc", dec_type="unet_pipeline_test", post_mlp=True,
                         beta_schedule="linear", prediction_type="sample")
    model = DiVAE(config)
    with torch.no_grad():  # the zero-initialised output layer would decode every sample to 0
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    return str(save_released_checkpoint(model, tmp_path_factory.mktemp("tok") / "depth.safetensors"))


def test_depth_grid_is_decoded_by_diffusion_with_the_plan_seed(golden_model, depth_tokenizer, tmp_path):
    image = torch.rand(3, 224, 224, generator=torch.Generator().manual_seed(0))
    runs = [generate(golden_model, {"rgb@224": image}, ["tok_depth@224"], tokenizers={"tok_depth@224": depth_tokenizer},
                     seed=seed, decode_steps=2).outputs["tok_depth@224"] for seed in (0, 0, 1)]
    assert runs[0].decoded.shape == (1, 1, 224, 224)
    assert torch.equal(runs[0].decoded, runs[1].decoded) and not torch.equal(runs[0].decoded, runs[2].decoded)
    GenerationResult(outputs={"tok_depth@224": runs[0]}, schedule=[], seed=0).save(tmp_path)
    assert Image.open(tmp_path / "tok_depth@224.png").size == (224, 224)
