"""Activation sites: where the diagnostics and continual backprop read a network's units.

A *site* is one call of an ``nn.ReLU`` module in a forward pass; its units are the
features of that call's output (the units of a linear layer, the channels of a conv layer).
Sites, not modules: a residual block of ``models.resnet18`` calls its one ReLU module
twice, as torchvision's does, after its first convolution and after the residual sum, and
these are two different layers of units. A site is named after its module, with ``#1``,
``#2`` appended when the module is called more than once: ``backbone.layer1.0.relu#1`` is
the block's inner ReLU, ``backbone.layer1.0.relu#2`` its output.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable

import torch
from torch import nn


class Sites:
    """Forward hooks that apply ``measure`` to the output of every ReLU call of ``model``.
    After a forward pass, :meth:`values` maps each site of that pass to its measurement,
    input to output (each pass starts afresh)."""

    def __init__(self, model: nn.Module, measure: Callable[[torch.Tensor], object]):
        modules = {m: name for name, m in model.named_modules() if isinstance(m, nn.ReLU)}
        if not modules:
            raise ValueError("the network has no nn.ReLU modules to measure")
        self.measure = measure
        self.calls: list[tuple[str, object]] = []
        # hooks are bound methods, not closures, so that a network with them pickles
        # (a checkpoint holds continual backprop's network)
        self.handles = [model.register_forward_pre_hook(self._start)]
        self.handles += [
            m.register_forward_hook(functools.partial(self._record, name))
            for m, name in modules.items()
        ]

    def _start(self, *_) -> None:
        self.calls.clear()

    def _record(self, name: str, _module, _inputs, output) -> None:
        self.calls.append((name, self.measure(output.detach())))

    def values(self) -> dict[str, object]:
        counts = Counter(name for name, _ in self.calls)
        seen: Counter = Counter()
        named = {}
        for name, value in self.calls:
            seen[name] += 1
            named[f"{name}#{seen[name]}" if counts[name] > 1 else name] = value
        return named

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def by_unit(h: torch.Tensor) -> torch.Tensor:
    """One seed's activations (B, units, ...) as (units, B x positions)."""
    return h.transpose(0, 1).reshape(h.shape[1], -1)
