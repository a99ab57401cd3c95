"""The two optimizers the experiments use, written out: SGD with momentum and Adam.

Both make the same update as ``torch.optim.SGD`` / ``torch.optim.Adam`` (L2 weight decay
added to the gradient), element by element, so the S seeds stacked in one parameter each
get exactly their own step (plain multiplications and additions, no fused multiply-add,
whose rounding would depend on where an element falls in a vectorised loop). Written here
rather than imported for two reasons:

- continual backprop must reset the optimizer state of the weights it re-initialises
  (:meth:`Optimizer.reset`). Adam's bias correction divides by 1 - beta^t; with one step
  count for the whole tensor, zeroed moments of a new unit would be divided by almost 1
  and the unit would move several times the learning rate. So :class:`Adam` keeps a step
  count per element, as the reference code's AdamGnT does, and a reset sets it to 0;
- ``torch.optim`` imports ``torch._dynamo`` on first use, about a second of start-up.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


class Optimizer:
    """``lr`` may be changed between steps (the learning-rate schedule sets it)."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float, weight_decay: float = 0.0):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.weight_decay = lr, weight_decay
        self.state: dict[torch.Tensor, dict[str, torch.Tensor]] = {}

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def gradient(self, p: torch.Tensor) -> torch.Tensor:
        """The gradient with the L2 weight decay added: g + wd * p."""
        return p.grad if self.weight_decay == 0 else p.grad + p * self.weight_decay

    @torch.no_grad()
    def reset(self, p: torch.Tensor, index) -> None:
        """Forget what the optimizer remembers about ``p[index]`` (moments, step counts)."""
        for buffer in self.state.get(p, {}).values():
            buffer[index] = 0


class SGD(Optimizer):
    """b <- momentum * b + g (b = g at the first step);  p <- p - lr * b."""

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self.momentum = momentum

    @torch.no_grad()
    def step(self) -> None:
        for p in self.params:
            if p.grad is None:
                continue
            d = self.gradient(p)
            if self.momentum:
                if p not in self.state:
                    self.state[p] = {"momentum_buffer": d.clone()}
                else:
                    d = self.state[p]["momentum_buffer"].mul_(self.momentum).add_(d)
            p.sub_(d * self.lr)


class Adam(Optimizer):
    """m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  with t the element's own step
    count, p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)."""

    def __init__(
        self, params, lr: float, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0
    ):
        super().__init__(params, lr, weight_decay)
        self.betas, self.eps = betas, eps

    @torch.no_grad()
    def step(self) -> None:
        b1, b2 = self.betas
        for p in self.params:
            if p.grad is None:
                continue
            g = self.gradient(p)
            if p not in self.state:
                zeros = torch.zeros_like(p)
                self.state[p] = {
                    "step": zeros.clone(),
                    "exp_avg": zeros,
                    "exp_avg_sq": zeros.clone(),
                }
            s = self.state[p]
            s["step"] += 1
            s["exp_avg"].mul_(b1).add_(g * (1 - b1))
            s["exp_avg_sq"].mul_(b2).add_(g * g * (1 - b2))
            m_hat = s["exp_avg"] / (1 - b1 ** s["step"])
            v_hat = s["exp_avg_sq"] / (1 - b2 ** s["step"])
            p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))


def make_optimizer(
    name: str, params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0
) -> Optimizer:
    if name == "sgd":
        return SGD(params, lr, momentum, weight_decay)
    if name == "adam":
        return Adam(params, lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose sgd or adam")


def lr_at(epoch: int, lr: float, milestones=(), decay: float = 0.1) -> float:
    """The learning rate of ``epoch`` (0-based) under a step schedule: ``lr`` times
    ``decay`` for every milestone already reached (as ``MultiStepLR``)."""
    return lr * decay ** sum(epoch >= m for m in milestones)
