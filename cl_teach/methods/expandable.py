"""The expandable network that DER and MEMO share.

A backbone is cut at ``split`` (a number of leading blocks, see ``cl_teach.models``):

- ``generalized_blocks``: the first ``split`` blocks, one copy shared by every task
  (MEMO; empty for DER, which shares nothing);
- ``specialized_blocks``: the rest of the backbone, one copy per task; the block of a
  new task starts as a copy of the newest one;
- ``fc``: one linear classifier over the concatenated features of all specialized blocks
  (old rows carried over when classes arrive; new rows initialised as PyCIL's SimpleLinear);
- ``auxiliary_head``: a linear head on the newest block's features with |new classes| + 1
  outputs (all old classes share one label), present from the second task on.

This is PyCIL's classifier handling (``DERNet.update_fc``). The official DER code instead
builds a new classifier every task and, after the task, retrains it on a class-balanced
subset of the data; weight aligning is PyCIL's cheaper substitute for that retraining.

``weight_align`` is the classifier correction DER and MEMO run after each incremental
task (as PyCIL).
"""

from __future__ import annotations

import copy
from collections import OrderedDict

import torch
from torch import nn

from ..layers import Generators, Linear
from ..models import Backbone, count_parameters, grow_linear


def default_split(backbone: Backbone) -> int:
    """Share everything before the last block that has parameters: ResNet-32 -> 3 (stem,
    stage 1, stage 2 shared; stage 3 + pooling specialised), ResNet-18 -> 4, cnn -> 2."""
    blocks = list(backbone.children())
    return max(i for i, block in enumerate(blocks) if count_parameters(block) > 0)


def split_backbone(backbone: Backbone, split: int | None) -> tuple[nn.Sequential, nn.Sequential]:
    """(generalized, specialized) blocks of ``backbone`` cut after ``split`` blocks
    (``None``: :func:`default_split`). A split that leaves nothing to specialise raises."""
    names, blocks = backbone.block_names, list(backbone.named_children())
    split = default_split(backbone) if split is None else split
    last = default_split(backbone)
    if not isinstance(split, int) or not 0 <= split <= last:
        raise ValueError(
            f"split={split!r}: the backbone's blocks are {', '.join(names)}; the split must be a "
            f"whole number from 0 (share nothing, as DER) to {last} (share all but "
            f"{', '.join(names[last:])}); a larger split leaves no parameters to specialise"
        )
    return nn.Sequential(OrderedDict(blocks[:split])), nn.Sequential(OrderedDict(blocks[split:]))


class ExpandableNet(nn.Module):
    """Shared generalized blocks, one specialized block per task, a classifier over all of
    them. ``forward`` returns ``{"features", "logits"}`` and ``"aux_logits"`` when the
    auxiliary head exists."""

    def __init__(self, backbone: Backbone, split: int | None = 0, auxiliary: bool = True):
        super().__init__()
        self.generalized_blocks, first = split_backbone(backbone, split)
        self.specialized_blocks = nn.ModuleList([first])
        self.out_dim = backbone.out_dim
        self.auxiliary = auxiliary
        self.fc: Linear | None = None
        self.auxiliary_head: Linear | None = None

    @property
    def split(self) -> int:
        return len(self.generalized_blocks)

    @property
    def feature_dim(self) -> int:
        return self.out_dim * len(self.specialized_blocks)

    @property
    def num_classes(self) -> int:
        return 0 if self.fc is None else self.fc.out_features

    def add_classes(self, n_new: int, gens: Generators) -> None:
        """A new task: from the second task on, a new specialized block copied from the
        newest one (weights and BatchNorm statistics), a wider classifier and a fresh
        auxiliary head."""
        if self.fc is not None:
            self.specialized_blocks.append(copy.deepcopy(self.specialized_blocks[-1]))
        self.fc = grow_linear(self.fc, self.feature_dim, self.num_classes + n_new, gens)
        self.auxiliary_head = None
        if self.auxiliary and len(self.specialized_blocks) > 1:
            head = Linear(self.out_dim, n_new + 1, gens, init="classifier")
            self.auxiliary_head = head.to(self.fc.weight.device)

    def forward(self, x):
        shared = self.generalized_blocks(x)
        per_block = [block(shared) for block in self.specialized_blocks]
        features = torch.cat(per_block, -1)
        out = {"features": features, "logits": self.fc(features)}
        if self.auxiliary_head is not None:
            out["aux_logits"] = self.auxiliary_head(per_block[-1])
        return out


@torch.no_grad()
def weight_align(fc: Linear, n_new: int) -> list[float]:
    """Scale the classifier rows of the ``n_new`` newest classes by
    gamma = mean ||w_old|| / mean ||w_new|| (rows over all features; biases untouched, as
    PyCIL's ``weight_align``), each seed by its own gamma. Returns the gammas."""
    if not 0 < n_new < fc.out_features:
        raise ValueError(
            f"weight aligning needs old and new classes; got {n_new} new of {fc.out_features}"
        )
    norms = fc.weight.norm(dim=-1)  # (S, classes)
    gamma = norms[:, :-n_new].mean(1) / norms[:, -n_new:].mean(1)
    fc.weight[:, -n_new:] *= gamma[:, None, None]
    return gamma.tolist()
