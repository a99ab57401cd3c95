"""Backbones and the growing classifier.

Every backbone is an ``nn.Sequential`` of named *blocks*, from the input to a flat
feature vector of size ``out_dim``. Naming the blocks lets MEMO split a backbone into
shared shallow blocks and per-task deep blocks (``split`` = how many leading blocks
are shared).

- ``mlp``: ReLU multi-layer perceptron.
- ``cnn``: a small conv net (3 conv + BatchNorm + ReLU blocks, average pooling).
- ``resnet32``: the CIFAR ResNet-32 of PyCIL/MEMO (option-A shortcuts, no classifier):
  463,504 parameters; stem + stage 1 + stage 2 = 112,016; stage 3 = 351,488.
- ``resnet18``: ResNet-18 (``stem="cifar"``: 3x3 stem conv, no max pool, for 32x32
  images; ``stem="imagenet"``: 7x7 conv + max pool, 11,176,512 parameters).
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn


class Backbone(nn.Sequential):
    """Named blocks in order; ``out_dim`` is the size of the feature vector."""

    def __init__(self, blocks: OrderedDict, out_dim: int):
        super().__init__(blocks)
        self.out_dim = out_dim

    @property
    def block_names(self) -> list[str]:
        return [name for name, _ in self.named_children()]


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --- MLP and small CNN ------------------------------------------------------------------


def mlp(in_shape: tuple[int, int, int], hidden: tuple[int, ...] = (64, 64)) -> Backbone:
    """Flatten, then Linear + ReLU per hidden layer (blocks ``fc1``, ``fc2``, ...)."""
    blocks = OrderedDict(flatten=nn.Flatten())
    width = math.prod(in_shape)
    for i, h in enumerate(hidden, 1):
        blocks[f"fc{i}"] = nn.Sequential(nn.Linear(width, h), nn.ReLU())
        width = h
    return Backbone(blocks, width)


def _conv_bn_relu(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()
    )


def cnn(in_shape: tuple[int, int, int], width: int = 8) -> Backbone:
    """Three conv blocks of width w, 2w, 4w (the last two stride 2), then average pooling.
    With w=8 on 1-channel images: 5,944 parameters, 32 features."""
    c = in_shape[0]
    blocks = OrderedDict(
        stem=_conv_bn_relu(c, width, 1),
        stage1=_conv_bn_relu(width, 2 * width, 2),
        stage2=_conv_bn_relu(2 * width, 4 * width, 2),
        pool=nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()),
    )
    return Backbone(blocks, 4 * width)


# --- ResNet-32 for CIFAR (as in PyCIL's convs/cifar_resnet.py) ----------------------------


class _DownsampleA(nn.Module):
    """Option-A shortcut: subsample and pad channels with zeros (no parameters)."""

    def __init__(self, stride: int):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        x = x[:, :, :: self.stride, :: self.stride]
        return torch.cat((x, torch.zeros_like(x)), 1)


class _CifarBasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv_a = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn_a = nn.BatchNorm2d(c_out)
        self.conv_b = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn_b = nn.BatchNorm2d(c_out)
        self.downsample = _DownsampleA(stride) if stride != 1 or c_in != c_out else None

    def forward(self, x):
        out = F.relu(self.bn_a(self.conv_a(x)))
        out = self.bn_b(self.conv_b(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


def resnet32(in_shape: tuple[int, int, int] = (3, 32, 32)) -> Backbone:
    def stage(c_in, c_out, stride, n=5):
        return nn.Sequential(
            *[
                _CifarBasicBlock(c_in if i == 0 else c_out, c_out, stride if i == 0 else 1)
                for i in range(n)
            ]
        )

    blocks = OrderedDict(
        stem=_conv_bn_relu(in_shape[0], 16, 1),
        stage1=stage(16, 16, 1),
        stage2=stage(16, 32, 2),
        stage3=stage(32, 64, 2),
        pool=nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()),
    )
    net = Backbone(blocks, 64)
    _kaiming_init(net)
    return net


# --- ResNet-18 -------------------------------------------------------------------------


class _BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


def resnet18(in_shape: tuple[int, int, int] = (3, 32, 32), stem: str = "cifar") -> Backbone:
    if stem == "imagenet":
        first = nn.Sequential(
            nn.Conv2d(in_shape[0], 64, 7, 2, 3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, 1),
        )
    elif stem == "cifar":
        first = _conv_bn_relu(in_shape[0], 64, 1)
    else:
        raise ValueError(f"unknown ResNet-18 stem {stem!r}; choose cifar or imagenet")
    blocks = OrderedDict(stem=first)
    c_in = 64
    for i, (c_out, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)], 1):
        blocks[f"layer{i}"] = nn.Sequential(
            _BasicBlock(c_in, c_out, stride), _BasicBlock(c_out, c_out, 1)
        )
        c_in = c_out
    blocks["pool"] = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
    net = Backbone(blocks, 512)
    _kaiming_init(net)
    return net


def _kaiming_init(net: nn.Module) -> None:
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


BACKBONES = {"mlp": mlp, "cnn": cnn, "resnet32": resnet32, "resnet18": resnet18}


def make_backbone(name: str, in_shape: tuple[int, int, int], **kwargs) -> Backbone:
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    return BACKBONES[name](in_shape, **kwargs)


# --- the classifier that grows with the classes ------------------------------------------


class IncrementalNet(nn.Module):
    """A backbone and a linear classifier ``fc`` over its features that gains rows as new
    classes arrive (old rows are kept). ``forward`` returns ``{"features", "logits"}``."""

    def __init__(self, backbone: nn.Module, feature_dim: int | None = None):
        super().__init__()
        self.backbone = backbone
        self.feature_dim = feature_dim or backbone.out_dim
        self.fc: nn.Linear | None = None

    @property
    def num_classes(self) -> int:
        return 0 if self.fc is None else self.fc.out_features

    def add_classes(self, n_new: int) -> None:
        self.fc = grow_linear(self.fc, self.feature_dim, self.num_classes + n_new)

    def forward(self, x):
        features = self.backbone(x)
        return {"features": features, "logits": self.fc(features)}


def grow_linear(old: nn.Linear | None, in_features: int, out_features: int) -> nn.Linear:
    """A fresh ``Linear(in_features, out_features)`` holding ``old``'s weights in its
    top-left corner (new rows and columns keep PyTorch's default initialisation)."""
    device = None if old is None else old.weight.device
    new = nn.Linear(in_features, out_features, device=device)
    if old is not None:
        with torch.no_grad():
            new.weight[: old.out_features, : old.in_features] = old.weight
            new.bias[: old.out_features] = old.bias
    return new
