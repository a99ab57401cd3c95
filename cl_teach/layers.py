"""Layers with a leading seed axis: S independent networks trained in one pass.

Every tensor that flows through a network of this package has the shape (S, B, ...):
S seeds, each with its own weights and its own mini-batch. A layer holds the weights of
all S networks stacked (a :class:`Linear`'s weight is (S, out, in)) and computes each
seed's slice with the same kernel, on the same shapes, as a network of one seed, so a
seed gives bit-identical numbers whether it runs alone (S = 1) or beside others
(``tests/test_seeds.py``). The small networks of the CPU defaults spend most of a step
in Python rather than in arithmetic, so S seeds in one pass cost far less than S runs.

Each seed's weights are drawn from that seed's own random generator, with the
initialisation PyTorch gives the plain layer (``init`` names the alternatives).
Parameters carry the seed axis first, so :func:`count_parameters` of a module is the size
of one seed's network.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

Generators = Sequence[torch.Generator]  # one per seed


def count_parameters(module: nn.Module) -> int:
    """Parameters of one seed's network (every parameter has the seed axis first)."""
    return sum(p[0].numel() for p in module.parameters())


def seeds_of(module: nn.Module) -> int:
    """The number of seeds S a network holds."""
    return next(module.parameters()).shape[0]


@torch.no_grad()
def _uniform(t: torch.Tensor, bound: float, gens: Generators) -> None:
    for s, g in enumerate(gens):
        t[s] = torch.empty(t.shape[1:]).uniform_(-bound, bound, generator=g)


@torch.no_grad()
def _normal(t: torch.Tensor, std: float, gens: Generators) -> None:
    for s, g in enumerate(gens):
        t[s] = torch.empty(t.shape[1:]).normal_(0.0, std, generator=g)


class Linear(nn.Module):
    """``y = x W^T + b`` per seed: x (S, B, in) -> (S, B, out).

    ``init="default"``: PyTorch's ``nn.Linear`` (weight and bias uniform in
    +-1/sqrt(in)); ``init="classifier"``: PyCIL's ``SimpleLinear`` (weight
    kaiming-uniform with gain 1, i.e. +-sqrt(3/in), bias zero).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        gens: Generators,
        bias=True,
        init: str = "default",
    ):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        S = len(gens)
        self.weight = nn.Parameter(torch.empty(S, out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(S, out_features)) if bias else None
        if init == "classifier":
            _uniform(self.weight, math.sqrt(3 / in_features), gens)
        elif init == "default":
            _uniform(self.weight, 1 / math.sqrt(in_features), gens)
            if bias:
                _uniform(self.bias, 1 / math.sqrt(in_features), gens)
        else:
            raise ValueError(f"unknown init {init!r}; choose default or classifier")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.transpose(1, 2)
        if self.bias is None:
            return torch.bmm(x, w)
        return torch.baddbmm(self.bias.unsqueeze(1), x, w)


class Conv2d(nn.Module):
    """A 2-d convolution per seed: x (S, B, C, H, W) -> (S, B, C', H', W').

    Each seed's slice goes through ``F.conv2d`` on its own (a grouped convolution over
    the seeds would be faster but rounds differently from a one-seed run).
    ``init="default"``: PyTorch's ``nn.Conv2d``; ``init="kaiming"``: normal with
    std sqrt(2 / fan_out) (the ResNets, as torchvision and PyCIL).
    """

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: int,
        gens: Generators,
        stride: int = 1,
        padding: int = 0,
        bias: bool = False,
        init: str = "default",
    ):
        super().__init__()
        self.stride, self.padding = stride, padding
        S = len(gens)
        self.weight = nn.Parameter(torch.empty(S, c_out, c_in, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(S, c_out)) if bias else None
        fan_in, fan_out = c_in * kernel * kernel, c_out * kernel * kernel
        if init == "kaiming":
            _normal(self.weight, math.sqrt(2 / fan_out), gens)
        elif init == "default":
            _uniform(self.weight, 1 / math.sqrt(fan_in), gens)
            if bias:
                _uniform(self.bias, 1 / math.sqrt(fan_in), gens)
        else:
            raise ValueError(f"unknown init {init!r}; choose default or kaiming")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        biases = [None] * len(x) if self.bias is None else self.bias.unbind(0)
        out = [
            F.conv2d(xs, w, b, self.stride, self.padding)
            for xs, w, b in zip(x.unbind(0), self.weight.unbind(0), biases, strict=True)
        ]
        return out[0].unsqueeze(0) if len(out) == 1 else torch.stack(out)


class BatchNorm2d(nn.Module):
    """BatchNorm over each seed's channels: x (S, B, C, H, W); statistics (S, C).

    The seeds are laid side by side as S * C channels of one ``F.batch_norm`` call, which
    normalises every channel on its own, as ``nn.BatchNorm2d`` (momentum 0.1, eps 1e-5).
    """

    def __init__(self, channels: int, gens: Generators):
        super().__init__()
        S = len(gens)
        self.weight = nn.Parameter(torch.ones(S, channels))
        self.bias = nn.Parameter(torch.zeros(S, channels))
        self.register_buffer("running_mean", torch.zeros(S, channels))
        self.register_buffer("running_var", torch.ones(S, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        S, B = x.shape[:2]
        side_by_side = x[0] if S == 1 else x.transpose(0, 1).reshape(B, -1, *x.shape[3:])
        y = F.batch_norm(
            side_by_side,
            self.running_mean.view(-1),
            self.running_var.view(-1),
            self.weight.view(-1),
            self.bias.view(-1),
            self.training,
            0.1,
            1e-5,
        )
        return y.unsqueeze(0) if S == 1 else y.view(B, S, *x.shape[2:]).transpose(0, 1)

    @torch.no_grad()
    def reset_channels(self, s: int, channels: torch.Tensor) -> None:
        """Seed ``s``'s ``channels`` back to their initial state (weight 1, bias 0,
        running mean 0, running variance 1)."""
        self.weight[s, channels], self.bias[s, channels] = 1.0, 0.0
        self.running_mean[s, channels], self.running_var[s, channels] = 0.0, 1.0


class GlobalAvgPool(nn.Module):
    """(S, B, C, H, W) -> (S, B, C): the mean over positions."""

    def forward(self, x):
        return x.mean((-2, -1))


class Flatten(nn.Module):
    """(S, B, C, H, W) -> (S, B, C * H * W)."""

    def forward(self, x):
        return x.flatten(2)
