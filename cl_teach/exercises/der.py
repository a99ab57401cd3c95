"""Checkers for notebook 03 (DER, Dynamically Expandable Representation)."""

from __future__ import annotations

import torch
from torch import nn

from ..methods.der import aux_targets
from ..methods.expandable import weight_align
from ..models import count_parameters, resnet32
from . import not_answered


def check_der_parameters(answer) -> bool:
    """Exercise 1: parameters of DER's backbones after CIFAR-100 B0Inc10 with ResNet-32."""
    if not_answered(answer):
        return False
    one = count_parameters(resnet32())
    truth = 10 * one
    if int(answer) == truth:
        print(
            f"Correct: 10 x {one:,} = {truth:,}. DER's model grows linearly with the number "
            "of tasks; after 10 tasks it is ten networks."
        )
        return True
    hint = "Count the backbones: one per task." if int(answer) != one else "That is one backbone."
    print(f"Not quite ({int(answer):,}). One ResNet-32 has {one:,} parameters. {hint}")
    return False


def check_aux_targets(my_aux_targets) -> bool:
    """Exercise 2: ``my_aux_targets(y, first_new)`` -> labels of the |new|+1 auxiliary head."""
    if not_answered(my_aux_targets):
        return False
    g = torch.Generator().manual_seed(0)
    for first_new, seen in ((2, 4), (4, 6), (50, 60)):
        y = torch.randint(0, seen, (64,), generator=g)
        mine = torch.as_tensor(my_aux_targets(y.clone(), first_new))
        truth = aux_targets(y, first_new)
        if mine.shape != truth.shape or not torch.equal(mine.long(), truth):
            bad = int((mine.long() != truth).nonzero()[0]) if mine.shape == truth.shape else 0
            print(
                f"Not quite: with new classes from {first_new}, label {int(y[bad])} should map "
                f"to {int(truth[bad])}. Hint: every old class -> 0, new class c -> "
                "c - first_new + 1."
            )
            return False
    print(
        "Correct: the auxiliary head sees one 'old' label and the new classes, so the newest "
        "backbone must learn features that tell the new classes apart from everything old."
    )
    return True


def check_weight_align(my_weight_align) -> bool:
    """Exercise 3: ``my_weight_align(W, n_new)`` -> W with the last ``n_new`` rows scaled by
    gamma = mean old row norm / mean new row norm."""
    if not_answered(my_weight_align):
        return False
    g = torch.Generator().manual_seed(1)
    for n_old, n_new in ((4, 2), (50, 10)):
        W = torch.randn(n_old + n_new, 16, generator=g)
        W[-n_new:] *= 3.0  # new rows larger, as after training on mostly new data
        fc = nn.Linear(16, n_old + n_new)
        with torch.no_grad():
            fc.weight.copy_(W)
        weight_align(fc, n_new)
        mine = torch.as_tensor(my_weight_align(W.clone(), n_new), dtype=torch.float32)
        if mine.shape != W.shape or not torch.allclose(mine, fc.weight, atol=1e-5):
            print(
                "Not quite. Hint: norms = W.norm(dim=1); gamma = norms[:-n_new].mean() / "
                "norms[-n_new:].mean(); scale only the new rows by gamma, keep the old ones."
            )
            return False
    print(
        "Correct: after aligning, new and old rows have the same mean norm, so neither group "
        "of classes is favoured by the size of its classifier weights."
    )
    return True
