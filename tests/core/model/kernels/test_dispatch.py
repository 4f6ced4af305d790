"""`attention` dispatch: forced paths agree, bad settings are named, the CPU path never imports Triton."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from mm4m.core.model import attention as attention_module
from mm4m.core.model.attention import BACKEND_ENV, attention, attention_backend
from mm4m.core.model.kernels import support

RULES_SEED = 5


def decoder_inputs() -> tuple[tuple[torch.Tensor, ...], dict[str, torch.Tensor]]:
    """Decoder-like inputs: three modality runs (one causal), two padding slots with repeated ids."""
    g = torch.Generator().manual_seed(RULES_SEED)
    q, k, v = (torch.randn(2, 2, 30, 32, generator=g) for _ in range(3))
    segments = torch.tensor([[0] * 9 + [1] * 12 + [2] * 7 + [0, 2]]).repeat(2, 1)
    codes = torch.tensor([[9] + [0] * 8 + [1] * 12 + [7] + [0] * 6 + [0, 0]]).repeat(2, 1)
    rules = {"q_segments": segments, "k_segments": segments, "key_bound": torch.cumsum(codes, 1),
             "key_valid": torch.rand(2, 30, generator=g) > 0.1}
    return (q, k, v), rules


@pytest.mark.parametrize("backend", ["flex", "triton"])
def test_forced_paths_agree_with_sdpa(backend, monkeypatch):
    if backend == "triton":
        pytest.importorskip("triton")
    (q, k, v), rules = decoder_inputs()
    monkeypatch.setenv(BACKEND_ENV, "sdpa")
    expected = attention(q, k, v, **rules)
    monkeypatch.setenv(BACKEND_ENV, backend)
    torch.testing.assert_close(attention(q, k, v, **rules), expected, atol=2e-5, rtol=2e-5)


def test_forced_triton_on_the_cpu_needs_the_interpreter(monkeypatch):
    pytest.importorskip("triton")
    monkeypatch.setenv(BACKEND_ENV, "triton")
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    (q, k, v), rules = decoder_inputs()
    with pytest.raises(ValueError, match="TRITON_INTERPRET=1.*found cpu"):
        attention(q, k, v, **rules)


def test_forced_triton_without_triton_is_named(monkeypatch):
    monkeypatch.setenv(BACKEND_ENV, "triton")
    monkeypatch.setattr(support, "triton_installed", lambda: False)
    (q, k, v), rules = decoder_inputs()
    with pytest.raises(RuntimeError, match="needs the triton package"):
        attention(q, k, v, **rules)


def test_unknown_backend_is_named(monkeypatch):
    monkeypatch.setenv(BACKEND_ENV, "cuda")
    q = torch.randn(1, 1, 2, 32)
    with pytest.raises(ValueError, match=f"{BACKEND_ENV} must be one of auto, triton, flex, sdpa; found 'cuda'"):
        attention(q, q, q)


@pytest.mark.parametrize("setting", ["", "auto"])
def test_automatic_choice_on_the_cpu_is_sdpa(setting, monkeypatch):
    monkeypatch.setenv(BACKEND_ENV, setting)
    (q, k, v), rules = decoder_inputs()
    assert attention_backend(q, k, v, has_rules=True) == "sdpa"
    torch.testing.assert_close(attention(q, k, v, **rules), attention_module.sdpa_attention(q, k, v, **rules))


def test_cpu_path_does_not_import_triton():
    code = ("import sys, torch\n"
            "from mm4m.core.model.attention import attention\n"
            "q = torch.randn(1, 2, 5, 32)\n"
            "attention(q, q, q, key_valid=torch.ones(1, 5, dtype=torch.bool))\n"
            "assert 'triton' not in sys.modules, 'triton was imported'\n")
    env = {key: value for key, value in os.environ.items() if key != BACKEND_ENV}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)
