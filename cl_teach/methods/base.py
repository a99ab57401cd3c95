"""The class-incremental learner: the task-level hooks around the shared loop.

``cl_teach.experiment.run`` calls, for every task of the stream::

    before_task(task)          # grow the classifier (DER/MEMO: add a backbone)
    fit(train_data(task))      # the shared loop, with train_mode / loss / after_step
    after_task(task)           # update exemplars, Fisher, weight aligning ...

A method subclass overrides only the hooks its paper changes. Fine-tuning is this
class as it stands.
"""

from __future__ import annotations

import torch

from ..config import RunConfig
from ..data import ImageData, Stream, Task
from ..models import IncrementalNet, make_backbone
from ..train import Learner, sgd


class Method(Learner):
    """Plain fine-tuning: train on each new task's data, cross-entropy over all seen classes."""

    def __init__(self, cfg: RunConfig, stream: Stream, device: torch.device):
        self.cfg, self.stream, self.device = cfg, stream, device
        self.backbone_name = cfg.backbone or stream.info.backbone
        self.model = self.build_model().to(device)
        self.task: Task | None = None

    # --- building -------------------------------------------------------------------
    def make_backbone(self):
        return make_backbone(self.backbone_name, self.stream.info.shape)

    def build_model(self) -> torch.nn.Module:
        return IncrementalNet(self.make_backbone())

    # --- task-level hooks -------------------------------------------------------------
    def before_task(self, task: Task) -> None:
        self.task = task
        self.model.add_classes(len(task.classes))
        self.model.to(self.device)

    def train_data(self, task: Task) -> ImageData:
        return task.train

    def make_optimizer(self) -> torch.optim.Optimizer:
        params = [p for p in self.model.parameters() if p.requires_grad]
        return sgd(params, self.cfg.lr, self.cfg.momentum, self.cfg.weight_decay)

    def after_task(self, task: Task) -> None:
        pass

    # --- evaluation and accounting ------------------------------------------------------
    @torch.no_grad()
    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits over all seen classes for normalised inputs, in eval mode."""
        self.model.eval()
        return self.model(x)["logits"]

    @torch.no_grad()
    def features(self, x: torch.Tensor, batch: int = 512) -> torch.Tensor:
        """The model's features of uint8 images, in eval mode (herding selects on them)."""
        self.model.eval()
        to_float = self.stream.train.to_float
        return torch.cat(
            [
                self.model(to_float(x[k : k + batch].to(self.device)))["features"]
                for k in range(0, len(x), batch)
            ]
        )

    def classifier_weight(self) -> torch.Tensor:
        """The (classes x features) weight of the classifier, for weight-norm plots."""
        return self.model.fc.weight

    def exemplar_bytes(self) -> int:
        return 0

    def extras(self) -> dict:
        """Method-specific results added to the run's JSON."""
        return {}
