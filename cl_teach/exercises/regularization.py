"""Checkers for notebook 02a (regularization: the classifier's bias, EWC)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

from ..layers import Linear
from ..lessons.regularization import norm_ratio
from ..methods.ewc import EWC
from . import as_number, fresh_generator, not_answered, run_student_code


def check_norm_ratio(my_norm_ratio, runs) -> bool:
    """Exercise 1: ``my_norm_ratio(result)``: the mean norm of the newest classes' classifier
    rows after the last task, divided by the mean norm of the older classes' rows."""
    if not_answered(my_norm_ratio):
        return False
    if not callable(my_norm_ratio):
        print("Please define a function: def my_norm_ratio(result): ... and pass it.")
        return False
    for r in runs:
        try:
            mine = as_number(my_norm_ratio(r))
        except Exception as err:  # the student's code failed: say how, do not raise
            print(f"Your function raised {type(err).__name__}: {err}")
            return False
        if mine is None:
            return False
        truth = norm_ratio(r)
        if not np.isclose(mine, truth, rtol=1e-6):
            print(
                f"Not quite: for seed {r.seed} you give {mine:.4f}, expected {truth:.4f}. Hint: "
                "take the last row of r.classifier_norms, keep the classes seen "
                "(sum(r.classes_per_task)), split off the last r.classes_per_task[-1] of them, "
                "and divide the two means."
            )
            return False
    print(
        f"Correct: {truth:.2f} for seed {r.seed}. Above 1, the newest classes' rows are longer: "
        "their logits start ahead for every image."
    )
    return True


def check_ewc_prediction(prediction, results) -> bool:
    """Exercise 2 (predict, then run): EWC's class-incremental final accuracy."""
    if not_answered(prediction) or (value := as_number(prediction)) is None:
        return False
    ewc, ft = results["class"]["ewc"], results["class"]["finetune"]
    truth = float(np.mean([r.final_accuracy for r in ewc]))
    ft_mean = float(np.mean([r.final_accuracy for r in ft]))
    verdict = "Close" if abs(value - truth) <= 0.1 else "Not close"
    print(
        f"{verdict}: you predicted {value:.2f}; EWC reached {truth:.2f} class-incrementally "
        f"(fine-tuning {ft_mean:.2f}; mean of {len(ewc)} seeds). Now compare the two methods "
        "task-incrementally, against chance (the figure)."
    )
    return verdict == "Close"


def check_ewc_penalty(my_ewc_penalty) -> bool:
    """Exercise 3: ``my_ewc_penalty(params, anchor, fisher)`` -> the sum over parameters of
    F_i (theta_i - theta*_i)^2, each argument a dict of tensors by name; a new parameter
    (a grown classifier) is compared on the part that existed at the anchor. Checked
    against the package's ``EWC.penalty`` on new random networks at every call."""
    if not_answered(my_ewc_penalty):
        return False
    g = fresh_generator()
    for old_rows, new_rows in ((4, 2), (6, 0), (3, 5)):
        net = torch.nn.Module()
        net.body = Linear(5, 7, [g])
        net.fc = Linear(7, old_rows + new_rows, [g])
        params = {n: p.detach()[0] for n, p in net.named_parameters()}
        anchor = {n: p + 0.3 * torch.randn(p.shape, generator=g) for n, p in params.items()}
        for n in ("fc.weight", "fc.bias"):  # the rows added since the anchor have none
            anchor[n] = anchor[n][:old_rows]
        fisher = {n: torch.rand(a.shape, generator=g) for n, a in anchor.items()}
        ewc = SimpleNamespace(model=net, fisher={n: f[None] for n, f in fisher.items()},
                              anchor={n: a[None] for n, a in anchor.items()})  # fmt: skip
        with torch.no_grad():
            truth = float(EWC.penalty(ewc)[0])
        mine = as_number(run_student_code(my_ewc_penalty, params, anchor, fisher))
        if mine is None:
            return False
        if not np.isclose(mine, truth, rtol=1e-5):
            print(
                f"Not quite: {mine:.4f}, expected {truth:.4f}. Hint: for each name, take the "
                "part of the parameter that existed at the anchor (the anchor's shape: "
                "p[: len(anchor)] for the classifier), then sum fisher * (p - anchor) ** 2."
            )
            return False
    print(
        "Correct, on new random networks, against the package's EWC.penalty: each parameter "
        "pays for its distance from the anchor, weighted by how much it mattered (its "
        "Fisher); the rows of new classes pay nothing."
    )
    return True
