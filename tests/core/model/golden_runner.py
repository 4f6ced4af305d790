"""Recompute a golden forward fixture in a fresh process (so CPU-kernel settings apply from the start).

Usage: python golden_runner.py <shared dir> <checkpoint.safetensors> <forward fixture name> <out.safetensors>
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).parent))
from golden_forward import GOLDEN, fixture_mod_dict, forward_stats, manifest  # noqa: E402

from mm4m.core.model.fourm import FourM  # noqa: E402


def main(shared: str, checkpoint: str, fixture: str, out: str) -> None:
    torch.set_num_threads(1)
    golden = Path(shared) / GOLDEN
    model = FourM.from_pretrained(checkpoint)
    mod_dict = fixture_mod_dict(golden, set(model.encoder_embeddings) | set(model.decoder_embeddings))
    results = {}
    for run, budget in manifest(golden)["files"][fixture]["runs"].items():
        results.update(forward_stats(model, mod_dict, budget["num_encoder_tokens"], budget["num_decoder_tokens"], run))
    save_file({k: v.contiguous() for k, v in results.items()}, out)


if __name__ == "__main__":
    main(*sys.argv[1:])
