"""Checkers for notebooks 05 (loss of plasticity) and 06 (continual backprop)."""

from __future__ import annotations

import math

import torch

from ..plasticity.diagnostics import dormant_units, effective_rank
from . import not_answered


def exercise_activations() -> torch.Tensor:
    """ReLU outputs of 5 units on 200 probe inputs, for exercise 1 of notebook 05."""
    g = torch.Generator().manual_seed(5)
    h = torch.relu(torch.randn(200, 5, generator=g))
    h[:, 1] = 0.0  # never active
    h[:, 3] = 0.0
    h[7, 3] = 0.4  # active on one input of 200 (0.5%)
    h[:, 4] = torch.where(torch.arange(200) < 3, 1.0, 0.0)  # 3 of 200 (1.5%)
    return h


def check_dormant_units(answer) -> bool:
    """Exercise 1 (05): the indices of the dormant units of ``exercise_activations()``."""
    if not_answered(answer):
        return False
    truth = sorted(torch.nonzero(dormant_units(exercise_activations())).flatten().tolist())
    mine = sorted(int(a) for a in answer)
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
    """Exercise 2 (05): effective rank of a representation with singular values 4, 2, 2, 0."""
    if not_answered(answer):
        return False
    truth = effective_rank(torch.diag(torch.tensor([4.0, 2.0, 2.0, 0.0])))
    if math.isclose(float(answer), truth, abs_tol=0.01):
        print(
            f"Correct: p = (0.5, 0.25, 0.25), entropy = 1.04 nats, exp = {truth:.3f}. Between 2 "
            "and 3: three directions are used, but not equally."
        )
        return True
    print(
        f"Not quite ({float(answer):.3f}). Normalise the singular values to sum to 1 (p_k), "
        "take H = -sum p_k log p_k (natural log, skip zeros), answer exp(H)."
    )
    return False


def check_first_gap(answer, runs: dict) -> bool:
    """Exercise 3 (05): the first task at which bp is at least 0.10 below retrain."""
    if not_answered(answer):
        return False
    bp, fresh = runs["bp"]["new_task_accuracy"], runs["retrain"]["new_task_accuracy"]
    gaps = [t + 1 for t, (a, b) in enumerate(zip(bp, fresh, strict=True)) if a <= b - 0.10]
    if not gaps:
        print("In this run backprop never falls 0.10 below the fresh network: answer 0.")
        return int(answer) == 0
    if int(answer) == gaps[0]:
        print(
            f"Correct: task {gaps[0]}. Before it, the continuing network still learns each "
            "task about as well as a fresh one, while its dormant units are already growing."
        )
        return True
    print(
        f"Not quite (task {int(answer)}). Compare runs['bp']['new_task_accuracy'] with "
        "runs['retrain']['new_task_accuracy'] task by task (tasks count from 1)."
    )
    return False


def _accumulated_replacements(rate: float, units: int, layers: int, steps: int) -> int:
    """Continual backprop's count with maturity 0: every unit is mature at every step."""
    total = 0
    for _ in range(layers):
        carry = 0.0
        for _ in range(steps):
            carry += rate * units
            total += int(carry)
            carry -= int(carry)
    return total


def check_replacement_count(answer) -> bool:
    """Exercise 1 (06): units replaced in 1000 steps, 3 layers x 32 units, rate 3e-3,
    maturity 0."""
    if not_answered(answer):
        return False
    truth = _accumulated_replacements(3e-3, 32, 3, 1000)
    if abs(int(answer) - truth) <= 3:
        print(
            f"Correct: 3e-3 x 32 = 0.096 units per layer per step, carried over until a whole "
            f"unit is due: about 96 per layer, {truth} in all. At the default (maturity 100) "
            "fewer are eligible, so fewer go."
        )
        return True
    print(
        f"Not quite ({int(answer)}). Each step a layer earns rate x (mature units) = "
        "3e-3 x 32 replacements; fractions carry over. Multiply by steps and layers."
    )
    return False


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
    if not_answered(answer):
        return False
    corrected = {
        unit: u / (1 - eta**age) for unit, (u, age) in UTILITY_TABLE.items() if age > maturity
    }
    truth = min(corrected, key=corrected.get)
    if int(answer) == truth:
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
    print(f"Not quite (unit {int(answer)}): {hints.get(int(answer), 'compare the corrected u')}.")
    return False


def check_zero_outgoing(answer) -> bool:
    """Exercise 3 (06): why are a new unit's outgoing weights set to zero?"""
    if not_answered(answer):
        return False
    if str(answer).strip().lower() == "b":
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
