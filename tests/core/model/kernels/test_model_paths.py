"""A whole FourM training step gives the same loss and parameter gradients on the Triton and SDPA paths."""

from __future__ import annotations

import pytest
import torch

from mm4m.core.model.attention import BACKEND_ENV

pytest.importorskip("triton")

BUDGETS = {"rgb@224": (6, 0), "tok_depth@224": (5, 9), "tok_dinov2_global": (3, 4), "caption": (4, 7), "det": (2, 5)}


def loss_and_grads(model: torch.nn.Module, mod_dict: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    model.zero_grad()
    loss, _ = model(mod_dict, num_encoder_tokens=24, num_decoder_tokens=40)
    loss.backward()
    return loss.detach(), {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


def test_training_step_matches_sdpa(batches, device, monkeypatch):
    model = batches.tiny_model(seed=2, dim=64, heads=2).to(device)  # head dim 32
    mod_dict = {key: {name: t.to(device) for name, t in entry.items()}
                for key, entry in batches.random_mod_dict(7, BUDGETS).items()}
    monkeypatch.setenv(BACKEND_ENV, "sdpa")
    expected_loss, expected_grads = loss_and_grads(model, mod_dict)
    monkeypatch.setenv(BACKEND_ENV, "triton")
    loss, grads = loss_and_grads(model, mod_dict)
    torch.testing.assert_close(loss, expected_loss, atol=1e-5, rtol=1e-5)
    assert grads.keys() == expected_grads.keys()
    for name, grad in grads.items():
        torch.testing.assert_close(grad, expected_grads[name], atol=1e-4, rtol=1e-3, msg=name)
