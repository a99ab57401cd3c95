"""Checkers for notebooks 05 (loss of plasticity) and 06 (remedies)."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..plasticity.continual_backprop import _mean_magnitude, outgoing_size, running_utility
from ..plasticity.diagnostics import dormant_units, effective_rank
from . import as_number, as_whole_number, not_answered
from .der import as_tensor, attempt

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


def check_dormant_function(my_dormant_units) -> bool:
    """Exercise 2 (05): ``my_dormant_units(h, threshold)`` -> a boolean mask of the dormant
    units of ReLU outputs ``h`` (inputs, units), checked against the package's
    :func:`~cl_teach.plasticity.diagnostics.dormant_units` on fresh activations."""
    if not_answered(my_dormant_units):
        return False
    g = torch.Generator().manual_seed(5)
    for inputs, units, threshold in ((200, 8, 0.01), (1000, 32, 0.01), (300, 16, 0.05)):
        h = torch.relu(torch.randn(inputs, units, generator=g) - 1.5)  # active on ~7%
        h[:, :3] = 0.0  # unit 0 never active
        h[: int(threshold * inputs) - 1, 1] = 0.3  # active just under the threshold
        h[: int(threshold * inputs) + 1, 2] = 0.3  # just over it
        truth = dormant_units(h, threshold)
        ok, mine = attempt(my_dormant_units, h.clone(), threshold)
        if not ok or (mine := as_tensor(mine, truth)) is None:
            return False
        if not torch.equal(mine.bool(), truth):
            unit = int((mine.bool() != truth).nonzero()[0])
            active = float((h[:, unit] > 0).float().mean())
            print(
                f"Not quite: unit {unit} is active on {active:.1%} of the {inputs} inputs, so "
                f"it is {'' if truth[unit] else 'not '}dormant at threshold {threshold:g}. "
                "Hint: (h > 0).float().mean(0) < threshold."
            )
            return False
    print(
        "Correct: a unit is dormant when it is active (h > 0) on less than the threshold's "
        "fraction of the inputs; a dormant unit passes almost no gradient back to its weights."
    )
    return True


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


def check_utility_function(my_utility) -> bool:
    """Exercise 3 (06): ``my_utility(u, h, w_out, eta)`` -> the units' contribution utility
    after one step (u: (units,), h: the step's activations (batch, units), w_out: the
    outgoing weights (outputs, units)), checked against the package's
    :func:`~cl_teach.plasticity.continual_backprop.running_utility` on fresh inputs."""
    if not_answered(my_utility):
        return False
    g = torch.Generator().manual_seed(6)
    for batch, units, outputs, eta in ((64, 8, 10, 0.99), (1, 5, 1, 0.9), (32, 16, 4, 0.0)):
        u = torch.rand(units, generator=g)
        h = torch.relu(torch.randn(batch, units, generator=g))
        w_out = torch.randn(outputs, units, generator=g)
        truth = running_utility(u[None], _mean_magnitude(h[None]), outgoing_size(w_out[None]), eta)[
            0
        ]
        ok, mine = attempt(my_utility, u.clone(), h.clone(), w_out.clone(), eta)
        if not ok or (mine := as_tensor(mine, truth)) is None:
            return False
        if not torch.allclose(mine.float(), truth, rtol=1e-5, atol=1e-6):
            print(
                f"Not quite (batch {batch}, eta {eta:g}). Hint: the contribution of unit i is "
                "the batch mean of |h_i| times the sum over outputs of |w_out[k, i]|; the "
                "utility moves a fraction 1 - eta of the way towards it."
            )
            return False
    print(
        "Correct: a unit's utility is a running average of how much it passes on to the next "
        "layer; a dormant unit's falls towards zero, and the lowest mature ones are replaced."
    )
    return True
