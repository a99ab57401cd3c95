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

Per task MEMO adds ``specialized`` parameters where DER adds a whole backbone; at equal
total memory the saving buys exemplars (``python -m cl_teach memory``).
``--split 0`` shares nothing, which is DER.
"""

from __future__ import annotations

from torch import nn

from ..config import RunConfig
from .der import DER


class MEMO(DER):
    """DER whose first ``split`` backbone blocks are shared by all tasks."""

    options = DER.options + ("train_base", "split")

    @staticmethod
    def split_of(cfg: RunConfig) -> int | None:
        return cfg.split  # None: the default split of the backbone

    def frozen(self) -> list[nn.Module]:
        frozen = super().frozen()  # the old specialized blocks
        if not self.cfg.train_base and self.task.index > 0:
            frozen.append(self.model.generalized_blocks)
        return frozen
