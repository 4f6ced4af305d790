"""Small building blocks of the transformer: LayerNorm with a zero-bias buffer, MLPs, drop-path (spec §2.2)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

NORM_EPS = 1e-6


class LayerNorm(nn.Module):
    """Affine LayerNorm over the last dim; without bias, ``bias`` is an all-zero buffer kept in the state dict."""

    def __init__(self, dim: int, *, bias: bool = True, eps: float = NORM_EPS):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))
        if bias:
            self.bias = nn.Parameter(torch.zeros(dim))
        else:
            self.register_buffer("bias", torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, self.eps)


class Mlp(nn.Module):
    """fc1 → activation → fc2 with hidden width ``hidden``."""

    def __init__(self, dim: int, hidden: int, *, act: type[nn.Module], bias: bool):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden, bias=bias)
        self.act = act()
        self.fc2 = nn.Linear(hidden, dim, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class GatedMlp(nn.Module):
    """SwiGLU-style MLP: fc2(act(fc1 x) ⊙ fc3 x); fc1 is the gate, fc3 the value."""

    def __init__(self, dim: int, hidden: int, *, act: type[nn.Module], bias: bool):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden, bias=bias)
        self.act = act()
        self.fc2 = nn.Linear(hidden, dim, bias=bias)
        self.fc3 = nn.Linear(dim, hidden, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)) * self.fc3(x))


def mlp_hidden(dim: int, mlp_ratio: float, gated: bool) -> int:
    """Hidden width: ``int(dim·ratio)``, and two thirds of it (floored) for gated MLPs (768 → 2048)."""
    hidden = int(dim * mlp_ratio)
    return int(2 * hidden / 3) if gated else hidden


class DropPath(nn.Module):
    """Stochastic depth: drops a sample's whole residual branch with probability ``rate`` while training."""

    def __init__(self, rate: float = 0.0):
        super().__init__()
        self.rate = rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.rate == 0.0 or not self.training:
            return x
        keep = 1.0 - self.rate
        shape = (x.shape[0],) + (1,) * (x.dim() - 1)
        return x * x.new_empty(shape).bernoulli_(keep) / keep
