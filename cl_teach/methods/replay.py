"""Experience replay: each current-task batch is mixed with a batch drawn from a memory
of stored exemplars, and one cross-entropy is taken over both (ER, Chaudhry et al. 2019,
"On Tiny Episodic Memories in Continual Learning").

How the memory is filled is ``--selection``:

- ``herding`` / ``random``: a class-balanced :class:`~cl_teach.memory.ExemplarMemory`,
  updated after each task (the budget split evenly over the seen classes, as iCaRL and
  PyCIL); herding picks the samples whose feature mean best matches the class mean.
- ``reservoir``: a stream-level :class:`~cl_teach.memory.ReservoirBuffer`, offered every
  training batch (``after_step``), as Dark Experience Replay fills its buffer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..data import Task
from ..memory import ExemplarMemory, ReservoirBuffer
from ..train import random_crop_flip
from .base import Method


class Replay(Method):
    def __init__(self, cfg, stream, device):
        super().__init__(cfg, stream, device)
        self.selection = cfg.selection
        self.draws = torch.Generator().manual_seed(cfg.seed + 1)  # buffer samples
        image_bytes = stream.info.image_bytes
        if self.selection == "reservoir":
            if cfg.per_class:
                raise ValueError(
                    "reservoir sampling keeps one total budget over the stream; "
                    "--per-class needs --selection herding or random"
                )
            self.memory = ReservoirBuffer(
                cfg.budget,
                image_bytes=image_bytes,
                generator=torch.Generator().manual_seed(cfg.seed + 2),
            )
        else:
            self.memory = ExemplarMemory(
                cfg.budget,
                per_class=cfg.per_class,
                selection=self.selection,
                image_bytes=image_bytes,
                generator=torch.Generator().manual_seed(cfg.seed + 2),
            )
        self.batch = None  # the last (x, y, logits or None), offered to a reservoir after the step

    # --- the buffer ---------------------------------------------------------------------
    def buffer_batch(self):
        """A batch from the memory: (normalised images, labels, stored logits or None),
        or None while the memory is empty."""
        if len(self.memory) == 0:
            return None
        x, y, *logits = self.memory.sample(self.cfg.batch_size, self.draws)
        x = self.stream.train.to_float(x)
        if self.stream.info.augment:
            x = random_crop_flip(x, self.draws)
        return x, y, (logits[0] if logits else None)

    # --- the hooks ----------------------------------------------------------------------
    def loss(self, x, y, out):
        self.batch = (x, y, None)
        replay = self.buffer_batch()
        if replay is None:
            return F.cross_entropy(out["logits"], y)
        xb, yb, _ = replay
        logits = torch.cat([out["logits"], self.model(xb)["logits"]])
        return F.cross_entropy(logits, torch.cat([y, yb]))

    def after_step(self):
        if isinstance(self.memory, ReservoirBuffer):
            x, y, logits = self.batch
            self.memory.add(self.stream.train.to_uint8(x), y, logits)

    def after_task(self, task: Task):
        if isinstance(self.memory, ExemplarMemory):
            self.memory.update(task.train, task.classes, self.features)

    def exemplar_bytes(self) -> int:
        return self.memory.nbytes

    def extras(self) -> dict:
        labels = self.memory.y[: len(self.memory)].cpu()
        counts = torch.bincount(labels, minlength=self.stream.info.num_classes)
        return {"exemplars": len(self.memory), "exemplars_per_class": counts.tolist()}
