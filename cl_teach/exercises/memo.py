"""Checkers for notebook 04 (MEMO: a model or 603 exemplars)."""

from __future__ import annotations

import numpy as np
import torch

from ..equal_memory import MemoryConfig, memory_table
from ..similarity import linear_cka
from . import as_whole_number, not_answered
from .der import attempt

METHODS = ("MEMO", "DER", "replay")


#: fresh settings for the exemplar-count exercise: (dataset, scenario, backbone, split, budget)
EXEMPLAR_CASES = (
    ("cifar100", "B0Inc20", "resnet32", None, 2000),
    ("cifar100", "B50Inc10", "resnet32", 1, 1000),
    ("imagenet100", "B0Inc10", "resnet18", None, 2000),
    ("digits", "B4Inc2", "cnn_narrow", None, 10),
    ("cifar10", "B0Inc2", "resnet32", 2, 500),
)


def check_memo_exemplars(my_memo_exemplars) -> bool:
    """Exercise 5: ``my_memo_exemplars(tasks, generalized, specialized, budget,
    image_bytes)``: the exemplars MEMO keeps at DER's total memory (backbones counted, as
    the paper counts them), run on fresh settings against ``memory_table``."""
    if not_answered(my_memo_exemplars):
        return False
    for dataset, scenario, backbone, split, budget in EXEMPLAR_CASES:
        t = memory_table(MemoryConfig(dataset, scenario, backbone, budget, split))
        given = (t["tasks"], t["generalized_parameters"], t["specialized_parameters"], budget,
                 t["image_bytes"])  # fmt: skip
        ok, mine = attempt(my_memo_exemplars, *given)
        if not ok or not_answered(mine):
            return False
        value = as_whole_number(int(mine) if isinstance(mine, torch.Tensor) else mine)
        if value is None:
            return False
        if value != t["memo_exemplars"]:
            print(
                f"Not quite on {dataset} {scenario} ({t['backbone']}, {t['tasks']} tasks, "
                f"{t['generalized_parameters']:,} generalized + {t['specialized_parameters']:,} "
                f"specialized parameters, DER budget {budget}): you give {value:,}, expected "
                f"{t['memo_exemplars']:,}. Hint: DER keeps tasks x (generalized + specialized) "
                "parameters, MEMO generalized + tasks x specialized; the difference x 4 bytes, "
                "divided by an image's bytes (whole images), comes on top of DER's budget."
            )
            return False
    print(
        "Correct on every setting: MEMO saves (tasks - 1) x generalized parameters, and at 4 "
        "bytes each they buy whole images on top of DER's budget. On CIFAR-100 B0Inc10 that "
        "is the paper's 3312."
    )
    return True


def check_lowest(prediction, results: dict) -> bool:
    """Exercise 1 (predict, then run): which of "MEMO", "DER", "replay" ends lowest at the
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
    """Exercise 6: ``my_cka(X, Y)``: linear CKA of two feature matrices (n x p, n x q)."""
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
