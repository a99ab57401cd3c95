"""Elastic Weight Consolidation (Kirkpatrick et al., PNAS 2017).

After each task, the diagonal of the Fisher information says how much each parameter
mattered for it; later tasks pay a quadratic price for moving those parameters:

    loss = CE(f(x), y) + lambda / 2 * sum_i F_i (theta_i - theta*_i)^2

- F is the **empirical** Fisher: the mean over the task's training samples of the
  squared gradient of log p(y | x) at the true label y (per sample, in eval mode).
- Over several tasks the Fisher matrices are summed and the anchor theta* is the
  parameters after the latest task (online EWC with gamma = 1, Schwarz et al. 2018;
  Huszar 2018) rather than one penalty per old task.
- The classifier grows: the rows of new classes start with zero Fisher (no penalty).
"""

from __future__ import annotations

import torch
from torch.func import functional_call, grad, vmap

from ..data import ImageData, Task
from ..layers import seeds_of
from ..memory import FLOAT_BYTES
from ..train import cross_entropy
from .base import Method


def empirical_fisher(model: torch.nn.Module, data: ImageData, batch: int = 256) -> dict:
    """F_i = mean over samples (x, y) of (d log p(y | x) / d theta_i)^2, for each seed's
    network (``data`` shared by the seeds). Per-sample gradients come from ``vmap``; each
    seed's network is taken on its own, so its Fisher does not depend on the others."""
    model.eval()
    params = {n: p.detach() for n, p in model.named_parameters()}
    buffers = dict(model.named_buffers())

    def log_likelihood(params, buffers, x, y):  # one image, one seed's network
        logits = functional_call(model, (params, buffers), (x[None, None],))["logits"]
        return -cross_entropy(logits, y[None, None]).sum()

    per_sample_grads = vmap(grad(log_likelihood), in_dims=(None, None, 0, 0))
    fisher = {n: torch.zeros_like(p) for n, p in params.items()}
    for s in range(seeds_of(model)):
        mine = {n: p[s : s + 1] for n, p in params.items()}
        my_buffers = {n: b[s : s + 1] for n, b in buffers.items()}
        for k in range(0, len(data), batch):
            x, y = data.to_float(data.x[0, k : k + batch]), data.y[0, k : k + batch]
            for n, g in per_sample_grads(mine, my_buffers, x, y).items():
                fisher[n][s] += g.pow(2).sum(0)[0]
    return {n: f / len(data) for n, f in fisher.items()}


def _pad(t: torch.Tensor, shape) -> torch.Tensor:
    """``t`` in the top-left corner of zeros of ``shape`` (a grown classifier)."""
    out = t.new_zeros(shape)
    out[tuple(slice(0, s) for s in t.shape)] = t
    return out


class EWC(Method):
    options = ("ewc_lambda",)

    def __init__(self, cfg, stream, device, seeds):
        super().__init__(cfg, stream, device, seeds)
        self.fisher: dict[str, torch.Tensor] = {}
        self.anchor: dict[str, torch.Tensor] = {}  # theta*: the parameters after the last task

    def penalty(self) -> torch.Tensor:
        """Per seed, sum_i F_i (theta_i - theta*_i)^2 over the parameters that existed at
        the anchor: (S,)."""
        total = 0.0
        for n, p in self.model.named_parameters():
            if n in self.fisher:
                old = p[tuple(slice(0, s) for s in self.anchor[n].shape)]
                total = total + (self.fisher[n] * (old - self.anchor[n]).pow(2)).flatten(1).sum(1)
        return total

    def loss(self, batch, out):
        return cross_entropy(out["logits"], batch.y) + self.cfg.ewc_lambda / 2 * self.penalty()

    def after_task(self, task: Task):
        new = empirical_fisher(self.model, task.train)
        for n, p in self.model.named_parameters():
            old = self.fisher.get(n)
            self.fisher[n] = new[n] if old is None else new[n] + _pad(old, p.shape)
            self.anchor[n] = p.detach().clone()

    def divergence_hint(self) -> str:
        return "lower --ewc-lambda or the learning rate (--lr)"

    def stored_bytes(self) -> dict[str, int]:
        """The Fisher diagonal and the anchor theta*: two float32 numbers per parameter that
        existed after the last task."""
        kept = sum(
            f[0].numel() + a[0].numel()
            for f, a in zip(self.fisher.values(), self.anchor.values(), strict=True)
        )
        return {**super().stored_bytes(), "fisher_and_anchor": FLOAT_BYTES * kept}

    def extras(self, s: int) -> dict:
        return {"fisher_sum": float(sum(f[s].sum() for f in self.fisher.values()))}
