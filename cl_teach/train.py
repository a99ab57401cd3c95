"""The one training loop every method shares, and the hooks it calls.

A method is a :class:`Learner` that overrides only what its paper changes:

==================  ==========================================================
``train_mode()``    put the network in train mode for an epoch (DER keeps old
                    backbones in eval mode here)
``loss(x, y, out)`` the training loss of one batch (replay, EWC and Dark ER add
                    terms here; DER adds its auxiliary loss)
``after_step()``    after each optimizer step (continual backprop, Shrink & Perturb,
                    reservoir sampling)
==================  ==========================================================

Task-level hooks (``before_task``, ``train_data``, ``after_task``) live on
:class:`cl_teach.methods.base.Method`, the class-incremental learner.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .data import ImageData


class Learner:
    """A network and the per-batch hooks of its method."""

    model: nn.Module
    optimizer: torch.optim.Optimizer

    def train_mode(self) -> None:
        self.model.train()

    def loss(self, x: torch.Tensor, y: torch.Tensor, out: dict) -> torch.Tensor:
        return F.cross_entropy(out["logits"], y)

    def after_step(self) -> None:
        pass


def sgd(params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0):
    return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


def fit(
    learner: Learner,
    data: ImageData,
    *,
    epochs: int,
    batch_size: int,
    generator: torch.Generator,
    scheduler=None,
    augment: bool = False,
    progress=None,
) -> None:
    """Train ``learner.model`` on ``data`` (uint8 images, already on the model's device)
    for ``epochs`` epochs of shuffled mini-batches."""
    n = len(data)
    for _ in range(epochs):
        learner.train_mode()
        order = torch.randperm(n, generator=generator).to(data.x.device)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            x = data.to_float(data.x[idx])
            if augment:
                x = random_crop_flip(x, generator)
            y = data.y[idx]
            out = learner.model(x)
            loss = learner.loss(x, y, out)
            learner.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            learner.optimizer.step()
            learner.after_step()
        if scheduler is not None:
            scheduler.step()
        if progress is not None:
            progress.update(1)


def random_crop_flip(x: torch.Tensor, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop with zero padding and random horizontal flip, per image (as PyCIL on
    CIFAR: RandomCrop(32, padding=4) + RandomHorizontalFlip)."""
    b, _, h, w = x.shape
    shifts = torch.randint(0, 2 * pad + 1, (2, b), generator=generator).to(x.device)
    flips = (torch.rand(b, generator=generator) < 0.5).to(x.device)
    padded = F.pad(x, (pad, pad, pad, pad))
    rows = (shifts[0, :, None] + torch.arange(h, device=x.device))[:, :, None]
    cols = (shifts[1, :, None] + torch.arange(w, device=x.device))[:, None, :]
    crops = padded[torch.arange(b, device=x.device)[:, None, None], :, rows, cols]
    crops = crops.permute(0, 3, 1, 2)
    return torch.where(flips[:, None, None, None], crops.flip(3), crops)


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' asked for, but PyTorch sees no GPU; use --device cpu")
    return torch.device(device)
