"""Checkers for notebook 00 (start here)."""

from __future__ import annotations

from ..data import parse_scenario
from . import as_whole_number, not_answered, run_student_code


def check_scenario_tasks(answer) -> bool:
    """Exercise 1 (predict): how many tasks does CIFAR-100 B50Inc10 have?"""
    if not_answered(answer) or (tasks := as_whole_number(answer)) is None:
        return False
    if tasks == 6:
        print("Correct: one task of 50 classes, then 5 tasks of 10.")
        return True
    print(
        f"Not quite ({tasks}): B50 means a first task of 50 classes; Inc10 adds 10 classes "
        "per later task, until all 100 are seen."
    )
    return False


CASES = [("B0Inc2", 10), ("B50Inc10", 100), ("B5Inc1", 10), ("B0Inc10", 100), ("B40Inc20", 100)]


def check_task_sizes(my_task_sizes) -> bool:
    """Exercise 2: ``my_task_sizes(scenario, num_classes)`` -> the classes of each task."""
    if not_answered(my_task_sizes):
        return False
    for scenario, classes in CASES:
        mine, truth = (
            run_student_code(my_task_sizes, scenario, classes),
            parse_scenario(scenario, classes),
        )
        if mine is None:
            return False
        if list(mine) != truth:
            print(
                f"Not quite: for {scenario} on {classes} classes you give {mine}, expected "
                f"{truth}. Hint: B0 means no separate first task: every task then has Inc classes."
            )
            return False
    print("Correct: a first task of B classes (if B > 0), then tasks of Inc classes.")
    return True
