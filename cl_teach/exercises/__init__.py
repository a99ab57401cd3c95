"""Checker functions for the notebooks' exercises: feedback, not grades.

A checker never raises on what a student may type: ``None`` (not answered yet), a
string like ``"4,635,040"``, a float where a whole number is asked, a single number
where a list is asked. It says what is wrong and returns False; a near-miss (33.3 for
33) is wrong.
"""

from __future__ import annotations

import numbers
import os

import torch


def fresh_generator() -> torch.Generator:
    """A generator seeded anew at every call: a checker tests a student's function on
    inputs nobody has seen, so no printed answer can pass it."""
    return torch.Generator().manual_seed(int.from_bytes(os.urandom(6), "little"))


def not_answered(answer) -> bool:
    """True (and a hint) while the student's answer is still the placeholder ``None``."""
    if answer is None:
        print("Not answered yet: replace None with your answer and run the cell again.")
        return True
    return False


def as_number(answer) -> float | None:
    """A number from a number or a string such as ``"4,635,040"``; None (with a hint)
    for anything else."""
    if isinstance(answer, bool):
        answer = None
    elif isinstance(answer, torch.Tensor) and answer.numel() == 1:
        return float(answer.detach())
    elif isinstance(answer, str):
        try:
            return float(answer.replace(",", "").replace("_", "").strip())
        except ValueError:
            answer = None
    elif isinstance(answer, numbers.Real):
        return float(answer)
    print("Please answer with a number (for example 0.25 or 4635040).")
    return None


def as_whole_number(answer) -> int | None:
    """A whole number (``12``, ``12.0``, ``"1,312"``); None (with a hint) for 33.3 or text."""
    value = as_number(answer)
    if value is None:
        return None
    if value != int(value):
        print(f"{value:g} is not a whole number: count whole items (exemplars, tasks, units).")
        return None
    return int(value)


def as_whole_numbers(answer) -> list[int] | None:
    """A list of whole numbers (a single number counts as a list of one)."""
    items = answer if isinstance(answer, list | tuple | set) else [answer]
    values = [as_whole_number(a) for a in items]
    return None if any(v is None for v in values) else sorted(values)


def run_student_code(fn, *args):
    """Call the student's function; on an error, say which and return None."""
    if not callable(fn):
        print("Please define a function (def ...) and pass it, not a value.")
        return None
    try:
        return fn(*args)
    except Exception as err:  # the student's code may fail in any way
        print(f"Your function raised {type(err).__name__}: {err}")
        return None
