"""Plasticity diagnostics (Dohare et al., Nature 2024), measured on a probe batch.

- dormant units: a ReLU unit is dormant when its output is non-zero on less than a
  ``threshold`` fraction (default 1%) of the probe inputs, counted over samples and, for
  conv layers, spatial positions;
- effective rank (Roy & Vetterli 2007) and stable rank (99% of the singular values) of
  the penultimate representation;
- average weight magnitude.

Activations are read through forward hooks on the network's ``nn.ReLU`` modules, so any
ReLU network of the package (MLP, CNN with BatchNorm) works without changes.
"""

from __future__ import annotations

import torch
from torch import nn


def relu_layers(model: nn.Module) -> dict[str, nn.ReLU]:
    """The ``nn.ReLU`` modules of ``model`` by name, input to output."""
    layers = {name: m for name, m in model.named_modules() if isinstance(m, nn.ReLU)}
    if not layers:
        raise ValueError("the network has no nn.ReLU modules to measure")
    return layers


@torch.no_grad()
def relu_outputs(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """The output of every ReLU module on the probe batch ``x`` (model in eval mode)."""
    outputs, handles = {}, []
    for name, module in relu_layers(model).items():
        hook = lambda _m, _i, out, name=name: outputs.__setitem__(name, out.detach())  # noqa: E731
        handles.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        model(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return outputs


def active_fraction(h: torch.Tensor) -> torch.Tensor:
    """Per unit (dim 1), the fraction of samples and positions where it is non-zero."""
    return (h > 0).float().transpose(0, 1).reshape(h.shape[1], -1).mean(1)


def _check_threshold(threshold: float) -> None:
    if not (isinstance(threshold, int | float) and 0 < threshold < 1):
        raise ValueError(f"threshold={threshold!r}: must be a fraction strictly between 0 and 1")


def dormant_units(h: torch.Tensor, threshold: float = 0.01) -> torch.Tensor:
    """Boolean mask of the dormant units of one layer's ReLU output ``h`` (N, units, ...)."""
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


def weight_magnitude(model: nn.Module) -> float:
    """Average absolute value of the weights (all parameters named ``weight``)."""
    total, count = 0.0, 0
    for name, p in model.named_parameters():
        if name.endswith("weight"):
            total += float(p.detach().abs().sum())
            count += p.numel()
    return total / count


def diagnose(model: nn.Module, x: torch.Tensor, threshold: float = 0.01) -> dict:
    """All diagnostics on the probe batch ``x``. The last ReLU layer is the penultimate
    representation (for a conv net, its channels averaged over positions)."""
    outputs = relu_outputs(model, x)
    masks = {name: dormant_units(h, threshold) for name, h in outputs.items()}
    dormant = sum(int(m.sum()) for m in masks.values())
    units = sum(m.numel() for m in masks.values())
    last = list(outputs.values())[-1]
    features = last.flatten(2).mean(2) if last.dim() > 2 else last
    return {
        "dormant_fraction": dormant / units,
        "dormant_fraction_per_layer": {n: float(m.float().mean()) for n, m in masks.items()},
        "dormant_mask": {n: m.tolist() for n, m in masks.items()},
        "effective_rank": effective_rank(features),
        "stable_rank": stable_rank(features),
        "weight_magnitude": weight_magnitude(model),
    }
