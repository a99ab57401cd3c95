"""Dark Experience Replay and DER++ (Buzzega et al., NeurIPS 2020).

Not the DER of notebook 03 (Dynamically Expandable Representation, Yan et al. 2021):
same acronym, different method. Here the buffer is filled by reservoir sampling and
stores, with each raw image, the logits the network gave its augmented view when it was
seen ("dark knowledge"). The loss on a batch (x, y) and buffer samples (x', y', z'),
(x'', y''):

    Dark ER: CE(f(x), y) + alpha * MSE(f(x'), z')
    DER++:   CE(f(x), y) + alpha * MSE(f(x'), z') + beta * CE(f(x''), y'')

with (x', z') and (x'', y'') two independent draws from the buffer, each forwarded on its
own (as mammoth's ``der.py`` and ``derpp.py``). MSE is the mean over the logits (and the
batch), as ``F.mse_loss`` in the reference code, so alpha is on that scale.

As in the reference code, the classifier has one output per class of the whole stream
from the start (the other methods here grow it task by task): the stored logits then
include the not-yet-seen classes, pushed down by the cross-entropy, and the MSE keeps them
down on old samples. Evaluation uses the logits of the seen classes only. A stored sample
costs its image plus 4 bytes per logit (``ReservoirBuffer.nbytes``).
"""

from __future__ import annotations

from ..memory import FLOAT_BYTES
from ..train import Batch, cross_entropy
from .replay import Replay


class DarkER(Replay):
    """Dark ER: match the stored logits of buffer samples (weight ``--alpha``)."""

    options = Replay.options + ("alpha",)

    def __init__(self, cfg, stream, device, seeds):
        super().__init__(cfg.replace(selection="reservoir"), stream, device, seeds)

    def before_task(self, task):
        self.task = task
        if self.model.num_classes == 0:  # one head over all classes, from the start
            self.model.add_classes(self.stream.info.num_classes, self.random("init"))
            self.model.to(self.device)

    def logits(self, x):
        return super().logits(x)[..., : self.task.classes.stop]

    def classifier_weight(self):
        return self.model.fc.weight[:, : self.task.classes.stop]

    @staticmethod
    def bytes_per_sample(info) -> int:
        """A raw image and its float32 logits over all classes."""
        return info.image_bytes + FLOAT_BYTES * info.num_classes

    def inputs(self, batch: Batch) -> Batch:  # the buffer is forwarded apart (loss)
        return batch

    def logit_matching(self):
        """alpha * MSE between today's logits and the stored ones on a buffer sample."""
        replay = self.buffer_batch()
        if replay is None:
            return 0.0
        xb, _, z = replay
        return self.cfg.alpha * (self.model(xb)["logits"] - z).pow(2).flatten(1).mean(1)

    def loss(self, batch, out):
        return cross_entropy(out["logits"], batch.y) + self.logit_matching()

    def after_step(self, batch: Batch, out: dict) -> None:
        self.memory.add(batch.raw, batch.y, out["logits"])

    def divergence_hint(self) -> str:
        return "lower --alpha or the learning rate (--lr)"


class DarkERpp(DarkER):
    """DER++: Dark ER plus ``--beta`` times the CE on a second, independent buffer sample."""

    options = DarkER.options + ("beta",)

    def loss(self, batch, out):
        loss = super().loss(batch, out)
        replay = self.buffer_batch()
        if replay is not None:
            xb, yb, _ = replay
            loss = loss + self.cfg.beta * cross_entropy(self.model(xb)["logits"], yb)
        return loss
