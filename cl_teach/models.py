"""Backbones and the growing classifier, built from the seed-axis layers of
:mod:`cl_teach.layers` (inputs (S, B, C, H, W), one network per seed).

Every backbone is an ``nn.Sequential`` of named *blocks*, from the input to a feature
vector of size ``out_dim``. Naming the blocks lets MEMO split a backbone into shared
shallow blocks and per-task deep blocks (``split`` = how many leading blocks are shared).

- ``mlp``: ReLU multi-layer perceptron.
- ``cnn``: a small conv net (3 conv + BatchNorm + ReLU blocks, average pooling);
  ``cnn_narrow``: the same at half the width (1,532 parameters instead of 5,944), so that
  on 8x8 digits a model costs fewer stored images (about 96 instead of 371).
- ``resnet32``: the CIFAR ResNet-32 of PyCIL/MEMO (option-A shortcuts, no classifier):
  463,504 parameters; stem + stage 1 + stage 2 = 112,016; stage 3 = 351,488.
- ``resnet18``: torchvision's ResNet-18 without its classifier (``stem="cifar"``: a 3x3
  stride-1 stem conv and no max pool, as Dohare et al. adapt it to 32x32 images;
  ``stem="imagenet"``: 7x7 conv + max pool, 11,176,512 parameters). As in torchvision,
  each residual block calls one ``nn.ReLU`` module twice.

``gens`` holds one random generator per seed; without it a network of one seed (seed 0)
is built, enough for counting parameters.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from .layers import (
    BatchNorm2d,
    Conv2d,
    Flatten,
    Generators,
    GlobalAvgPool,
    Linear,
    count_parameters,
)

__all__ = ["Backbone", "IncrementalNet", "count_parameters", "grow_linear", "make_backbone"]


def one_seed() -> Generators:
    return [torch.Generator().manual_seed(0)]


class Backbone(nn.Sequential):
    """Named blocks in order; ``out_dim`` is the size of the feature vector."""

    def __init__(self, blocks: OrderedDict, out_dim: int):
        super().__init__(blocks)
        self.out_dim = out_dim

    @property
    def block_names(self) -> list[str]:
        return [name for name, _ in self.named_children()]


# --- MLP and small CNN ------------------------------------------------------------------


def mlp(in_shape, gens: Generators | None = None, hidden: tuple[int, ...] = (64, 64)) -> Backbone:
    """Flatten, then Linear + ReLU per hidden layer (blocks ``fc1``, ``fc2``, ...)."""
    gens = gens or one_seed()
    blocks = OrderedDict(flatten=Flatten())
    width = math.prod(in_shape)
    for i, h in enumerate(hidden, 1):
        blocks[f"fc{i}"] = nn.Sequential(Linear(width, h, gens), nn.ReLU())
        width = h
    return Backbone(blocks, width)


def _conv_bn_relu(c_in: int, c_out: int, stride: int, gens: Generators, init="default"):
    return nn.Sequential(
        Conv2d(c_in, c_out, 3, gens, stride, 1, init=init), BatchNorm2d(c_out, gens), nn.ReLU()
    )


def cnn(in_shape, gens: Generators | None = None, width: int = 8) -> Backbone:
    """Three conv blocks of width w, 2w, 4w (the last two stride 2), then average pooling.
    With w=8 on 1-channel images: 5,944 parameters, 32 features."""
    gens, c = gens or one_seed(), in_shape[0]
    blocks = OrderedDict(
        stem=_conv_bn_relu(c, width, 1, gens),
        stage1=_conv_bn_relu(width, 2 * width, 2, gens),
        stage2=_conv_bn_relu(2 * width, 4 * width, 2, gens),
        pool=nn.Sequential(GlobalAvgPool()),
    )
    return Backbone(blocks, 4 * width)


# --- ResNet-32 for CIFAR (as in PyCIL's convs/cifar_resnet.py) ----------------------------


class _DownsampleA(nn.Module):
    """Option-A shortcut: subsample and pad channels with zeros (no parameters)."""

    def __init__(self, stride: int):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        x = x[..., :: self.stride, :: self.stride]
        return torch.cat((x, torch.zeros_like(x)), 2)


class _CifarBasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, gens: Generators):
        super().__init__()
        self.conv_a = Conv2d(c_in, c_out, 3, gens, stride, 1, init="kaiming")
        self.bn_a = BatchNorm2d(c_out, gens)
        self.conv_b = Conv2d(c_out, c_out, 3, gens, 1, 1, init="kaiming")
        self.bn_b = BatchNorm2d(c_out, gens)
        self.relu = nn.ReLU()
        self.downsample = _DownsampleA(stride) if stride != 1 or c_in != c_out else None

    def forward(self, x):
        out = self.relu(self.bn_a(self.conv_a(x)))
        out = self.bn_b(self.conv_b(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


def resnet32(in_shape=(3, 32, 32), gens: Generators | None = None) -> Backbone:
    gens = gens or one_seed()

    def stage(c_in, c_out, stride, n=5):
        return nn.Sequential(
            *[
                _CifarBasicBlock(c_in if i == 0 else c_out, c_out, stride if i == 0 else 1, gens)
                for i in range(n)
            ]
        )

    blocks = OrderedDict(
        stem=_conv_bn_relu(in_shape[0], 16, 1, gens, init="kaiming"),
        stage1=stage(16, 16, 1),
        stage2=stage(16, 32, 2),
        stage3=stage(32, 64, 2),
        pool=nn.Sequential(GlobalAvgPool()),
    )
    return Backbone(blocks, 64)


# --- ResNet-18 (torchvision's layout) -----------------------------------------------------


class _BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, gens: Generators):
        super().__init__()
        self.conv1 = Conv2d(c_in, c_out, 3, gens, stride, 1, init="kaiming")
        self.bn1 = BatchNorm2d(c_out, gens)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = Conv2d(c_out, c_out, 3, gens, 1, 1, init="kaiming")
        self.bn2 = BatchNorm2d(c_out, gens)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                Conv2d(c_in, c_out, 1, gens, stride, init="kaiming"), BatchNorm2d(c_out, gens)
            )

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class _MaxPool(nn.Module):
    """3x3 max pool, stride 2, padding 1, per seed."""

    def forward(self, x):
        y = F.max_pool2d(x.flatten(0, 1), 3, 2, 1)
        return y.view(*x.shape[:2], *y.shape[1:])


def resnet18(in_shape=(3, 32, 32), gens: Generators | None = None, stem: str = "cifar"):
    gens = gens or one_seed()
    if stem == "imagenet":
        first = nn.Sequential(
            Conv2d(in_shape[0], 64, 7, gens, 2, 3, init="kaiming"),
            BatchNorm2d(64, gens),
            nn.ReLU(inplace=True),
            _MaxPool(),
        )
    elif stem == "cifar":
        first = _conv_bn_relu(in_shape[0], 64, 1, gens, init="kaiming")
    else:
        raise ValueError(f"unknown ResNet-18 stem {stem!r}; choose cifar or imagenet")
    blocks = OrderedDict(stem=first)
    c_in = 64
    for i, (c_out, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)], 1):
        blocks[f"layer{i}"] = nn.Sequential(
            _BasicBlock(c_in, c_out, stride, gens), _BasicBlock(c_out, c_out, 1, gens)
        )
        c_in = c_out
    blocks["pool"] = nn.Sequential(GlobalAvgPool())
    return Backbone(blocks, 512)


BACKBONES = {
    "mlp": mlp,
    "cnn": cnn,
    "cnn_narrow": functools.partial(cnn, width=4),
    "resnet32": resnet32,
    "resnet18": resnet18,
}


def make_backbone(name: str, in_shape, gens: Generators | None = None, **kwargs) -> Backbone:
    """Backbone ``name`` for images of ``in_shape`` (C, H, W), one network per generator."""
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    return BACKBONES[name](in_shape, gens, **kwargs)


# --- the classifier that grows with the classes ------------------------------------------


class IncrementalNet(nn.Module):
    """A backbone and a linear classifier ``fc`` over its features that gains rows as new
    classes arrive (old rows are kept). ``forward`` returns ``{"features", "logits"}``."""

    def __init__(self, backbone: nn.Module, feature_dim: int | None = None):
        super().__init__()
        self.backbone = backbone
        self.feature_dim = feature_dim or backbone.out_dim
        self.fc: Linear | None = None

    @property
    def num_classes(self) -> int:
        return 0 if self.fc is None else self.fc.out_features

    def add_classes(self, n_new: int, gens: Generators) -> None:
        self.fc = grow_linear(self.fc, self.feature_dim, self.num_classes + n_new, gens)

    def forward(self, x):
        features = self.backbone(x)
        return {"features": features, "logits": self.fc(features)}


def grow_linear(old: Linear | None, in_features: int, out_features: int, gens: Generators):
    """A fresh classifier ``Linear(in_features, out_features)`` (PyCIL's SimpleLinear
    initialisation: kaiming-uniform weights, zero bias) holding ``old``'s weights in its
    top-left corner."""
    new = Linear(in_features, out_features, gens, init="classifier")
    if old is not None:
        new = new.to(old.weight.device)
        with torch.no_grad():
            new.weight[:, : old.out_features, : old.in_features] = old.weight
            new.bias[:, : old.out_features] = old.bias
    return new
