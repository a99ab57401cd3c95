"""Experience replay: each current-task batch is joined by a batch drawn from a memory of
stored exemplars, and one forward pass and one cross-entropy take both (ER, Chaudhry et
al. 2019, "On Tiny Episodic Memories in Continual Learning"; as mammoth's ``er.py``, so
BatchNorm normalises old and new samples together).

How the memory is filled is ``--selection``:

- ``herding`` / ``random``: a class-balanced :class:`~cl_teach.memory.ExemplarMemory`,
  updated after each task (the budget split evenly over the seen classes, as iCaRL and
  PyCIL); herding picks the samples whose feature mean best matches the class mean.
- ``reservoir``: a stream-level :class:`~cl_teach.memory.ReservoirBuffer`, offered every
  training batch (``after_step``), as Dark Experience Replay fills its buffer. It stores
  the raw, un-augmented images; replayed samples are augmented afresh when drawn.
"""

from __future__ import annotations

import torch

from ..data import Task
from ..memory import ExemplarMemory, ReservoirBuffer
from ..train import Batch, pycil_augment
from .base import Method


class Replay(Method):
    options = ("budget", "per_class", "selection", "memory_budget")

    def __init__(self, cfg, stream, device, seeds):
        super().__init__(cfg, stream, device, seeds)
        self.selection = cfg.selection
        image_bytes, gens = stream.info.image_bytes, self.random("memory")
        if self.selection == "reservoir":
            if cfg.per_class:
                raise ValueError(
                    "reservoir sampling keeps one total budget over the stream; "
                    "--per-class needs --selection herding or random"
                )
            self.memory = ReservoirBuffer(cfg.budget, image_bytes=image_bytes, generators=gens)
        else:
            self.memory = ExemplarMemory(
                cfg.budget,
                per_class=cfg.per_class,
                selection=self.selection,
                image_bytes=image_bytes,
                generators=gens,
            )

    # --- the buffer ---------------------------------------------------------------------
    def buffer_batch(self):
        """Each seed's batch from its memory: (network inputs, labels, stored logits or
        None), or None while the memory is empty. Images are augmented as the stream's."""
        if len(self.memory) == 0:
            return None
        raw, y, *logits = self.memory.sample(self.cfg.batch_size, self.random("replay"))
        train = self.stream.train
        if self.stream.info.augment:
            x = train.normalise(pycil_augment(raw, self.random("augment replay")))
        else:
            x = train.to_float(raw)
        return x, y, (logits[0] if logits else None)

    # --- the hooks ----------------------------------------------------------------------
    def inputs(self, batch: Batch) -> Batch:
        replay = self.buffer_batch()
        if replay is None:
            return batch
        xb, yb, _ = replay
        return Batch(torch.cat([batch.x, xb], 1), torch.cat([batch.y, yb], 1), batch.raw)

    def after_step(self, batch: Batch, out: dict) -> None:
        if isinstance(self.memory, ReservoirBuffer):  # the stream's samples, as they arrived
            self.memory.add(batch.raw, batch.y[:, : batch.raw.shape[1]])

    def after_task(self, task: Task):
        if isinstance(self.memory, ExemplarMemory):
            self.memory.update(task.train, task.classes, self.features)

    def exemplar_bytes(self) -> int:
        return self.memory.nbytes

    def extras(self, s: int) -> dict:
        if len(self.memory) == 0:
            counts = [0] * self.stream.info.num_classes
        else:
            counts = torch.bincount(
                self.memory.y[s, : len(self.memory)].cpu(), minlength=self.stream.info.num_classes
            ).tolist()
        return {"exemplars": len(self.memory), "exemplars_per_class": counts}
