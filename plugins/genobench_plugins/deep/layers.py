"""Network pieces of the deep generators: layer widths and the seed paper's residual MLP."""

from __future__ import annotations

import math

import torch
from torch import nn

from genobench import GeneratorError

#: Leaky ReLU slope of the seed paper's MLPs (Xie et al. 2026, GigaScience).
LEAKY_SLOPE = 0.05


def scaled_width(n_features: int, divisor: float, *, minimum: int = 32,
                 maximum: int | None = None) -> int:
    """A layer width proportional to the input size, ``n_features / divisor``, rounded to 8.

    The seed paper sizes its GAN layers in proportion to 3 x SNPs (``proportional_neuron``);
    ``maximum`` caps them so the CPU profiles stay fast.
    """
    width = max(minimum, int(round(n_features / divisor / 8)) * 8)
    return min(width, maximum) if maximum else width


def power_of_two_width(value: float, minimum: int, maximum: int) -> int:
    """The power of two nearest ``value`` (log scale), clipped to [minimum, maximum]."""
    width = 2 ** int(round(math.log2(max(value, 1.0))))
    return int(min(max(width, minimum), maximum))


def normalisation(kind: str, width: int) -> nn.Module:
    """A normalisation layer: "batch" (BatchNorm1d), "layer" (LayerNorm) or "none"."""
    if kind == "batch":
        return nn.BatchNorm1d(width)
    if kind == "layer":
        return nn.LayerNorm(width)
    if kind == "none":
        return nn.Identity()
    raise GeneratorError(f"unknown normalisation {kind!r} (expected batch, layer or none)")


class ResidualBlock(nn.Module):
    """``skip(x) + LeakyReLU(Norm(Linear([x, c])))``: the residual MLP block of the paper.

    A condition ``c`` (standardised phenotypes), when the block has ``cond_dim > 0``, is
    concatenated to the block's input, so every block sees it (the paper's WGAN-GP). The skip is
    the identity when the width is kept and a bias-free linear map when it changes.
    """

    def __init__(self, in_dim: int, out_dim: int, *, cond_dim: int = 0, norm: str = "batch",
                 slope: float = LEAKY_SLOPE, dropout: float = 0.0):
        super().__init__()
        self.cond_dim = cond_dim
        self.linear = nn.Linear(in_dim + cond_dim, out_dim)
        self.norm = normalisation(norm, out_dim)
        self.activation = nn.LeakyReLU(slope)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.skip = nn.Identity() if in_dim == out_dim else nn.Linear(in_dim, out_dim, bias=False)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        inputs = torch.cat([x, cond], dim=1) if self.cond_dim else x
        return self.skip(x) + self.dropout(self.activation(self.norm(self.linear(inputs))))


class ResidualMLP(nn.Module):
    """A stack of :class:`ResidualBlock` with the given widths; the condition enters each block."""

    def __init__(self, in_dim: int, widths: list[int], *, cond_dim: int = 0, norm: str = "batch",
                 slope: float = LEAKY_SLOPE, dropout: float = 0.0):
        super().__init__()
        dims = [in_dim, *widths]
        self.blocks = nn.ModuleList(
            ResidualBlock(a, b, cond_dim=cond_dim, norm=norm, slope=slope, dropout=dropout)
            for a, b in zip(dims[:-1], dims[1:], strict=True))
        self.out_dim = dims[-1]

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, cond)
        return x
