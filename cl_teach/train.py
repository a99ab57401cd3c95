"""The one training loop every method shares, and the hooks it calls.

A method is a :class:`Learner` that overrides only what its paper changes:

=======================  =====================================================
``train_mode()``         put the network in train mode for an epoch (DER keeps
                         old backbones in eval mode here)
``inputs(batch)``        what the network sees at a step (replay appends memory
                         samples to the batch, so one forward pass sees both)
``loss(batch, out)``     each seed's training loss (EWC and Dark ER add terms
                         here; DER adds its auxiliary loss)
``after_step(batch,      after each optimizer step (continual backprop, Shrink &
out)``                   Perturb, reservoir sampling)
=======================  =====================================================

All tensors carry the seed axis first (:mod:`cl_teach.layers`): a step trains S seeds'
networks, each on its own mini-batch, and ``loss`` returns one loss per seed. Randomness
(batch order, augmentation, memory draws) comes from one generator per seed and purpose
(:class:`SeedRandom`), so a seed's numbers do not depend on the seeds beside it.

Task-level hooks (``before_task``, ``train_data``, ``after_task``) live on
:class:`cl_teach.methods.base.Method`, the class-incremental learner.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .data import ImageData
from .optim import Optimizer, lr_at


class SeedRandom:
    """One random generator per seed and purpose (``"init"``, ``"batches"``, ...).

    Each purpose is its own stream, so drawing more for one (say, a bigger memory)
    changes nothing in another (the batch order); ``rng("batches")`` returns the same
    generators, which continue where they stopped."""

    def __init__(self, seeds: Sequence[int]):
        self.seeds = list(seeds)
        self._streams: dict[str, list[torch.Generator]] = {}

    def __call__(self, purpose: str) -> list[torch.Generator]:
        if purpose not in self._streams:
            self._streams[purpose] = [
                torch.Generator().manual_seed(_mix(seed, purpose)) for seed in self.seeds
            ]
        return self._streams[purpose]


def _mix(seed: int, purpose: str) -> int:
    digest = hashlib.blake2b(f"{purpose}/{seed}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


@dataclass
class Batch:
    """One step's data, per seed: ``x`` the network's input (normalised, augmented)
    (S, B, C, H, W), ``y`` labels (S, B), ``raw`` the un-augmented uint8 images as
    stored in a memory (only the stream's samples, not replayed ones)."""

    x: torch.Tensor
    y: torch.Tensor
    raw: torch.Tensor


class DivergedError(ValueError):
    """Training produced a non-finite loss."""


class Learner:
    """A network, its optimizer and the per-batch hooks of its method."""

    model: nn.Module
    optimizer: Optimizer

    def train_mode(self) -> None:
        self.model.train()

    def inputs(self, batch: Batch) -> Batch:
        return batch

    def loss(self, batch: Batch, out: dict) -> torch.Tensor:
        return cross_entropy(out["logits"], batch.y)

    def after_step(self, batch: Batch, out: dict) -> None:
        pass

    def divergence_hint(self) -> str:
        """What to lower when training diverges."""
        return "lower the learning rate (--lr)"


def cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Each seed's mean cross-entropy over its batch: logits (S, B, K), y (S, B) -> (S,).
    The loop sums the seeds' losses: they share no parameter, so each seed's network
    gets exactly the gradient of its own loss."""
    return F.cross_entropy(logits.transpose(1, 2), y, reduction="none").mean(1)


def fit(
    learner: Learner,
    data: ImageData,
    rng: SeedRandom,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    milestones=(),
    lr_decay: float = 0.1,
    augment: bool = False,
    amp: bool = False,
    progress=None,
    where: str = "",
) -> None:
    """Train ``learner.model`` on ``data`` (uint8 images, on the model's device) for
    ``epochs`` epochs of shuffled mini-batches, each seed in its own order. ``amp``: the
    forward pass and the loss in bfloat16 (autocast), for long runs on a GPU. A non-finite
    loss stops training with a :class:`DivergedError` naming the seed and the epoch."""
    n, S = len(data), len(rng.seeds)
    device = data.x.device
    for epoch in range(epochs):
        learner.optimizer.lr = lr_at(epoch, lr, milestones, lr_decay)
        learner.train_mode()
        order = torch.stack([torch.randperm(n, generator=g) for g in rng("batches")])
        diverged = torch.zeros(S, dtype=torch.bool, device=device)
        for start in range(0, n, batch_size):
            raw, y = data.take(order[:, start : start + batch_size].to(device))
            x = pycil_augment(raw, rng("augment")) if augment else raw.float() / 255.0
            batch = learner.inputs(Batch(data.normalise(x), y, raw))
            with torch.autocast(device.type, torch.bfloat16, enabled=amp):
                out = learner.model(batch.x)
                losses = learner.loss(batch, out).float()
            diverged |= ~torch.isfinite(losses)
            learner.optimizer.zero_grad()
            losses.sum().backward()
            learner.optimizer.step()
            learner.after_step(batch, out)
        if diverged.any():
            seeds = [rng.seeds[s] for s in torch.nonzero(diverged).flatten().tolist()]
            raise DivergedError(
                f"training diverged (non-finite loss) for seed {', '.join(map(str, seeds))} in "
                f"{where}epoch {epoch + 1}; {learner.divergence_hint()}. Nothing was cached."
            )
        if progress is not None:
            progress.update(1)


BRIGHTNESS = 63 / 255  # PyCIL's ColorJitter(brightness=63/255) on CIFAR


def pycil_augment(raw: torch.Tensor, gens: list[torch.Generator], pad: int = 4) -> torch.Tensor:
    """PyCIL's CIFAR training transform, per image: RandomCrop(32, padding=4) of the raw
    image (black padding), RandomHorizontalFlip, ColorJitter(brightness=63/255) (pixels
    times a factor in [1 - 63/255, 1 + 63/255], clipped to [0, 1]). uint8 (S, B, C, H, W)
    -> float images in [0, 1], to be normalised."""
    S, B, C, H, W = raw.shape
    u = torch.stack([torch.rand(4, B, generator=g) for g in gens]).to(raw.device)  # (S, 4, B)
    shifts = (u[:, :2] * (2 * pad + 1)).long()  # (S, 2, B): top and left of the crop
    flips = u[:, 2] < 0.5
    factors = 1 - BRIGHTNESS + 2 * BRIGHTNESS * u[:, 3]
    padded = F.pad(raw.float() / 255.0, (pad, pad, pad, pad))  # zeros: black
    rows = (shifts[:, 0, :, None] + torch.arange(H, device=raw.device))[..., :, None]
    cols = (shifts[:, 1, :, None] + torch.arange(W, device=raw.device))[..., None, :]
    s_idx = torch.arange(S, device=raw.device)[:, None, None, None]
    b_idx = torch.arange(B, device=raw.device)[None, :, None, None]
    crops = padded[s_idx, b_idx, :, rows, cols].permute(0, 1, 4, 2, 3)  # (S, B, C, H, W)
    crops = torch.where(flips[:, :, None, None, None], crops.flip(-1), crops)
    return (crops * factors[:, :, None, None, None]).clamp(0, 1)


def reproducible(device: torch.device) -> None:
    """On a GPU, make a seed give the same numbers: deterministic cuDNN convolutions
    without autotuning (``benchmark`` off) and deterministic algorithms where PyTorch has
    them. The price is speed: cuDNN may not pick its fastest convolution (often a few tens
    of percent on conv nets; not measured here). Results on the CPU are deterministic as
    they are."""
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)


def device_kind(device: str) -> str:
    """The kind of device (``cpu`` or ``cuda``) a run asking for ``device`` trains on here,
    without requiring it: a cache key, so that a machine without a GPU (a cluster's login
    node) finds the results of ``--device cuda`` runs."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' asked for, but PyTorch sees no GPU; use --device cpu")
    return torch.device(device)
