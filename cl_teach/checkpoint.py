"""Checkpoints at task boundaries: a run stopped part-way (Ctrl-C, Kernel > Interrupt, a
Slurm preemption or time limit) resumes from its last finished task, and ends with the
same numbers as a run never stopped (bit for bit on the CPU).

A checkpoint is the whole state the remaining tasks depend on, pickled with
``torch.save``: the learner (its networks, optimizer state, exemplar memory, EWC's Fisher
and anchor, Dark ER's stored logits, DER's backbones, continual backprop's utilities) with
its :class:`~cl_teach.train.SeedRandom`, so every random generator continues where it
stopped; the results measured so far; the number of tasks done. The dataset is not in it:
a resumed run loads it again from its config. A checkpoint is written atomically under
the cache (``<cache>/checkpoints``), keyed like the run's results with the seeds trained
together, and removed once those results are cached. Only runs that use the cache keep
checkpoints. The files are pickles: load only checkpoints your own runs wrote.
"""

from __future__ import annotations

from pathlib import Path

import torch

from . import cache


def path(kind: str, key: dict, seeds: list[int]) -> Path:
    """Where the checkpoint of ``seeds`` trained together in the run ``key`` lives."""
    return cache.cache_dir() / "checkpoints" / f"{cache.key(kind, {**key, 'seed': seeds})}.pt"


def save(where: Path | None, state: dict) -> None:
    """Write ``state`` to ``where`` atomically (nothing when ``where`` is None)."""
    if where is not None:
        cache.write_atomic(where, lambda f: torch.save(state, f))


def load(where: Path | None) -> dict | None:
    """The state saved at ``where``, or None when there is none."""
    if where is None or not where.exists():
        return None
    return torch.load(where, weights_only=False)


def remove(where: Path | None) -> None:
    if where is not None:
        where.unlink(missing_ok=True)
