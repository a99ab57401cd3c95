"""Checkers for notebook 03 (DER, Dynamically Expandable Representation)."""

from __future__ import annotations

import numpy as np
import torch

from ..layers import Linear
from ..methods.der import aux_targets
from ..methods.expandable import weight_align
from ..models import count_parameters, resnet32
from . import as_number, as_whole_number, fresh_generator, not_answered


def attempt(fn, *args):
    """``fn(*args)`` for a student's function: (True, result), or (False, None) with a
    message when ``fn`` is not a function or raises."""
    if not callable(fn):
        print(f"Please answer with a function (def ...); {fn!r:.40} is not one.")
        return False, None
    try:
        return True, fn(*args)
    except Exception as err:  # the student's code: report, never raise
        print(f"Your function raised {type(err).__name__}: {err}")
        return False, None


def as_tensor(value, like: torch.Tensor) -> torch.Tensor | None:
    """``value`` as a tensor of ``like``'s shape, or None (with a hint)."""
    try:
        value = torch.as_tensor(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        value = None
    if value is None or value.shape != like.shape:
        shape = "nothing usable" if value is None else tuple(value.shape)
        print(f"Not quite: expected a tensor of shape {tuple(like.shape)}, got {shape}.")
        return None
    return value


def check_der_parameters(answer) -> bool:
    """Exercise 1: parameters of DER's backbones after CIFAR-100 B0Inc10 with ResNet-32."""
    if not_answered(answer) or (value := as_whole_number(answer)) is None:
        return False
    one = count_parameters(resnet32())
    truth = 10 * one
    if value == truth:
        print(
            f"Correct: 10 x {one:,} = {truth:,}. DER's model grows linearly with the number "
            "of tasks; after 10 tasks it is ten networks."
        )
        return True
    hint = "That is one backbone." if value == one else "Count the backbones: one per task."
    print(f"Not quite ({value:,}). One ResNet-32 has {one:,} parameters. {hint}")
    return False


def check_no_exemplars(prediction, runs) -> bool:
    """Exercise 2 (predict, then run): DER's final accuracy without exemplars."""
    if not_answered(prediction) or (value := as_number(prediction)) is None:
        return False
    truth = float(np.mean([r.final_accuracy for r in runs]))
    close = abs(value - truth) <= 0.1
    print(
        f"{'Close' if close else 'Not close'}: you predicted {value:.2f}; DER without exemplars "
        f"reached {truth:.2f} (mean of {len(runs)} seeds). The old backbones still compute "
        "exactly the features they did, but the classifier is trained on new classes only: "
        "the heatmap below shows which classes it still recognises."
    )
    return close


def check_aux_targets(my_aux_targets) -> bool:
    """Exercise 3: ``my_aux_targets(y, first_new)`` -> labels of the |new|+1 auxiliary head."""
    if not_answered(my_aux_targets):
        return False
    g = fresh_generator()
    for first_new, seen in ((2, 4), (4, 6), (50, 60)):
        y = torch.randint(0, seen, (64,), generator=g)
        truth = aux_targets(y, first_new)
        ok, mine = attempt(my_aux_targets, y.clone(), first_new)
        if not ok or (mine := as_tensor(mine, truth)) is None:
            return False
        if not torch.equal(mine.long(), truth):
            bad = int((mine.long() != truth).nonzero()[0])
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
    """Exercise 4: ``my_weight_align(W, n_new)`` -> W with the last ``n_new`` rows scaled by
    gamma = mean old row norm / mean new row norm; checked against the package's
    ``weight_align`` on new random classifiers at every call."""
    if not_answered(my_weight_align):
        return False
    g = fresh_generator()
    for n_old, n_new in ((4, 2), (50, 10), (9, 1)):
        fc = Linear(16, n_old + n_new, [g])
        with torch.no_grad():
            fc.weight[0, -n_new:] *= 1 + 3 * torch.rand(1, generator=g)  # new rows larger
        W = fc.weight[0].detach().clone()
        with torch.no_grad():
            weight_align(fc, n_new)
        truth = fc.weight[0].detach()
        ok, mine = attempt(my_weight_align, W.clone(), n_new)
        if not ok or (mine := as_tensor(mine, truth)) is None:
            return False
        if not torch.allclose(mine.float(), truth, atol=1e-5):
            print(
                "Not quite. Hint: take each row's L2 norm; gamma = mean of the old rows' norms "
                "/ mean of the new rows' norms; multiply only the new rows by gamma."
            )
            return False
    print(
        "Correct, on new random classifiers, against the package's weight_align: after "
        "aligning, new and old rows have the same mean norm, so neither group of classes is "
        "favoured by the size of its classifier weights."
    )
    return True
