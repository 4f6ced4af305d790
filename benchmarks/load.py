"""`FourM.from_pretrained` (meta-device build + assign) vs building with initialisation and then loading.

Uses a 4M-21-B-sized checkpoint (all 19 modalities, swiglu_nobias, ~834M parameters, ~3.3 GB), written
to a temporary directory and deleted afterwards. Both ways load the same file in this process.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/load.py
"""

from __future__ import annotations

import gc
import tempfile
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

from mm4m.core.checkpoint import save_checkpoint
from mm4m.core.model.config import named_config
from mm4m.core.model.fourm import FourM
from mm4m.registry import get_registry


def timed(label: str, fn):
    gc.collect()
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    print(f"{label}: {elapsed:.2f} s")
    return result, elapsed


def build_then_load(config, path: Path) -> FourM:
    """The usual way: random initialisation of every weight, then overwrite them all."""
    model = FourM(config)
    model.load_state_dict(load_file(str(path)), strict=True)
    return model


def main() -> None:
    keys = [k for k in get_registry().keys() if not k.endswith("@448")]
    config = named_config("base", "swiglu_nobias", domains_in=keys,
                          domains_out=[k for k in keys if k not in ("rgb@224", "t5_caption")])
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {len(keys)} modalities")
    model, build_s = timed("build FourM with initialisation", lambda: FourM(config))
    print(f"  parameters: {sum(p.numel() for p in model.parameters()) / 1e6:.0f}M")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "4m21_b.safetensors"
        timed("save_checkpoint", lambda: save_checkpoint(model, path))
        print(f"  file size: {path.stat().st_size / 1e9:.2f} GB")
        del model
        loaded, ours = timed("FourM.from_pretrained (meta build + assign)", lambda: FourM.from_pretrained(path))
        del loaded
        baseline, theirs = timed("build with initialisation + load_state_dict", lambda: build_then_load(config, path))
        del baseline
    print(f"from_pretrained speed-up vs build+load: ×{theirs / ours:.2f}; "
          f"vs initialised build alone: ×{build_s / ours:.2f}")


if __name__ == "__main__":
    main()
