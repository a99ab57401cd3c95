"""The network of the plasticity experiments: a backbone of :mod:`cl_teach.models` and one
output layer over all classes, of which only the seen classes' logits are used (as in the
paper's class-incremental CIFAR-100)."""

from __future__ import annotations

from torch import nn

from ..data import dataset_info
from ..layers import Generators, Linear
from ..models import make_backbone
from .config import PlasticityConfig


class PlasticityNet(nn.Module):
    """``backbone`` -> ``head`` (a :class:`~cl_teach.layers.Linear` over all classes); the
    first ``classes`` logits are the output. Inputs and outputs carry the seed axis."""

    def __init__(self, backbone: nn.Module, num_classes: int, gens: Generators):
        super().__init__()
        self.backbone = backbone
        self.head = Linear(backbone.out_dim, num_classes, gens)
        self.classes = num_classes

    def forward(self, x):
        features = self.backbone(x)
        return {"features": features, "logits": self.head(features)[..., : self.classes]}


def build_net(cfg: PlasticityConfig, gens: Generators) -> PlasticityNet:
    """A fresh network for ``cfg``, one per generator (seed)."""
    info = dataset_info(cfg.dataset)
    kwargs = {
        "mlp": {"hidden": (cfg.width,) * cfg.depth},
        "cnn": {"width": cfg.width},
        "resnet18": {},
    }[cfg.backbone]
    backbone = make_backbone(cfg.backbone, info.shape, gens, **kwargs)
    return PlasticityNet(backbone, info.num_classes, gens)
