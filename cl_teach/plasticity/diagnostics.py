"""Plasticity diagnostics (Dohare et al., Nature 2024), per seed, on a probe batch.

- dormant units: a unit of an activation site (:mod:`.sites`) is dormant when its output
  is non-zero on less than ``threshold`` (1%) of the probe inputs, counted over samples
  and, for a conv layer's channel, over positions too;
- effective rank (Roy & Vetterli 2007) and stable rank (how many of the largest singular
  values it takes to reach 99% of their sum) of the representation at the last site (a
  conv site averaged over positions), not centred;
- weight magnitude: the mean |w| over the weights of the linear and conv layers (biases
  and BatchNorm left out).

What the experiment measures, and how that differs from the reference code:

- probe and timing: here, right after training task t, on the first ``probe_size`` (1000)
  un-augmented training images of task t, with the network in eval mode (BatchNorm uses
  its running statistics). The reference measures each network before the next task, on
  that task's data: the CIFAR analysis on 1000 un-augmented training images of the next
  task's classes with the network in train mode (BatchNorm normalises with the probe's own
  statistics); the permuted-MNIST code on the first 2000 images of the next task.
- dormant or dead: the permuted-MNIST code counts *dead* units, zero on all 2000 probe
  inputs; the CIFAR analysis uses the 1% threshold, as here.
- the last layer: the CIFAR analysis counts the last block's output units on the pooled
  512 features (dormant: pooled value zero on < 1% of images) and takes its ranks there;
  here every conv site, the last one too, is counted per position, and the ranks use the
  pooled last site.
- weight magnitude: the CIFAR analysis averages |p| over all parameters, biases and
  BatchNorm included; the permuted-MNIST code sums |w| per layer.
"""

from __future__ import annotations

import torch
from torch import nn

from ..layers import Conv2d, Linear
from .sites import Sites, by_unit


def active_fraction(h: torch.Tensor) -> torch.Tensor:
    """One seed's activations (B, units, ...) -> per unit, the fraction of samples and
    positions where it is non-zero."""
    return (by_unit(h) > 0).float().mean(1)


def _check_threshold(threshold: float) -> None:
    if not (isinstance(threshold, int | float) and 0 < threshold < 1):
        raise ValueError(f"threshold={threshold!r}: must be a fraction strictly between 0 and 1")


def dormant_units(h: torch.Tensor, threshold: float = 0.01) -> torch.Tensor:
    """Boolean mask of the dormant units of one seed's ReLU output ``h`` (B, units, ...)."""
    _check_threshold(threshold)
    return active_fraction(h) < threshold


def singular_values(features: torch.Tensor) -> torch.Tensor:
    return torch.linalg.svdvals(features.flatten(1).double())


def effective_rank(features: torch.Tensor) -> float:
    """Roy & Vetterli: exp of the entropy of the normalised singular values."""
    s = singular_values(features)
    p = s / s.sum()
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


def stable_rank(features: torch.Tensor, keep: float = 0.99) -> int:
    """The number of largest singular values whose sum reaches ``keep`` of the total."""
    s = singular_values(features).sort(descending=True).values
    cumulative = s.cumsum(0) / s.sum()
    return int((cumulative < keep - 1e-12).sum()) + 1


def weight_magnitude(model: nn.Module) -> list[float]:
    """Per seed, the mean |w| over the weights of the linear and conv layers."""
    weights = [m.weight.detach() for m in model.modules() if isinstance(m, Linear | Conv2d)]
    count = sum(w[0].numel() for w in weights)
    S = len(weights[0])
    return [sum(float(w[s].abs().sum()) for w in weights) / count for s in range(S)]


def _measure(h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """What a site keeps of its output (S, B, units, ...): each seed's active fraction per
    unit (S, units) and the output averaged over positions (S, B, units)."""
    pooled = h.flatten(3).mean(3) if h.dim() > 3 else h
    return torch.stack([active_fraction(hs) for hs in h]), pooled


@torch.no_grad()
def diagnose(model: nn.Module, x: torch.Tensor, threshold: float = 0.01) -> list[dict]:
    """All diagnostics on the probe batch ``x`` (S, B, ...), the network in eval mode; one
    dict per seed."""
    _check_threshold(threshold)
    sites = Sites(model, _measure)
    was_training = model.training
    model.eval()
    try:
        model(x)
    finally:
        model.train(was_training)
        sites.remove()
    measured = sites.values()
    last = list(measured.values())[-1][1]
    magnitudes = weight_magnitude(model)
    results = []
    for s, magnitude in enumerate(magnitudes):
        masks = {site: active[s] < threshold for site, (active, _) in measured.items()}
        results.append(
            {
                "dormant_fraction": sum(int(m.sum()) for m in masks.values())
                / sum(m.numel() for m in masks.values()),
                "dormant_fraction_per_site": {n: float(m.float().mean()) for n, m in masks.items()},
                "dormant_mask": {n: m.tolist() for n, m in masks.items()},
                "effective_rank": effective_rank(last[s]),
                "stable_rank": stable_rank(last[s]),
                "weight_magnitude": magnitude,
            }
        )
    return results
