"""The class-incremental learner: the task-level hooks around the shared loop.

``cl_teach.experiment.run`` calls, for every task of the stream::

    before_task(task)          # grow the classifier (DER/MEMO: add a backbone)
    fit(train_data(task))      # the shared loop, with train_mode / inputs / loss / after_step
    after_task(task)           # update exemplars, Fisher, weight aligning ...

A method subclass overrides only the hooks its paper changes. Fine-tuning is this
class as it stands. One instance trains the networks of several seeds at once
(:mod:`cl_teach.layers`); ``self.random(purpose)`` gives each seed's generators.
"""

from __future__ import annotations

import torch

from ..config import RunConfig
from ..data import DatasetInfo, ImageData, Stream, Task
from ..models import IncrementalNet, make_backbone
from ..optim import SGD
from ..train import Learner, SeedRandom


class Method(Learner):
    """Plain fine-tuning: train on each new task's data, cross-entropy over all seen classes."""

    #: the method's own settings among RunConfig's fields (a run's cache key leaves out
    #: the other methods' settings, which it never reads)
    options: tuple[str, ...] = ()

    def __init__(self, cfg: RunConfig, stream: Stream, device: torch.device, seeds: list[int]):
        self.cfg, self.stream, self.device, self.seeds = cfg, stream, device, list(seeds)
        self.random = SeedRandom(self.seeds)
        self.backbone_name = cfg.backbone or stream.info.backbone
        self.model = self.build_model().to(device)
        self.task: Task | None = None

    def __getstate__(self) -> dict:
        """What a checkpoint keeps (:mod:`cl_teach.checkpoint`): everything but the data,
        which a resumed run loads again."""
        return {**self.__dict__, "stream": None, "task": None}

    # --- building -------------------------------------------------------------------
    def make_backbone(self):
        return make_backbone(self.backbone_name, self.stream.info.shape, self.random("init"))

    def build_model(self) -> torch.nn.Module:
        return IncrementalNet(self.make_backbone())

    # --- task-level hooks -------------------------------------------------------------
    def before_task(self, task: Task) -> None:
        self.task = task
        self.model.add_classes(len(task.classes), self.random("init"))
        self.model.to(self.device)

    def train_data(self, task: Task) -> ImageData:
        return task.train

    def make_optimizer(self, weight_decay: float) -> SGD:
        return SGD(self.model.parameters(), self.cfg.lr, self.cfg.momentum, weight_decay)

    def after_task(self, task: Task) -> None:
        pass

    # --- evaluation and accounting ------------------------------------------------------
    @torch.no_grad()
    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits over all seen classes for normalised inputs (S, B, ...), in eval mode."""
        self.model.eval()
        return self.model(x)["logits"]

    @torch.no_grad()
    def features(self, x: torch.Tensor, batch: int = 512) -> torch.Tensor:
        """Each seed's features of uint8 images (1 or S, n, ...), in eval mode:
        (S, n, d). Herding selects on them."""
        self.model.eval()
        S = len(self.seeds)
        normalise = self.stream.train.to_float
        return torch.cat(
            [
                self.model(normalise(x[:, k : k + batch]).expand(S, -1, -1, -1, -1))["features"]
                for k in range(0, x.shape[1], batch)
            ],
            1,
        )

    def classifier_weight(self) -> torch.Tensor:
        """The (S, classes, features) weight of the classifier, for weight-norm plots."""
        return self.model.fc.weight

    def exemplar_bytes(self) -> int:
        """Bytes of one seed's exemplar memory (images, and Dark ER's logits)."""
        return 0

    def stored_bytes(self) -> dict[str, int]:
        """Everything one seed keeps between tasks besides its model, in bytes, by kind:
        its exemplars, and what else the method needs for the next task (joint training's
        past data, EWC's Fisher and anchor). A run's ``memory_bytes`` is the model plus
        these, so every method's memory counts every byte it keeps."""
        return {"exemplars": self.exemplar_bytes()}

    @staticmethod
    def bytes_per_sample(info: DatasetInfo) -> int:
        """What one stored sample costs: its raw image."""
        return info.image_bytes

    def extras(self, s: int) -> dict:
        """Method-specific results of the seed at position ``s``, added to its JSON."""
        return {}
