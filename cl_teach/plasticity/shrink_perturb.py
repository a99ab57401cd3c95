"""Shrink & Perturb, in its two forms.

- ``step`` (the form Dohare et al. 2024 use): L2 weight decay in the optimizer, and after
  every optimizer step Gaussian noise N(0, sigma^2) added to every parameter.
- ``boundary`` (the original, Ash & Adams 2020): at each task boundary every parameter
  becomes ``lambda * theta + sigma * theta_fresh``, theta_fresh drawn from the network's
  initial distribution (a freshly initialised copy).
"""

from __future__ import annotations

import torch

from .experiment import Backprop, PlasticityConfig, PlasticityNet, build_net


class ShrinkPerturb(Backprop):
    def __init__(self, cfg: PlasticityConfig, model: PlasticityNet):
        step_form = cfg.snp_form == "step"
        super().__init__(cfg, model, cfg.snp_weight_decay if step_form else None)
        self.generator = torch.Generator(device=next(model.parameters()).device)
        self.generator.manual_seed(cfg.seed + 1)

    @torch.no_grad()
    def after_step(self) -> None:
        if self.cfg.snp_form == "step":
            for p in self.model.parameters():
                p.add_(
                    torch.randn(p.shape, generator=self.generator, device=p.device),
                    alpha=self.cfg.noise_std,
                )

    @torch.no_grad()
    def start_task(self, index: int) -> None:
        if self.cfg.snp_form == "boundary" and index > 0:
            fresh = build_net(self.cfg).to(next(self.model.parameters()).device)
            for p, q in zip(self.model.parameters(), fresh.parameters(), strict=True):
                p.mul_(self.cfg.shrink).add_(q, alpha=self.cfg.noise_std)
