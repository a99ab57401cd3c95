"""DER: Dynamically Expandable Representation (Yan, Xie, He, CVPR 2021).

Not Dark Experience Replay (Buzzega et al., NeurIPS 2020), a replay method with the same
acronym.

Each task adds a whole new backbone, initialised from the previous one; the old backbones
are frozen (``requires_grad=False``) and kept in ``eval()`` mode in every epoch, so their
BatchNorm statistics never move. One linear classifier reads the concatenation of all
backbones' features (old rows carried over). From the second task on an auxiliary head on
the newest backbone sorts the new classes plus one "old" label::

    loss = CE(fc([f_1(x), ..., f_t(x)]), y) + CE(aux(f_t(x)), y_aux),
    y_aux = y - (first new class) + 1 for a new class, 0 for an old one.

After each incremental task the new classes' classifier rows are scaled by
gamma = mean ||w_old|| / mean ||w_new|| (weight aligning). Exemplars: herding on the
concatenated features, a total budget split evenly over the seen classes; each task
trains on its new data and the exemplars together. All of this as PyCIL's ``der.py``.

Deviations, named: no channel masks or pruning (in the paper, in neither public
implementation; "DER" in PyCIL means DER without pruning); the classifier is PyCIL's
(old rows kept, weight aligning), not the official code's (a new classifier each task,
retrained on a class-balanced subset); the auxiliary head is dropped after its task (PyCIL
replaces it with a fresh one at the next task, so training is the same, and the parameter
count then holds what prediction needs).
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import RunConfig
from ..data import ImageData, Task
from ..memory import ExemplarMemory
from ..similarity import block_similarity
from ..train import cross_entropy
from .base import Method
from .expandable import ExpandableNet, weight_align


def aux_targets(y: torch.Tensor, first_new: int) -> torch.Tensor:
    """Labels of the auxiliary head: 0 for every old class, 1..|new| for the new ones."""
    return (y - first_new + 1).clamp_min(0)


class DER(Method):
    """One backbone per task, old ones frozen; auxiliary loss; weight aligning; exemplars."""

    options = (
        "budget",
        "per_class",
        "selection",
        "memory_budget",
        "freeze_old",
        "aux_loss",
        "weight_align",
    )

    def __init__(self, cfg: RunConfig, stream, device: torch.device, seeds):
        super().__init__(cfg, stream, device, seeds)
        self.memory = ExemplarMemory(
            cfg.budget,
            per_class=cfg.per_class,
            selection=cfg.selection,
            image_bytes=stream.info.image_bytes,
            generators=self.random("memory"),
        )
        self.norms_before_align: list[list[list[float]]] = []  # per task, per seed
        self.gamma: list[list[float] | None] = []
        self.accuracy_before_align: list[list[list[float]] | None] = []  # per task, per seed
        self.trainable: list[int] = []
        self.block_similarity: list[list[dict[str, float]]] = []  # per task from the second

    # --- the network ----------------------------------------------------------------------
    @staticmethod
    def split_of(cfg: RunConfig) -> int | None:
        """How many leading backbone blocks all tasks share: none for DER."""
        return 0

    def build_model(self) -> nn.Module:
        return ExpandableNet(self.make_backbone(), self.split_of(self.cfg), self.cfg.aux_loss)

    def frozen(self) -> list[nn.Module]:
        """The modules kept fixed (no gradient, eval mode) in the current task: the old
        backbones, unless ``--no-freeze``."""
        return list(self.model.specialized_blocks[:-1]) if self.cfg.freeze_old else []

    # --- task-level hooks -------------------------------------------------------------------
    def before_task(self, task: Task) -> None:
        super().before_task(task)  # a new backbone, copied from the newest; a wider classifier
        self.model.requires_grad_(True)
        for module in self.frozen():
            module.requires_grad_(False)
        self.trainable.append(sum(p[0].numel() for p in self.model.parameters() if p.requires_grad))

    def train_data(self, task: Task) -> ImageData:
        if len(self.memory) == 0:
            return task.train
        return task.train.cat(self.memory.as_data(task.train))

    def train_mode(self) -> None:
        self.model.train()
        for module in self.frozen():
            module.eval()  # BatchNorm statistics of frozen blocks never move

    def loss(self, batch, out: dict) -> torch.Tensor:
        loss = cross_entropy(out["logits"], batch.y)
        if "aux_logits" in out:  # from the second task on, unless --no-aux
            loss = loss + cross_entropy(
                out["aux_logits"], aux_targets(batch.y, self.task.classes.start)
            )
        return loss

    def after_task(self, task: Task) -> None:
        fc = self.model.fc
        self.norms_before_align.append(fc.weight.detach().norm(dim=-1).tolist())
        aligned = task.index > 0 and self.cfg.weight_align
        self.accuracy_before_align.append(self.per_class_accuracy(task) if aligned else None)
        self.gamma.append(weight_align(fc, len(task.classes)) if aligned else None)
        self.model.auxiliary_head = None
        self.memory.update(task.train, task.classes, features=self.features)
        if task.index > 0:
            self.block_similarity.append(self.similarity_to_first(task))

    @torch.no_grad()
    def per_class_accuracy(self, task: Task) -> list[list[float]]:
        """Per seed, the test accuracy of each class seen so far, as the network is now (a
        measurement: the same network before and after weight aligning)."""
        test = self.stream.joint(task.index, "test")
        S, y = len(self.seeds), test.y[0]
        pred = torch.cat(
            [
                self.logits(test.to_float(test.x[:, k : k + 1024]).expand(S, -1, -1, -1, -1))
                for k in range(0, len(test), 1024)
            ],
            1,
        ).argmax(-1)
        seen = task.classes.stop
        return [
            [float((pred[s, y == c] == c).float().mean()) for c in range(seen)] for s in range(S)
        ]

    @torch.no_grad()
    def similarity_to_first(self, task: Task, probe: int = 500) -> list[dict[str, float]]:
        """Per seed, the linear CKA of each block's features in the first task's specialized
        block and in the newest one (which descends from it through every task since), on
        up to ``probe`` test images of the classes seen so far: how far each block's
        representation moved. A measurement only; nothing trains on these images."""
        self.model.eval()
        test = self.stream.joint(task.index, "test")
        x = test.to_float(test.x[:, :probe]).expand(len(self.seeds), -1, -1, -1, -1)
        blocks = self.model.specialized_blocks
        return block_similarity(blocks[0], blocks[-1], self.model.generalized_blocks(x))

    # --- exemplars and accounting --------------------------------------------------------
    def exemplar_bytes(self) -> int:
        return self.memory.nbytes

    def extras(self, s: int) -> dict:
        return {
            "classifier_norms_before_align": [norms[s] for norms in self.norms_before_align],
            "weight_align_gamma": [None if g is None else g[s] for g in self.gamma],
            "per_class_accuracy_before_align": [
                None if a is None else a[s] for a in self.accuracy_before_align
            ],
            "trainable_parameters_per_task": self.trainable,
            "block_similarity": [sim[s] for sim in self.block_similarity],
            "exemplars": len(self.memory),
            "split": self.model.split,
        }
