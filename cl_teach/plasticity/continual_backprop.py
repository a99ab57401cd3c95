"""Continual backprop (Dohare et al., Nature 2024): backprop plus generate-and-test.

Every replaceable hidden unit keeps a *contribution utility*, a running average over steps of

    u <- eta * u + (1 - eta) * mean |h| * sum_k |w_out,k|

(h the unit's activation on the step's batch, averaged over samples and, for a conv
channel, positions; w_out its outgoing weights). After each optimizer step, each layer
accumulates ``replacement_rate`` x (its number of mature units, those older than
``maturity`` steps); whenever the count reaches a whole unit, that many mature units with
the lowest bias-corrected utility u / (1 - eta^age) are replaced (``replacement="random"``:
mature units drawn at random, the paper's control for the utility): fresh input weights from
the layer's initial distribution, zero bias, zero outgoing weights, age 0, the BatchNorm
channel after it reset (weight 1, bias 0, running mean 0, running variance 1), and the
optimizer state of all these weights forgotten (momentum; Adam's moments and its
per-element step count, so a new weight's first Adam step is about lr, as in a fresh
network). With zero outgoing weights a new unit adds nothing to the output, so replacing
silent units (the lowest utility: dormant units) leaves the network's function unchanged.
Each seed keeps its own utilities and replaces its own units.

Replaceable units are those read only through weights that can be zeroed: every hidden
layer of the MLP and of the small CNN (the last one is read by the output layer), and in
ResNet-18 the inner units of each residual block (conv1 -> bn1 -> ReLU, read by conv2
alone). ResNet-18's block outputs and its stem are not replaced: each also feeds the
identity path of the next residual sum, which no weight controls, so zeroing the next
conv's columns would not silence a fresh unit (the reference code's ResGnT replaces them
anyway, zeroing only the next block's conv1).

Differences from the reference code: the utility is the running average of its GnT (MLPs);
its ResGnT (ResNet-18) keeps an undecayed running sum of |h| instead. The utility sums
|w_out| where the code takes the mean, a constant factor per layer that does not change
which units go. Replacement runs after the optimizer step, as in GnT (its newer
CBPLinear replaces inside a backward hook, before the step). The optimizer state is reset as
its AdamGnT does; its SGD path and ResGnT reset none. No mean activation of a removed unit
is folded into the next layer's bias (GnT's attempt adds zero).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..layers import BatchNorm2d, Conv2d, Linear, seeds_of
from .backprop import Backprop
from .network import PlasticityNet
from .sites import Sites


@dataclass
class UnitLayer:
    """Replaceable units: made by the rows of ``inp`` (then ``bn``, then the ReLU call
    ``site``) and read by the columns of ``out``. ``init`` names the initial distribution
    of ``inp``'s weights (:mod:`cl_teach.layers`): ``default`` or ``kaiming``."""

    site: str
    inp: Linear | Conv2d
    bn: BatchNorm2d | None
    out: Linear | Conv2d
    init: str

    @property
    def units(self) -> int:
        return self.inp.weight.shape[1]


def unit_layers(model: PlasticityNet) -> list[UnitLayer]:
    """The replaceable units of ``model`` (see the module docstring)."""
    names = {m: name for name, m in model.named_modules()}
    residual = [m for m in model.backbone.modules() if hasattr(m, "conv1") and hasattr(m, "conv2")]
    if residual:  # ResNet-18: each block's conv1 -> bn1 -> relu (its first call) -> conv2
        return [
            UnitLayer(f"{names[b.relu]}#1", b.conv1, b.bn1, b.conv2, "kaiming") for b in residual
        ]
    chain = []  # MLP, CNN: blocks Linear|Conv2d [-> BatchNorm2d] -> ReLU, in order
    for block in model.backbone.children():
        mods = list(block.children())
        if mods and isinstance(mods[0], Linear | Conv2d) and isinstance(mods[-1], nn.ReLU):
            bn = mods[1] if isinstance(mods[1], BatchNorm2d) else None
            chain.append((names[mods[-1]], mods[0], bn))
    if not chain:
        raise ValueError("continual backprop found no Linear/Conv2d + ReLU blocks to renew")
    readers = [inp for _, inp, _ in chain[1:]] + [model.head]
    return [
        UnitLayer(site, inp, bn, out, "default")
        for (site, inp, bn), out in zip(chain, readers, strict=True)
    ]


def fresh_weights(layer: UnitLayer, n: int, generator: torch.Generator) -> torch.Tensor:
    """Input weights for ``n`` new units, drawn as the layer was initialised."""
    shape = layer.inp.weight.shape[2:]  # one unit's: (in,) or (c_in, k, k)
    if layer.init == "kaiming":  # normal, std sqrt(2 / fan_out)
        fan_out = layer.inp.weight.shape[1] * math.prod(shape[1:])
        return torch.empty(n, *shape).normal_(0.0, math.sqrt(2 / fan_out), generator=generator)
    bound = 1 / math.sqrt(math.prod(shape))  # PyTorch's default: uniform +-1/sqrt(fan_in)
    return torch.empty(n, *shape).uniform_(-bound, bound, generator=generator)


def _per_unit(x: torch.Tensor) -> torch.Tensor:
    """(S, a, units, ...) -> (S, units, a x ...): each seed's values grouped by unit (axis 2)."""
    return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], -1)


def _mean_magnitude(h: torch.Tensor) -> torch.Tensor:
    """Each seed's mean |h| per unit over samples and positions:
    (S, B, units, ...) -> (S, units)."""
    return _per_unit(h.abs()).mean(2)


