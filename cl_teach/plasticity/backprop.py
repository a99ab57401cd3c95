"""Plain backprop carried from task to task, the learner every remedy builds on, and the
head reset, the cheapest remedy (a point of reference)."""

from __future__ import annotations

import torch

from ..layers import Linear, seeds_of
from ..optim import make_optimizer
from ..train import Learner, SeedRandom
from .config import PlasticityConfig
from .network import PlasticityNet


class Backprop(Learner):
    """Backprop on a network of S seeds; the network and its optimizer state carry over from
    task to task. ``random`` gives each seed's generators (one per purpose)."""

    def __init__(self, cfg: PlasticityConfig, model: PlasticityNet, random: SeedRandom):
        self.cfg, self.model, self.random = cfg, model, random
        self.optimizer = make_optimizer(
            cfg.optimizer, model.parameters(), cfg.lr, cfg.momentum, self.weight_decay()
        )
        #: units re-initialised so far, per seed (continual backprop counts here)
        self.units_replaced = [0] * seeds_of(model)

    def weight_decay(self) -> float:
        return self.cfg.weight_decay

    def start_task(self, index: int) -> None:
        """Before task ``index`` (0 = the first); plain backprop does nothing here."""

    def unit_state(self, s: int) -> list[dict]:
        """What the learner keeps per hidden unit, for seed ``s`` (continual backprop: each
        layer's utilities and ages); plain backprop keeps nothing."""
        return []


class HeadReset(Backprop):
    """Backprop whose output layer is re-initialised, and its optimizer state forgotten, at
    every task boundary."""

    @torch.no_grad()
    def start_task(self, index: int) -> None:
        if index == 0:
            return
        head = self.model.head
        fresh = Linear(head.in_features, head.out_features, self.random("init"))
        for p, q in ((head.weight, fresh.weight), (head.bias, fresh.bias)):
            p.copy_(q)
            self.optimizer.reset(p, ...)
