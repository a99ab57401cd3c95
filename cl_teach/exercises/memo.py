"""Checkers for notebook 04 (MEMO: a model or 603 exemplars)."""

from __future__ import annotations

import numpy as np
import torch

from ..equal_memory import MemoryConfig, memory_table
from ..similarity import linear_cka
from . import as_whole_number, not_answered
from .der import attempt

METHODS = ("MEMO", "DER", "replay")


def check_memo_exemplars(answer) -> bool:
    """Exercise 1: MEMO's exemplars at DER's total memory for CIFAR-100 B0Inc20, ResNet-32,
    DER budget 2000."""
    if not_answered(answer) or (value := as_whole_number(answer)) is None:
        return False
    t = memory_table(MemoryConfig(scenario="B0Inc20"))
    if value == t["memo_exemplars"]:
        print(
            f"Correct: DER keeps {t['tasks']} backbones ({t['der_parameters']:,} parameters), MEMO "
            f"{t['memo_parameters']:,}; the difference buys {t['memo_exemplars'] - 2000:,} "
            f"exemplars, so {t['memo_exemplars']:,} in all."
        )
        return True
    print(
        f"Not quite ({value:,}). B0Inc20 has {t['tasks']} tasks. DER: tasks x 463,504; MEMO: "
        "112,016 + tasks x 351,488. Convert the difference to bytes (x 4), divide by 3072, "
        "keep whole images and add DER's 2000."
    )
    return False


def check_lowest(prediction, results: dict) -> bool:
    """Exercise 2 (predict, then run): which of "MEMO", "DER", "replay" ends lowest at the
    smaller memory (``results``: {method: runs} at that memory)?"""
    if not_answered(prediction):
        return False
    names = {m.lower(): m for m in METHODS}
    if str(prediction).strip().lower() not in names:
        print('Please answer with one of "MEMO", "DER" or "replay".')
        return False
    means = {m: float(np.mean([r.final_accuracy for r in results[m]])) for m in METHODS}
    lowest = min(means, key=means.get)
    said = names[str(prediction).strip().lower()]
    numbers = ", ".join(
        f"{m} {means[m]:.2f} ({results[m][0].extras['exemplars']} exemplars)" for m in METHODS
    )
    print(
        f"{'Right' if said == lowest else 'Not this time'}: {numbers}. At this memory DER's "
        "backbones leave it almost no exemplars, and without exemplars its classifier forgets "
        "(notebook 03); the others turned the bytes DER spends on backbones into images."
    )
    return said == lowest


def check_cka(my_cka) -> bool:
    """Exercise 3: ``my_cka(X, Y)``: linear CKA of two feature matrices (n x p, n x q)."""
    if not_answered(my_cka):
        return False
    g = torch.Generator().manual_seed(2)
    X = torch.randn(200, 12, generator=g)
    Q, _ = torch.linalg.qr(torch.randn(12, 12, generator=g))
    cases = {
        "random features": (X, torch.randn(200, 7, generator=g)),
        "related features": (X, X[:, :6] @ torch.randn(6, 9, generator=g)),
        "a rotation, scaled and shifted": (X, 3.0 * X @ Q + 5.0),
    }
    for name, (a, b) in cases.items():
        ok, mine = attempt(my_cka, a.clone(), b.clone())
        if not ok:
            return False
        try:
            mine = float(mine)
        except (TypeError, ValueError):
            print(f"Please return one number, not a {type(mine).__name__}.")
            return False
        truth = float(linear_cka(a, b))
        if not np.isclose(mine, truth, atol=1e-4):
            print(
                f"Not quite on {name}: you give {mine:.4f}, expected {truth:.4f}. Hint: centre "
                "each column first; then ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F)."
            )
            return False
    print(
        "Correct: CKA is 1 for a rotated, scaled and shifted copy of the same features and low "
        "for unrelated ones, so it compares what two blocks compute, not their weights."
    )
    return True
