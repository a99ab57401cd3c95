"""Continual backprop (Dohare et al., Nature 2024): backprop plus generate-and-test.

Every hidden unit (a ReLU unit of a linear layer, or a channel of a conv layer followed
by BatchNorm) keeps a *contribution utility*, a running average over steps of

    u <- eta * u + (1 - eta) * mean_batch |h| * sum_k |w_out,k|

(h the unit's activation, averaged over positions for a conv channel; w_out its outgoing
weights). After each optimizer step, each layer accumulates ``replacement_rate`` x (its
number of mature units, those older than ``maturity`` steps); whenever the accumulated
count reaches a whole unit, that many mature units with the lowest bias-corrected
utility u / (1 - eta^age) are replaced: fresh input weights from the layer's initial
distribution, zero bias, zero outgoing weights, age 0, the following BatchNorm channel
reset, and the optimizer state (momentum, Adam moments) of all these weights zeroed.
The zero outgoing weights mean a new unit adds nothing to the output, so replacing units
that were silent (the lowest utility: dormant units) leaves the network's function
unchanged; a unit that still contributed takes its contribution with it.

Differences from the reference code: the utility sums |w_out| (the code takes the mean,
a constant factor per layer that does not change which units go); replacement runs after
the optimizer step rather than inside a backward hook; the optimizer state of replaced
weights is reset; no mean activation of a removed unit is folded into the next layer's bias
(the reference code's attempt adds zero). Fresh weights use PyTorch's default
initialisation, which is how the package's MLP and CNN are initialised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .experiment import Backprop, PlasticityConfig, PlasticityNet


@dataclass
class UnitLayer:
    """One layer of replaceable units: ``inp`` makes them (rows of its weight), ``bn``
    normalises them (conv only), ``act`` is their ReLU, ``out`` reads them (columns of
    its weight)."""

    inp: nn.Linear | nn.Conv2d
    bn: nn.BatchNorm2d | None
    act: nn.ReLU
    out: nn.Linear | nn.Conv2d


def unit_layers(model: PlasticityNet) -> list[UnitLayer]:
    """The hidden layers of an MLP or CNN backbone: each block Sequential(Linear|Conv2d,
    [BatchNorm2d], ReLU); the next such block (or the head) reads its units."""
    found = []
    for block in model.backbone.children():
        mods = list(block.children()) if isinstance(block, nn.Sequential) else []
        if mods and isinstance(mods[0], nn.Linear | nn.Conv2d) and isinstance(mods[-1], nn.ReLU):
            bn = mods[1] if isinstance(mods[1], nn.BatchNorm2d) else None
            found.append((mods[0], bn, mods[-1]))
    if not found:
        raise ValueError("continual backprop needs Linear/Conv2d + ReLU blocks in the backbone")
    outs = [inp for inp, _, _ in found[1:]] + [model.head]
    return [UnitLayer(i, b, a, o) for (i, b, a), o in zip(found, outs, strict=True)]


class ContinualBackprop(Backprop):
    """Backprop whose ``after_step`` replaces low-utility units (see the module docstring)."""

    def __init__(self, cfg: PlasticityConfig, model: PlasticityNet):
        super().__init__(cfg, model)
        self.rate, self.maturity, self.eta = cfg.replacement_rate, cfg.maturity, cfg.decay
        self.layers = unit_layers(model)
        device = next(model.parameters()).device
        self.generator = torch.Generator(device=device).manual_seed(cfg.seed + 2)
        self.utility = [torch.zeros(_units(l), device=device) for l in self.layers]
        self.age = [torch.zeros(_units(l), dtype=torch.long, device=device) for l in self.layers]
        self.to_replace = [0.0] * len(self.layers)
        self.replaced_last = [torch.zeros(0, dtype=torch.long)] * len(self.layers)
        self.activations: list[torch.Tensor | None] = [None] * len(self.layers)
        for k, layer in enumerate(self.layers):
            layer.act.register_forward_hook(self._keep(k))

    def _keep(self, k: int):
        def hook(_module, _inp, out):
            if self.model.training:
                self.activations[k] = out.detach()

        return hook

    def bias_corrected_utility(self, k: int) -> torch.Tensor:
        age = self.age[k].double()
        return (self.utility[k].double() / (1 - self.eta**age).clamp_min(1e-12)).float()

    @torch.no_grad()
    def after_step(self) -> None:
        for k, layer in enumerate(self.layers):
            h = self.activations[k]
            mean_h = h.abs().transpose(0, 1).reshape(h.shape[1], -1).mean(1)
            w_out = layer.out.weight.abs().transpose(0, 1).reshape(mean_h.numel(), -1).sum(1)
            self.utility[k].mul_(self.eta).add_(mean_h * w_out, alpha=1 - self.eta)
            self.age[k] += 1
            self.to_replace[k] += self.rate * int((self.age[k] > self.maturity).sum())
            n = int(self.to_replace[k])
            self.replaced_last[k] = self.age[k][:0]
            if n > 0:
                self.to_replace[k] -= n
                self.replace(k, self.lowest_utility(k, n))

    def lowest_utility(self, k: int, n: int) -> torch.Tensor:
        """The ``n`` mature units of layer ``k`` with the lowest bias-corrected utility:
        the next to be replaced."""
        mature = torch.nonzero(self.age[k] > self.maturity).flatten()
        return mature[torch.topk(-self.bias_corrected_utility(k)[mature], n).indices]

    @torch.no_grad()
    def replace(self, k: int, units: torch.Tensor) -> None:
        """Re-initialise ``units`` of layer ``k`` (see the module docstring)."""
        layer = self.layers[k]
        fresh = torch.empty_like(layer.inp.weight[units])
        bound = 1 / math.sqrt(layer.inp.weight[0].numel())  # PyTorch's default init
        layer.inp.weight[units] = fresh.uniform_(-bound, bound, generator=self.generator)
        if layer.inp.bias is not None:
            layer.inp.bias[units] = 0.0
        layer.out.weight[:, units] = 0.0
        if layer.bn is not None:
            layer.bn.weight[units], layer.bn.bias[units] = 1.0, 0.0
            layer.bn.running_mean[units], layer.bn.running_var[units] = 0.0, 1.0
        for p, index in self._touched(layer, units):
            for buf in self.optimizer.state.get(p, {}).values():
                if torch.is_tensor(buf) and buf.shape == p.shape:
                    buf[index] = 0.0
        self.utility[k][units] = 0.0
        self.age[k][units] = 0
        self.replaced_last[k] = units
        self.units_replaced += units.numel()

    @staticmethod
    def _touched(layer: UnitLayer, units: torch.Tensor):
        yield layer.inp.weight, units
        if layer.inp.bias is not None:
            yield layer.inp.bias, units
        yield layer.out.weight, (slice(None), units)
        if layer.bn is not None:
            yield layer.bn.weight, units
            yield layer.bn.bias, units


def _units(layer: UnitLayer) -> int:
    return layer.inp.weight.shape[0]
