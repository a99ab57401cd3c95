"""Checkers for notebook 02a (regularization: the classifier's bias, EWC)."""

from __future__ import annotations

import numpy as np

from ..lessons.regularization import norm_ratio
from . import as_number, not_answered


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
        f"(fine-tuning {ft_mean:.2f}; mean of {len(ewc)} seeds). Compare the task-incremental "
        "numbers: the knowledge is there, the old classes just never win the softmax."
    )
    return verdict == "Close"


EWC_CHOICES = {
    "a": "EWC's Fisher is computed on too few samples.",
    "b": "The penalty keeps the weights that mattered for old tasks, but no loss term ever "
    "contrasts old classes against new ones, so the new classes' logits win.",
    "c": "EWC forgets the Fisher of earlier tasks.",
}


def check_ewc_failure(answer) -> bool:
    """Exercise 3: why does EWC help task-incremental but not class-incremental learning?"""
    if not_answered(answer):
        return False
    choice = str(answer).strip().lower().strip("()")
    if choice == "b":
        print(
            "Correct: with the task identity given, an old task's classes compete only among "
            "themselves, and EWC keeps their features. Without it, old and new classes compete "
            "in one softmax, and no loss term ever taught the network to separate them: the "
            "classifier's bias toward the newest classes decides."
        )
        return True
    why_not = {
        "a": "More samples would give a better Fisher, but the same failure: with the task "
        "identity given, EWC already works with this Fisher.",
        "c": "Here the Fisher of every task is kept (summed), and task-incremental accuracy "
        "shows the old tasks' knowledge is still there.",
    }
    print(f"Not quite ({answer!r}). {why_not.get(choice, 'Choose a, b or c.')}")
    return False
