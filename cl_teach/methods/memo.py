"""MEMO: "A Model or 603 Exemplars: Towards Memory-Efficient Class-Incremental Learning"
(Zhou, Wang, Ye, Zhan, ICLR 2023).

MEMO is DER (:mod:`cl_teach.methods.der`) with a shared shallow trunk. The backbone is cut
after ``split`` blocks (``--split``; default: all but the last stage, e.g. after stage 2 of
the CIFAR ResNet-32):

- the ``generalized_blocks`` (shallow layers, which learn general features) exist once
  and are shared by every task;
- each task adds a ``specialized_block`` (the deep layers, which specialise to classes),
  copied from the previous one; old specialized blocks are frozen and in eval mode;
- the classifier reads the concatenated specialized features; DER's auxiliary head and
  weight aligning are kept; exemplars as in DER.

The generalized blocks follow ``train_base``: trained in every task (``--train-base``,
the default, as the reference config ``train_base: true``) or frozen, with their BatchNorm
statistics, after the first task (``--freeze-base``, as ``train_base: false``). With the
default, the frozen old specialized blocks read features from shared blocks that keep
changing, so an old task's features still drift: frozen blocks alone do not make them
fixed, as they are in DER.

Each run measures that drift (``extras["first_task_drift"]``): after every task, how far the
first task's features (its specialized block on the shared blocks) moved since the first
task, on its test images. Frozen generalized blocks keep it at exactly 0.

Per task MEMO adds ``specialized`` parameters where DER adds a whole backbone; at equal
total memory the saving buys exemplars (``python -m cl_teach memory``).
``--split 0`` shares nothing, which is DER.
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import RunConfig
from ..data import Task
from .der import DER


class MEMO(DER):
    """DER whose first ``split`` backbone blocks are shared by all tasks."""

    options = DER.options + ("train_base", "split")

    @staticmethod
    def split_of(cfg: RunConfig) -> int | None:
        return cfg.split  # None: the default split of the backbone

    def __init__(self, cfg, stream, device, seeds):
        super().__init__(cfg, stream, device, seeds)
        self.first_features: torch.Tensor | None = None  # (S, n, d) after the first task
        self.drift: list[list[float]] = []  # per task, per seed

    def frozen(self) -> list[nn.Module]:
        frozen = super().frozen()  # the old specialized blocks
        if not self.cfg.train_base and self.task.index > 0:
            frozen.append(self.model.generalized_blocks)
        return frozen

    def after_task(self, task: Task) -> None:
        super().after_task(task)
        self.drift.append(self.first_task_drift())

    @torch.no_grad()
    def first_task_drift(self, probe: int = 500) -> list[float]:
        """Per seed, ||f - f_1|| / ||f_1|| for the first task's features f (its specialized
        block on the generalized blocks) on up to ``probe`` of its test images, f_1 as they
        were after the first task. A measurement only."""
        self.model.eval()
        test = self.stream.tasks[0].test
        x = test.to_float(test.x[:, :probe]).expand(len(self.seeds), -1, -1, -1, -1)
        f = self.model.specialized_blocks[0](self.model.generalized_blocks(x)).flatten(1)
        if self.first_features is None:
            self.first_features = f
        ref = self.first_features
        return ((f - ref).norm(dim=1) / ref.norm(dim=1)).tolist()

    def extras(self, s: int) -> dict:
        return {**super().extras(s), "first_task_drift": [d[s] for d in self.drift]}
