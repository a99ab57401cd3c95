"""Checkers for notebook 01 (catastrophic forgetting)."""

from __future__ import annotations

import numpy as np

from ..metrics import forgetting
from . import as_number, as_whole_numbers, not_answered, run_student_code


def check_forgetting_function(my_forgetting) -> bool:
    """Exercise 2: your ``my_forgetting(R)`` against Chaudhry et al.'s definition on random
    accuracy matrices."""
    if not_answered(my_forgetting):
        return False
    rng = np.random.default_rng()  # new matrices at every call
    for T in (2, 3, 5):
        R = np.tril(rng.uniform(size=(T, T)))
        R[np.triu_indices(T, 1)] = np.nan
        mine, ref = as_number(run_student_code(my_forgetting, R.copy())), forgetting(R)
        if mine is None:
            return False
        if not np.isclose(mine, ref):
            print(
                f"Not quite: for a {T}x{T} matrix you give {mine:.4f}, expected {ref:.4f}. "
                "Hint: for each old task j < T-1, take the best accuracy on j before the last "
                "task, subtract the final accuracy on j, then average over those tasks."
            )
            return False
    print(
        "Correct, on new random matrices: forgetting = mean over old tasks of (best earlier "
        "accuracy - final accuracy)."
    )
    return True


def check_prediction(prediction, runs) -> bool:
    """Exercise 1 (predict, then run): fine-tuning's final accuracy after the last task."""
    if not_answered(prediction) or (value := as_number(prediction)) is None:
        return False
    truth = float(np.mean([r.final_accuracy for r in runs]))
    tasks = len(runs[0].classes_per_task)
    verdict = "Close" if abs(value - truth) <= 0.1 else "Not close"
    print(
        f"{verdict}: you predicted {value:.2f}; fine-tuning reached {truth:.2f} (mean of "
        f"{len(runs)} seeds). With {tasks} equal tasks, a network that recognised only the last "
        f"one would score about 1/{tasks} = {1 / tasks:.2f}: compare."
    )
    return verdict == "Close"


def check_survivors(answer, result) -> bool:
    """Exercise 3: which original class labels does fine-tuning still recognise (accuracy
    above 0.5) after the last task?"""
    if not_answered(answer) or (digits := as_whole_numbers(answer)) is None:
        return False
    last = np.asarray(result.per_class_accuracy[-1], dtype=float)
    truth = sorted(result.class_order[c] for c in np.flatnonzero(last > 0.5))
    if digits == truth:
        print(
            f"Correct: only {truth} survive, the classes of the last task. The rest were "
            "overwritten even though nothing in the network was 'deleted'."
        )
        return True
    print(
        f"Not quite. Read the last row of the fine-tuning heatmap (labels on the x axis are "
        f"the original digits). You gave {digits}."
    )
    return False
