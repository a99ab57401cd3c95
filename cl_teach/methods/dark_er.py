"""Dark Experience Replay and DER++ (Buzzega et al., NeurIPS 2020).

Not the DER of notebook 03 (Dynamically Expandable Representation, Yan et al. 2021):
same acronym, different method. Here the buffer is filled by reservoir sampling and
stores, with each image, the logits the network gave it when it was seen ("dark
knowledge"). The loss on a batch (x, y) and buffer samples (x', y', z'), (x'', y''):

    Dark ER: CE(f(x), y) + alpha * MSE(f(x'), z')
    DER++:   CE(f(x), y) + alpha * MSE(f(x'), z') + beta * CE(f(x''), y'')

with (x', z') and (x'', y'') two independent draws from the buffer.

As in the reference code, the classifier has one output per class of the whole stream
from the start (the other methods here grow it task by task): the stored logits then
include the not-yet-seen classes, pushed down by the cross-entropy, and the MSE keeps them
down on old samples. With a growing head nothing would stop the new classes' logits from
rising on old samples. Evaluation uses the logits of the seen classes only.
"""

from __future__ import annotations

import torch.nn.functional as F

from .replay import Replay


class DarkER(Replay):
    """Dark ER: match the stored logits of buffer samples (weight ``--alpha``)."""

    def __init__(self, cfg, stream, device):
        super().__init__(cfg.replace(selection="reservoir"), stream, device)

    def before_task(self, task):
        self.task = task
        if self.model.num_classes == 0:  # one head over all classes, from the start
            self.model.add_classes(self.stream.info.num_classes)
            self.model.to(self.device)

    def logits(self, x):
        return super().logits(x)[:, : self.task.classes.stop]

    def classifier_weight(self):
        return self.model.fc.weight[: self.task.classes.stop]

    def logit_matching(self):
        """alpha * MSE between today's logits and the stored ones on a buffer sample."""
        replay = self.buffer_batch()
        if replay is None:
            return 0.0
        xb, _, z = replay
        return self.cfg.alpha * F.mse_loss(self.model(xb)["logits"], z)

    def loss(self, x, y, out):
        self.batch = (x, y, out["logits"])
        return F.cross_entropy(out["logits"], y) + self.logit_matching()


class DarkERpp(DarkER):
    """DER++: Dark ER plus ``--beta`` times the CE on a second, independent buffer sample."""

    def loss(self, x, y, out):
        loss = super().loss(x, y, out)
        replay = self.buffer_batch()
        if replay is not None:
            xb, yb, _ = replay
            loss = loss + self.cfg.beta * F.cross_entropy(self.model(xb)["logits"], yb)
        return loss
