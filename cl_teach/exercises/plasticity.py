"""Checkers for notebooks 05 (loss of plasticity) and 06 (remedies)."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..plasticity.diagnostics import dormant_units, effective_rank
from . import as_number, as_whole_number, as_whole_numbers, not_answered

# --- notebook 05 ---------------------------------------------------------------------------


def _which(answer) -> str | None:
    """ "bp" or "fresh" from what a student may type; None (with a hint) otherwise."""
    words = {"bp": "bp", "backprop": "bp", "backpropagation": "bp", "fresh": "fresh",
             "retrain": "fresh", "fresh network": "fresh", "a fresh network": "fresh"}  # fmt: skip
    key = str(answer).strip().strip("'\"").lower() if isinstance(answer, str) else None
    if key not in words:
        print('Please answer "bp" or "fresh".')
        return None
    return words[key]


def check_step_prediction(prediction, smaller: dict) -> bool:
    """Exercise 1 (05, predict, then run): at the smaller step, which learns the last fifth
    of the tasks better, backprop ("bp") or a fresh network ("fresh")?"""
    if not_answered(prediction) or (mine := _which(prediction)) is None:
        return False
    bp = [r["last_fifth_accuracy"] for r in smaller["bp"]]
    fresh = [r["last_fifth_accuracy"] for r in smaller["retrain"]]
    truth = "bp" if np.mean(bp) > np.mean(fresh) else "fresh"
    lr = smaller["bp"][0]["config"]["lr"]
    print(
        f"{'Right' if mine == truth else 'Not this time'}: at lr {lr:g}, backprop "
        f"{np.mean(bp):.2f} and a fresh network {np.mean(fresh):.2f} on the last fifth (mean of "
        f"{len(bp)} seeds). A fresh network gets the same few epochs per task as backprop; "
        "at a small step that is too little to learn a task from scratch, while backprop "
        "starts each task from weights already trained on the earlier ones."
    )
    return mine == truth


def exercise_activations() -> torch.Tensor:
    """ReLU outputs of 5 units on 200 probe inputs, for exercise 2 of notebook 05."""
    g = torch.Generator().manual_seed(5)
    h = torch.relu(torch.randn(200, 5, generator=g))
    h[:, 1] = 0.0  # never active
    h[:, 3] = 0.0
    h[7, 3] = 0.4  # active on one input of 200 (0.5%)
    h[:, 4] = torch.where(torch.arange(200) < 3, 1.0, 0.0)  # 3 of 200 (1.5%)
    return h


def check_dormant_units(answer) -> bool:
    """Exercise 2 (05): the indices of the dormant units of ``exercise_activations()``."""
    if not_answered(answer) or (mine := as_whole_numbers(answer)) is None:
        return False
    truth = sorted(torch.nonzero(dormant_units(exercise_activations())).flatten().tolist())
    if mine == truth:
        print(
            f"Correct: units {truth}. Unit 3 fires on 1 input of 200 (0.5% < 1%): dormant "
            "although not strictly dead. Unit 4 fires on 1.5%: alive, if barely."
        )
        return True
    print(
        f"Not quite ({mine}). For each unit count the inputs where it is > 0, divide by 200 "
        "and compare with 1%: (h > 0).float().mean(0)."
    )
    return False


def check_effective_rank(answer) -> bool:
    """Exercise 3 (05): effective rank of a representation with singular values 4, 2, 2, 0."""
    if not_answered(answer) or (value := as_number(answer)) is None:
        return False
    truth = effective_rank(torch.diag(torch.tensor([4.0, 2.0, 2.0, 0.0])))
    if math.isclose(value, truth, abs_tol=0.006):
        print(
            f"Correct: p = (0.5, 0.25, 0.25), entropy = 1.04 nats, exp = {truth:.3f}. Between 2 "
            "and 3: three directions are used, but not equally."
        )
        return True
    print(
        f"Not quite ({value:.3f}). Normalise the singular values to sum to 1 (p_k), "
        "take H = -sum p_k log p_k (natural log, skip zeros), answer exp(H) to two decimals."
    )
    return False


def check_first_gap(answer, bp: dict, fresh: dict) -> bool:
    """Exercise 4 (05): the first task at which backprop's new-task accuracy is at least 0.10
    below the fresh network's, in one seed's runs ``bp`` and ``fresh``."""
    if not_answered(answer) or (task := as_whole_number(answer)) is None:
        return False
    pairs = zip(bp["new_task_accuracy"], fresh["new_task_accuracy"], strict=True)
    gaps = [t + 1 for t, (a, b) in enumerate(pairs) if a <= b - 0.10]
    truth = gaps[0] if gaps else 0
    if task == truth:
        print(
            f"Correct: task {truth}."
            if gaps
            else "Correct: in this run backprop never falls 0.10 below the fresh network."
        )
        return True
    print(
        f"Not quite (task {task}). Compare bp['new_task_accuracy'] with "
        "fresh['new_task_accuracy'] task by task (tasks count from 1; answer 0 if never)."
    )
    return False


# --- notebook 06 ---------------------------------------------------------------------------


def check_units_prediction(prediction, cbp: list[dict]) -> bool:
    """Exercise 1 (06, predict, then run): units continual backprop replaces per task, all
    layers together, against the runs ``cbp`` (close: within 40% of the measured mean)."""
    if not_answered(prediction) or (value := as_number(prediction)) is None:
        return False
    measured = float(np.mean([r["units_replaced_per_task"] for r in cbp]))
    close = measured > 0 and abs(value - measured) <= 0.4 * measured
    print(
        f"{'Close' if close else 'Not close'}: you predicted {value:g}; continual backprop "
        f"replaced {measured:.1f} units per task (mean over tasks and {len(cbp)} seeds). "
        "Rate x units x steps per task counts every unit as mature; a unit is immune for its "
        "first `maturity` steps, so a little fewer go, and fewer still in the first task."
    )
    return close


#: the table of exercise 2 (06): unit -> (raw utility u, age in steps)
UTILITY_TABLE = {
    0: (0.030, 900),
    1: (0.0010, 40),
    2: (0.020, 150),
    3: (0.024, 1000),
    4: (0.050, 300),
    5: (0.0005, 99),
}


def check_next_unit(answer, eta: float = 0.99, maturity: int = 100) -> bool:
    """Exercise 2 (06): which unit of ``UTILITY_TABLE`` is replaced next?"""
    if not_answered(answer) or (unit := as_whole_number(answer)) is None:
        return False
    corrected = {
        unit: u / (1 - eta**age) for unit, (u, age) in UTILITY_TABLE.items() if age > maturity
    }
    truth = min(corrected, key=corrected.get)
    if unit == truth:
        print(
            f"Correct: unit {truth}. Units 1 and 5 have the smallest raw utility but are not "
            f"mature yet (age <= {maturity}): immune. Among the mature ones the bias correction "
            "u / (1 - eta^age) raises young unit 2 (age 150) to "
            f"{corrected[2]:.4f}, above unit 3's {corrected[3]:.4f}."
        )
        return True
    hints = {
        1: "unit 1 is only 40 steps old",
        5: "unit 5 is 99 steps old: not mature",
        2: "correct the utility for age: u / (1 - 0.99^age)",
    }
    print(f"Not quite (unit {unit}): {hints.get(unit, 'compare the corrected u')}.")
    return False


def check_zero_outgoing(answer) -> bool:
    """Exercise 3 (06): why are a new unit's outgoing weights set to zero?"""
    if not_answered(answer):
        return False
    letter = str(answer).strip().strip("()'\" .").lower()
    if letter not in ("a", "b", "c"):
        print('Please answer with one letter: "a", "b" or "c".')
        return False
    if letter == "b":
        print(
            "Correct: with zero outgoing weights the new unit adds nothing to the output, so "
            "what the network has learnt is not disturbed; its input weights are fresh, so it "
            "gets gradient and can grow into a useful feature."
        )
        return True
    print(
        "Not quite. Think about what the output is right after the replacement, and which "
        "weights get gradient at the next step (the outgoing ones do: dL/dw_out = h * delta)."
    )
    return False
