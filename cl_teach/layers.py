"""Layers with a leading seed axis: S independent networks trained in one pass.

Every tensor that flows through a network of this package has the shape (S, B, ...):
S seeds, each with its own weights and its own mini-batch. A layer holds the weights of
all S networks stacked (a :class:`Linear`'s weight is (S, out, in)) and computes all
seeds in one call of a kernel that handles each seed's slice on its own: a batched matrix
product over the seeds (:class:`Linear`; :class:`Conv2d` on small images, as im2col and a
matrix product), one ``F.batch_norm`` over the seeds' channels (:class:`BatchNorm2d`),
elementwise functions. What a seed's slice computes, down to the last bit, then depends
on that seed's data and shapes only, so a seed gives the same numbers whether it runs
alone (S = 1) or beside others, on one CPU thread as the runs use (``tests/test_layers.py``
for every layer shape, ``tests/test_seeds.py`` for every method). A grouped convolution
over the seeds would not: oneDNN, PyTorch's CPU convolution, picks its kernel by the
number of groups (a direct kernel for one group, an im2col-and-GEMM kernel or another
direct one for two or more), and these round differently. The small networks of the CPU
defaults spend most of a step in Python and in the cost of each kernel call rather than in
arithmetic, so S seeds in one pass cost far less than S runs (``benchmarks/timings.py``:
5 seeds about twice one seed).

Feature maps are always seen as (S, B, C, H, W); how they are stored follows the
convolution that made them: channel-major with the batch innermost, (S, C, H, W, B)
(:func:`channel_major`), after im2col, which copies along runs of the batch, and batch
first, (B, S, C, H, W), after ``F.conv2d`` per seed, which reads and writes each seed's
batch contiguous. BatchNorm normalises either in place, elementwise layers keep it.

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


#: a convolution of at most this many multiply-adds per image runs as im2col and one
#: batched matrix product for all seeds (the small CNNs on 8x8 digits, the first layer on
#: 28x28 MNIST); a larger one as one ``F.conv2d`` call per seed, whose arithmetic then
#: outweighs the cost of a call (one CPU thread: the width-16 CNN's 74k-MAC layer is
#: already faster so)
IM2COL_MAX_MACS = 2**16


def channel_major(x: torch.Tensor) -> torch.Tensor:
    """Feature maps (S, B, C, H, W) stored channel by channel, each channel's maps with the
    batch innermost: (S, C, H, W, B) contiguous. No copy when ``x`` is stored so already
    (as :class:`Conv2d`'s im2col leaves its output)."""
    return x.permute(0, 2, 3, 4, 1).contiguous()


def from_channel_major(x: torch.Tensor) -> torch.Tensor:
    """(S, C, H, W, B) -> the (S, B, C, H, W) view."""
    return x.permute(0, 4, 1, 2, 3)


def im2col(rows: torch.Tensor, k: int, stride: int) -> torch.Tensor:
    """Each seed's patch matrix: zero-padded feature maps rows (S, C, Hp, Wp, B) ->
    (S, C*k*k, Ho * Wo * B), where row (c, i, j) holds pixel (stride * y + i,
    stride * x + j) of channel c for output position (y, x) of image b. One copy through
    a strided view, along runs of the batch: several times faster than ``F.unfold``."""
    S, C, Hp, Wp, B = rows.shape
    Ho, Wo = (Hp - k) // stride + 1, (Wp - k) // stride + 1
    s_seed, s_chan, s_row, s_col, s_image = rows.stride()
    patches = rows.as_strided(
        (S, C, k, k, Ho, Wo, B),
        (s_seed, s_chan, s_row, s_col, stride * s_row, stride * s_col, s_image),
    )
    return patches.reshape(S, C * k * k, Ho * Wo * B)


class _Im2col(torch.autograd.Function):
    """:func:`im2col`, whose backward pass sums each patch's gradient back into the pixels
    it was copied from: one strided add per kernel tap (k * k of them), along runs of the
    batch (``F.fold`` adds element by element, several times slower)."""

    generate_vmap_rule = True  # EWC's per-sample gradients run the network under vmap

    @staticmethod
    def forward(rows, k: int, stride: int):
        return im2col(rows, k, stride)

    @staticmethod
    def setup_context(ctx, inputs, output):
        rows, ctx.k, ctx.stride = inputs
        ctx.shape = rows.shape

    @staticmethod
    def backward(ctx, grad):
        (S, C, Hp, Wp, B), k, s = ctx.shape, ctx.k, ctx.stride
        Ho, Wo = (Hp - k) // s + 1, (Wp - k) // s + 1
        taps = grad.view(S, C, k, k, Ho, Wo, B)
        rows = grad.new_zeros(ctx.shape)
        for i in range(k):
            for j in range(k):
                pixels = rows[:, :, i : i + s * Ho : s, j : j + s * Wo : s]  # a view of rows
                pixels += taps[:, :, i, j]
        return rows, None, None


class Conv2d(nn.Module):
    """A 2-d convolution per seed: x (S, B, C, H, W) -> (S, B, C', H', W').

    A small convolution (``IM2COL_MAX_MACS``) multiplies each seed's weights (C', C*k*k)
    with its patch matrix (:func:`im2col`) in one ``torch.bmm`` over the seeds, as
    :class:`Linear`; a large one calls ``F.conv2d`` once per seed. The choice depends on
    one seed's shapes only, so a seed takes the same path alone or beside others.
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
        S, B, C, H, W = x.shape
        c_out, k, s, p = self.weight.shape[1], self.weight.shape[-1], self.stride, self.padding
        Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
        if c_out * C * k * k * Ho * Wo > IM2COL_MAX_MACS:
            return self._per_seed(x)
        rows = F.pad(x.permute(0, 2, 3, 4, 1), (0, 0, p, p, p, p))  # (S, C, Hp, Wp, B)
        patches = _Im2col.apply(rows, k, s) if rows.requires_grad else im2col(rows, k, s)
        weight = self.weight.view(S, c_out, -1)
        if self.bias is None:
            y = torch.bmm(weight, patches)
        else:
            y = torch.baddbmm(self.bias.unsqueeze(2), weight, patches)
        return from_channel_major(y.view(S, c_out, Ho, Wo, B))

    def _per_seed(self, x: torch.Tensor) -> torch.Tensor:
        """One ``F.conv2d`` per seed, the outputs stored batch first, (B, S, C', H', W'),
        where each seed's images are the contiguous batch ``F.conv2d`` reads and writes."""
        biases = [None] * len(x) if self.bias is None else self.bias.unbind(0)
        out = [
            F.conv2d(xs, w, b, self.stride, self.padding)
            for xs, w, b in zip(x.unbind(0), self.weight.unbind(0), biases, strict=True)
        ]
        return torch.stack(out, 1).transpose(0, 1)


class BatchNorm2d(nn.Module):
    """BatchNorm over each seed's channels: x (S, B, C, H, W); statistics (S, C).

    The seeds' channels are the S * C channels of one ``F.batch_norm`` call, which
    normalises every channel on its own over the batch and positions, as
    ``nn.BatchNorm2d`` (momentum 0.1, eps 1e-5): feature maps stored channel-major (by
    :class:`Conv2d`'s im2col) as one (1, S * C, H * W * B) sample, others (stored batch
    first by its ``F.conv2d`` per seed) as (B, S * C, H, W).
    """

    def __init__(self, channels: int, gens: Generators):
        super().__init__()
        S = len(gens)
        self.weight = nn.Parameter(torch.ones(S, channels))
        self.bias = nn.Parameter(torch.zeros(S, channels))
        self.register_buffer("running_mean", torch.zeros(S, channels))
        self.register_buffer("running_var", torch.ones(S, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        S, B, C = x.shape[:3]
        if x.stride(1) < x.stride(2):  # the batch inside the channels: channel-major
            stored = channel_major(x)
            y = self._normalise(stored.view(1, S * C, -1))
            return from_channel_major(y.view(stored.shape))
        y = self._normalise(x.transpose(0, 1).reshape(B, S * C, *x.shape[3:]))
        return y.view(B, S, *x.shape[2:]).transpose(0, 1)

    def _normalise(self, x: torch.Tensor) -> torch.Tensor:
        """``F.batch_norm`` of x (N, S * C, ...) with the seeds' statistics and weights."""
        return F.batch_norm(
            x,
            self.running_mean.view(-1),
            self.running_var.view(-1),
            self.weight.view(-1),
            self.bias.view(-1),
            self.training,
            0.1,
            1e-5,
        )

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
