"""entry_points.toml is the catalog of first-party plugins: every plugin's packaging and manifest agree with it,
and together they provide exactly the 4M-21 keys of spec §1.2 (+ the super-resolution keys) with its values."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mm4m.registry.first_party import first_party_plugins
from mm4m.registry.manifest import read_manifest
from mm4m.registry.version import ENTRY_POINT_GROUP, MANIFEST_FILENAME

REPO = Path(__file__).resolve().parents[2]
CATALOG = tomllib.loads((REPO / "entry_points.toml").read_text())
PLUGIN_DIRS = sorted((REPO / "plugins").glob("mm4m-modality-*"))

# Spec §1.2 (and the SR keys below it): kind, vocabulary and resolved max tokens of every key.
SPEC_1_2 = {
    "rgb@224": ("image_pixels", None, 196), "tok_rgb@224": ("image_tokens", 16384, 196),
    "tok_depth@224": ("image_tokens", 8192, 196), "tok_normal@224": ("image_tokens", 8192, 196),
    "tok_semseg@224": ("image_tokens", 4096, 196), "tok_clip@224": ("image_tokens", 8192, 196),
    "caption": ("text_sequence", 30000, 256), "det": ("text_sequence", 30000, 256),
    "t5_caption": ("sequence_embedding", None, 77), "metadata": ("text_sequence", 30000, 40),
    "human_poses": ("text_sequence", 30000, 275), "color_palette": ("text_sequence", 30000, 23),
    "sam_instance": ("text_sequence", 30000, 290), "tok_canny_edge@224": ("image_tokens", 8192, 196),
    "tok_sam_edge@224": ("image_tokens", 8192, 196), "tok_dinov2@224": ("image_tokens", 8192, 256),
    "tok_imagebind@224": ("image_tokens", 8192, 256), "tok_dinov2_global": ("global_tokens", 8192, 16),
    "tok_imagebind_global": ("global_tokens", 8192, 16),
    "rgb@448": ("image_pixels", None, 784), "tok_rgb@448": ("image_tokens", 16384, 784),
    "tok_depth@448": ("image_tokens", 8192, 784), "tok_normal@448": ("image_tokens", 8192, 784),
    "tok_clip@448": ("image_tokens", 8192, 784), "tok_semseg@448": ("image_tokens", 4096, 784),
}
INPUT_ONLY = {"rgb@224", "rgb@448", "t5_caption"}


def test_catalog_declares_the_entry_point_group():
    assert ENTRY_POINT_GROUP in CATALOG["groups"]
    assert set(CATALOG["plugins"]) == {d.name for d in PLUGIN_DIRS}
    assert first_party_plugins() == CATALOG["plugins"], "the installed copy must be entry_points.toml itself"


@pytest.mark.parametrize("plugin_dir", PLUGIN_DIRS, ids=lambda d: d.name)
def test_plugin_packaging_matches_the_catalog(plugin_dir: Path):
    project = tomllib.loads((plugin_dir / "pyproject.toml").read_text())["project"]
    entry = CATALOG["plugins"][project["name"]]
    assert project["name"] == plugin_dir.name
    assert project["entry-points"][ENTRY_POINT_GROUP] == {entry["entry_point"]: entry["module"]}
    assert project["description"] == entry["summary"]
    assert any(dep.startswith("mm4m") for dep in project["dependencies"])
    package = entry["module"].split(".")[0]
    manifest = read_manifest(plugin_dir / "src" / package / MANIFEST_FILENAME)
    assert [s.key for s in manifest.specs] == entry["keys"]
    assert (plugin_dir / "src" / package / "plugin.py").is_file()


def test_first_party_plugins_provide_exactly_the_spec_keys_with_its_values():
    specs = {}
    for plugin_dir in PLUGIN_DIRS:
        package = CATALOG["plugins"][plugin_dir.name]["module"].split(".")[0]
        for spec in read_manifest(plugin_dir / "src" / package / MANIFEST_FILENAME).specs:
            assert spec.key not in specs, f"{spec.key} provided twice"
            specs[spec.key] = spec
    assert set(specs) == set(SPEC_1_2)
    for key, (kind, vocab, max_tokens) in SPEC_1_2.items():
        spec = specs[key]
        assert (spec.kind.value, spec.vocab_size, spec.max_tokens) == (kind, vocab, max_tokens), key
        assert spec.can_be_target == (key not in INPUT_ONLY), key
    assert specs["human_poses"].max_positions == 263
    assert specs["t5_caption"].channels == 4096
    assert specs["tok_dinov2_global"].positional_embedding.value == "learned"
    assert len(CATALOG["plugins"]) == 19
