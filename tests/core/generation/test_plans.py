"""Reference settings YAML and mm4m plans compile to the schedules the reference used for the goldens."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.generation.errors import GenerationSettingsError
from mm4m.core.generation.plan import GenerationPlan
from mm4m.core.generation.reference_settings import ReferenceGenerationSettings, load_reference_settings
from mm4m.core.spec import DecodingStrategy

T2CR = """\
cond_domains: caption
target_domains: tok_clip@224-tok_rgb@224
tokens_per_target: 196
autoregression_schemes: roar-roar
decoding_steps: 49-25
token_decoding_schedules: linear
temps: 6.0-0.5
temp_schedules: onex:0.5:0.5-constant
cfg_scales: 3.0
cfg_schedules: constant
cfg_grow_conditioning: True
top_p: 0.9
top_k: 0.0
"""

SR = """\
sr_cond_domains: caption-tok_clip@224-tok_rgb@224
sr_target_domains: tok_clip@448-tok_rgb@448
sr_tokens_per_target: 784
sr_autoregression_schemes: maskgit
sr_decoding_steps: 8
sr_token_decoding_schedules: cosine
sr_temps: 1.0
sr_temp_schedules: constant
sr_cfg_scales: 3.0
sr_cfg_schedules: constant
sr_cfg_grow_conditioning: True
sr_top_p: 0.9
"""

# Settings that reproduce the schedules recorded in the fixture manifest, in both formats.
GOLDEN_SETTINGS = {
    "G1_maskgit1_depth": ("tok_depth@224", "maskgit", "1", "cosine", "1.0"),
    "G2_maskgit4_depth": ("tok_depth@224", "maskgit", "4", "cosine", "1.0"),
    "G3_roar4_dinoglobal": ("tok_dinov2_global", "roar", "4", "linear", "1.0"),
    "G4_chain": ("tok_depth@224-caption", "maskgit-autoregressive", "1", "cosine", "1.0"),
    "G5_cfg3_maskgit1_depth": ("tok_depth@224", "maskgit", "1", "cosine", "3.0"),
    "G6_cfg2_ar_det": ("det", "autoregressive", "1", "cosine", "2.0"),
}
TOKENS = {"tok_depth@224": 196, "tok_dinov2_global": 16, "caption": 196, "det": 196}


@pytest.mark.parametrize("name", sorted(GOLDEN_SETTINGS))
def test_reference_settings_compile_to_the_golden_schedules(manifest, name):
    targets, schemes, steps, token_schedule, cfg = GOLDEN_SETTINGS[name]
    settings = ReferenceGenerationSettings.parse({
        "cond_domains": "rgb@224", "target_domains": targets,
        "tokens_per_target": "-".join(str(TOKENS[t]) for t in targets.split("-")),
        "autoregression_schemes": schemes, "decoding_steps": steps, "token_decoding_schedules": token_schedule,
        "temps": 0.0, "temp_schedules": "constant", "cfg_scales": float(cfg), "cfg_schedules": "constant",
        "cfg_grow_conditioning": True})
    assert [s.as_reference_dict() for s in settings.schedule()] == manifest["generation"][name]["schedule"]


@pytest.mark.parametrize("name", sorted(GOLDEN_SETTINGS))
def test_plans_compile_to_the_golden_schedules(manifest, name):
    targets, schemes, steps, token_schedule, cfg = GOLDEN_SETTINGS[name]
    plan = GenerationPlan.parse({
        "conditions": ["rgb@224"],
        "targets": [{"domain": t, "scheme": s, "steps": 1 if s == "autoregressive" else int(steps),
                     "temperature": 0.0, "token_schedule": token_schedule, "guidance": float(cfg)}
                    for t, s in zip(targets.split("-"), schemes.split("-"))],
    })
    assert [s.as_reference_dict() for s in plan.schedule()] == manifest["generation"][name]["schedule"]


def test_reference_yaml_broadcasts_single_values_and_grows_guidance_with_image_targets(tmp_path):
    path = tmp_path / "T2CR_roar49-25_cfg3_t6-0.5.yaml"
    path.write_text(T2CR)
    groups = load_reference_settings(path)
    assert list(groups) == ["base"]
    steps = groups["base"].schedule()
    assert [s.num_tokens for s in steps] == [4] * 49 + [8] * 21 + [7] * 4
    assert {s.cfg_scale for s in steps} == {3.0}
    assert steps[0].cfg_cond_domains == ("caption",) and steps[-1].cfg_cond_domains == ("caption", "tok_clip@224")
    assert steps[0].temperature == pytest.approx(5.887755102040816, abs=1e-12) and steps[48].temperature == 0.5
    assert {s.temperature for s in steps[49:]} == {0.5}
    assert groups["base"].top_p == 0.9 and groups["base"].top_k == 0


def test_super_resolution_fields_are_read_from_the_sr_prefix(tmp_path):
    path = tmp_path / "x2CR_mg8_cfg3_t1const.yaml"
    path.write_text(T2CR + SR)
    groups = load_reference_settings(path)
    assert list(groups) == ["base", "super_resolution"]
    steps = groups["super_resolution"].schedule()
    assert [s.num_tokens for s in steps] == [30, 85, 127, 150, 150, 127, 85, 30] * 2
    assert steps[8].cfg_cond_domains == ("caption", "tok_clip@224", "tok_rgb@224", "tok_clip@448")


def test_sequence_targets_never_join_the_guidance_conditions():
    plan = GenerationPlan.parse({"conditions": ["rgb@224"], "targets": ["caption", "tok_depth@224", "det"]})
    steps = plan.schedule()
    assert steps[0].cfg_cond_domains == ("rgb@224",)
    assert steps[-1].cfg_cond_domains == ("rgb@224", "tok_depth@224")


def test_plan_defaults_come_from_the_modality_spec():
    steps = GenerationPlan.parse({"targets": ["tok_dinov2_global", "caption"]}).schedule()
    assert [s.scheme for s in steps] == [DecodingStrategy.ROAR, DecodingStrategy.AUTOREGRESSIVE]
    assert steps[0].num_tokens == 16 and steps[1].num_tokens is None


@given(steps=st.integers(1, 196), temperature=st.floats(0, 5), scheme=st.sampled_from(["maskgit", "roar"]),
       schedule=st.sampled_from(["constant", "linear", "onex:0.5:1.0"]))
def test_the_two_formats_compile_identically(steps, temperature, scheme, schedule):
    reference = ReferenceGenerationSettings.parse({
        "cond_domains": "rgb@224", "target_domains": "tok_depth@224-caption", "tokens_per_target": 196,
        "autoregression_schemes": f"{scheme}-autoregressive", "decoding_steps": steps,
        "token_decoding_schedules": "linear", "temps": temperature, "temp_schedules": schedule,
        "cfg_scales": 2.0, "cfg_grow_conditioning": True})
    plan = GenerationPlan.parse({"conditions": ["rgb@224"], "targets": [
        {"domain": "tok_depth@224", "scheme": scheme, "steps": steps, "token_schedule": "linear",
         "temperature": temperature, "temperature_schedule": schedule, "guidance": 2.0},
        {"domain": "caption", "temperature": temperature, "guidance": 2.0}]})
    compiled = plan.schedule()
    assert compiled == reference.schedule()
    assert sum(s.num_tokens for s in compiled[:-1]) == 196


@pytest.mark.parametrize("change, message", [
    ({"decoding_steps": "1-2-3"}, "'decoding_steps' needs 1 value or 2 hyphen-separated values"),
    ({"temps": "6.0-x"}, "field 'temps.1'"),
    ({"cfg_schedules": "cosine"}, "field 'cfg_schedules.0': Input should be 'constant'"),
    ({"temp_schedules": "onex:1"}, "unknown temperature schedule 'onex:1'"),
    ({"autoregression_schemes": "mg-roar"}, "field 'autoregression_schemes.0'"),
    ({"decoding_stepz": 3}, "field 'decoding_stepz': Extra inputs are not permitted"),
])
def test_reference_errors_name_the_file_and_field(tmp_path, change, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(T2CR), **change}))
    with pytest.raises(GenerationSettingsError, match=str(path).replace(".", r"\.") + ": .*" + message.replace(
            "(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        load_reference_settings(path)


@pytest.mark.parametrize("data, message", [
    ({"targets": []}, "field 'targets': List should have at least 1 item"),
    ({"conditions": ["rgb@224"], "targets": ["rgb@224"]}, "target 'rgb@224' is already a condition"),
    ({"targets": ["caption", "caption"]}, "target 'caption' is already an earlier target"),
    ({"targets": [{"domain": "caption", "stepz": 2}]}, "field 'targets.0.stepz'"),
])
def test_plan_validation_errors_name_the_field(data, message):
    with pytest.raises(GenerationSettingsError, match=message):
        GenerationPlan.parse(data, source="plan.yaml")


@pytest.mark.parametrize("target, message", [
    ({"domain": "caption", "scheme": "maskgit"}, "scheme must be autoregressive for kind 'text_sequence'"),
    ({"domain": "tok_depth@224", "scheme": "autoregressive"}, "scheme must be maskgit or roar"),
    ({"domain": "tok_depth@224", "num_tokens": 500}, "num_tokens must be <= 196, found 500"),
    ({"domain": "caption", "steps": 3}, "autoregressive decoding takes 1 step, found steps=3"),
    ({"domain": "rgb@224"}, "cannot be generated"),
])
def test_plan_compile_errors_name_the_target(target, message):
    with pytest.raises(GenerationSettingsError, match=r"field 'targets\.0': .*" + message):
        GenerationPlan.parse({"targets": [target]}).schedule()


def test_plans_and_schedules_do_not_import_torch():
    code = ("import sys\n"
            "from mm4m.core.generation import GenerationPlan, ReferenceGenerationSettings, load_reference_settings\n"
            "GenerationPlan.parse({'conditions': ['rgb@224'], 'targets': ['tok_depth@224', 'caption']}).schedule()\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
