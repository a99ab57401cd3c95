"""L2 and Shrink & Perturb.

- ``L2``: backprop with weight decay ``l2_weight_decay`` added to the shared
  ``weight_decay``; the control of Shrink & Perturb, which it equals except for the noise.
- ``ShrinkPerturb`` = ``L2`` plus noise, in one of two forms:

  - ``step`` (the form Dohare et al. 2024 use): after every optimizer step Gaussian noise
    N(0, sigma^2) is added to every parameter. The "shrink" is the weight decay; in the
    reference code every method shares it (CIFAR-100: 5e-4, noise 1e-5), and its
    permuted-MNIST ``l2`` and ``snp`` settings add 1e-4 (noise 1e-5) to a bp without any.
  - ``boundary`` (the original, Ash & Adams 2020): at each task boundary every parameter
    becomes ``lambda * theta + sigma * theta_fresh``, theta_fresh drawn from the network's
    initial distribution (a freshly initialised network). With ``l2_weight_decay`` 0 this
    is their form alone.
"""

from __future__ import annotations

import torch

from .backprop import Backprop
from .network import build_net


class L2(Backprop):
    def weight_decay(self) -> float:
        return self.cfg.weight_decay + self.cfg.l2_weight_decay


class ShrinkPerturb(L2):
    def __init__(self, cfg, model, random):
        super().__init__(cfg, model, random)
        device = next(model.parameters()).device
        # one noise generator per seed, on the network's device, seeded from the seed's own
        self.noise = [
            torch.Generator(device).manual_seed(int(torch.randint(2**62, (), generator=g)))
            for g in random("noise")
        ]

    def divergence_hint(self) -> str:
        return "lower the noise (--noise-std) or the learning rate (--lr)"

    @torch.no_grad()
    def after_step(self, batch=None, out=None) -> None:
        if self.cfg.snp_form != "step":
            return
        params = list(self.model.parameters())
        sizes = [p[0].numel() for p in params]
        device = params[0].device
        eps = torch.stack([torch.randn(sum(sizes), generator=g, device=device) for g in self.noise])
        for p, e in zip(params, eps.split(sizes, dim=1), strict=True):  # each seed its own noise
            p += e.view_as(p) * self.cfg.noise_std

    @torch.no_grad()
    def start_task(self, index: int) -> None:
        if self.cfg.snp_form != "boundary" or index == 0:
            return
        fresh = build_net(self.cfg, self.random("init"))
        for p, q in zip(self.model.parameters(), fresh.parameters(), strict=True):
            p.mul_(self.cfg.shrink).add_(q.to(p.device) * self.cfg.noise_std)
