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
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap

from ..data import ImageData, Task
from .base import Method


def empirical_fisher(model: torch.nn.Module, data: ImageData, batch: int = 256) -> dict:
    """F_i = mean over samples (x, y) of (d log p(y | x) / d theta_i)^2."""
    model.eval()
    params = {n: p.detach() for n, p in model.named_parameters()}
    buffers = dict(model.named_buffers())

    def log_likelihood(params, x, y):
        logits = functional_call(model, (params, buffers), (x[None],))["logits"]
        return -F.cross_entropy(logits, y[None])

    per_sample_grads = vmap(grad(log_likelihood), in_dims=(None, 0, 0))
    fisher = {n: torch.zeros_like(p) for n, p in params.items()}
    for k in range(0, len(data), batch):
        grads = per_sample_grads(
            params, data.to_float(data.x[k : k + batch]), data.y[k : k + batch]
        )
        for n, g in grads.items():
            fisher[n] += g.pow(2).sum(0)
    return {n: f / len(data) for n, f in fisher.items()}


def _pad(t: torch.Tensor, shape) -> torch.Tensor:
    """``t`` in the top-left corner of zeros of ``shape`` (a grown classifier)."""
    out = t.new_zeros(shape)
    out[tuple(slice(0, s) for s in t.shape)] = t
    return out


class EWC(Method):
    def __init__(self, cfg, stream, device):
        super().__init__(cfg, stream, device)
        self.fisher: dict[str, torch.Tensor] = {}
        self.anchor: dict[str, torch.Tensor] = {}  # theta*: the parameters after the last task

    def penalty(self) -> torch.Tensor:
        """sum_i F_i (theta_i - theta*_i)^2 over the parameters that existed at the anchor."""
        total = torch.zeros((), device=self.device)
        for n, p in self.model.named_parameters():
            if n in self.fisher:
                old = p[tuple(slice(0, s) for s in self.anchor[n].shape)]
                total = total + (self.fisher[n] * (old - self.anchor[n]).pow(2)).sum()
        return total

    def loss(self, x, y, out):
        return F.cross_entropy(out["logits"], y) + self.cfg.ewc_lambda / 2 * self.penalty()

    def after_task(self, task: Task):
        new = empirical_fisher(self.model, task.train)
        for n, p in self.model.named_parameters():
            old = self.fisher.get(n)
            self.fisher[n] = new[n] if old is None else new[n] + _pad(old, p.shape)
            self.anchor[n] = p.detach().clone()

    def extras(self) -> dict:
        return {"fisher_sum": float(sum(f.sum() for f in self.fisher.values()))}
