"""The plugin author guide's manifests validate and its conformance options are the kit's."""

from __future__ import annotations

import re
from pathlib import Path

from mm4m.core.spec import ModalityKind
from mm4m.registry.manifest import parse_manifest, read_manifest

from .markdown import code_blocks, section

PAGE = "writing-a-plugin.md"
REPO = Path(__file__).resolve().parents[2]
CAPTION_MANIFEST = REPO / "plugins/mm4m-modality-caption/src/mm4m_modality_caption/mm4m-plugin.toml"


def test_every_manifest_example_validates():
    blocks = code_blocks(section(PAGE, "2. `mm4m-plugin.toml` — the manifest and spec"), "toml")
    assert len(blocks) == 2
    for block in blocks:
        parse_manifest(block, f"docs/{PAGE}")


def test_the_sequence_example_uses_the_first_party_text_tokenizer():
    (block,) = code_blocks(section(PAGE, "A sequence modality"), "toml")
    (spec,) = parse_manifest(block, f"docs/{PAGE}").specs
    (caption,) = read_manifest(CAPTION_MANIFEST).specs
    assert spec.kind is ModalityKind.TEXT_SEQUENCE
    assert (spec.tokenizer, spec.vocab_size) == (caption.tokenizer, caption.vocab_size)
    assert spec.shared_vocab == caption.key


def test_the_conformance_section_documents_every_option_of_the_kit():
    text = section(PAGE, "5. Check it against the masking invariants")
    source = (REPO / "api/testing/pytest_plugin.py").read_text()
    assert set(re.findall(r"--mm4m-[a-z-]+", text)) == set(re.findall(r'addoption\("(--mm4m-[a-z-]+)"', source))