def outgoing_size(w_out: torch.Tensor) -> torch.Tensor:
    """Each seed's sum of |w_out,k| per unit: the weights (S, outputs, units, ...) that read
    the units -> (S, units)."""
    return _per_unit(w_out.abs()).sum(2)


def running_utility(u: torch.Tensor, magnitude: torch.Tensor, w_out_size: torch.Tensor,
                    eta: float) -> torch.Tensor:  # fmt: skip
    """The contribution utility after one step:
    u <- eta * u + (1 - eta) * mean|h| * sum_k |w_out,k|."""
    return u * eta + magnitude * w_out_size * (1 - eta)


class ContinualBackprop(Backprop):
    """Backprop whose ``after_step`` replaces low-utility units (see the module docstring)."""

    def __init__(self, cfg, model: PlasticityNet, random):
        super().__init__(cfg, model, random)
        self.rate, self.maturity, self.eta = cfg.replacement_rate, cfg.maturity, cfg.decay
        self.layers = unit_layers(model)
        S, device = seeds_of(model), next(model.parameters()).device
        self.utility = [torch.zeros(S, layer.units, device=device) for layer in self.layers]
        self.age = [
            torch.zeros(S, layer.units, dtype=torch.long, device=device) for layer in self.layers
        ]
        self.to_replace = [[0.0] * S for _ in self.layers]  # per layer and seed, carried over
        none = torch.zeros(0, dtype=torch.long)
        self.replaced_last = [[none] * S for _ in self.layers]  # at the last step, per seed
        self.sites = Sites(model, _mean_magnitude)  # filled by each forward pass
        self.choose = {"utility": self.lowest_utility, "random": self.random_mature}[
            cfg.replacement
        ]

    def bias_corrected_utility(self, k: int) -> torch.Tensor:
        """Layer ``k``'s utilities (S, units), corrected for the units' ages."""
        correction = (1 - self.eta ** self.age[k].double()).clamp_min(1e-12)
        return (self.utility[k].double() / correction).float()

    @torch.no_grad()
    def after_step(self, batch=None, out=None) -> None:
        magnitudes = self.sites.values()  # of the step's forward pass, before the step
        for k, layer in enumerate(self.layers):
            size = outgoing_size(layer.out.weight)
            self.utility[k] = running_utility(
                self.utility[k], magnitudes[layer.site], size, self.eta
            )
            self.age[k] += 1
            self.replaced_last[k] = [self.age[k].new_zeros(0)] * len(self.age[k])
            for s, mature in enumerate(self.mature_mask(k).sum(1).tolist()):
                self.to_replace[k][s] += self.rate * mature
                n = int(self.to_replace[k][s])
                if n > 0:
                    self.to_replace[k][s] -= n
                    self.replace(k, s, self.choose(k, s, n))

    def mature_mask(self, k: int) -> torch.Tensor:
        """Which units of layer ``k`` are mature (older than the maturity threshold), per
        seed: (S, units). Only mature units count towards the replacements due and can go."""
        return self.age[k] > self.maturity

    def mature(self, k: int, s: int) -> torch.Tensor:
        """Seed ``s``'s mature units of layer ``k``."""
        return torch.nonzero(self.mature_mask(k)[s]).flatten()

    def lowest_utility(self, k: int, s: int, n: int) -> torch.Tensor:
        """Seed ``s``'s ``n`` mature units of layer ``k`` with the lowest bias-corrected
        utility: the next to be replaced."""
        mature = self.mature(k, s)
        return mature[torch.topk(-self.bias_corrected_utility(k)[s, mature], n).indices]

    def random_mature(self, k: int, s: int, n: int) -> torch.Tensor:
        """``n`` of seed ``s``'s mature units of layer ``k``, drawn at random: the paper's
        control for the utility (``replacement="random"``)."""
        mature = self.mature(k, s)
        pick = torch.randperm(len(mature), generator=self.random("replacement")[s])[:n]
        return mature[pick.to(mature.device)]

    def unit_state(self, s: int) -> list[dict]:
        """Seed ``s``'s units, layer by layer: the activation site, each unit's bias-corrected
        utility and age (steps since it was born)."""
        return [
            {
                "site": layer.site,
                "utility": self.bias_corrected_utility(k)[s].tolist(),
                "age": self.age[k][s].tolist(),
            }
            for k, layer in enumerate(self.layers)
        ]

    @torch.no_grad()
    def replace(self, k: int, s: int, units: torch.Tensor) -> None:
        """Re-initialise seed ``s``'s ``units`` of layer ``k`` (see the module docstring)."""
        layer = self.layers[k]
        fresh = fresh_weights(layer, len(units), self.random("replacement")[s])
        layer.inp.weight[s, units] = fresh.to(layer.inp.weight.device)
        if layer.inp.bias is not None:
            layer.inp.bias[s, units] = 0.0
        layer.out.weight[s, :, units] = 0.0
        if layer.bn is not None:
            layer.bn.reset_channels(s, units)
        for p, index in _touched(layer, s, units):
            self.optimizer.reset(p, index)
        self.utility[k][s, units] = 0.0
        self.age[k][s, units] = 0
        self.replaced_last[k][s] = units
        self.units_replaced[s] += len(units)


def _touched(layer: UnitLayer, s: int, units: torch.Tensor):
    """Every weight a replacement rewrites, with the index of the rewritten part."""
    yield layer.inp.weight, (s, units)
    if layer.inp.bias is not None:
        yield layer.inp.bias, (s, units)
    yield layer.out.weight, (s, slice(None), units)
    if layer.bn is not None:
        yield layer.bn.weight, (s, units)
        yield layer.bn.bias, (s, units)
