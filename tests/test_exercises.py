"""Every checker answers the placeholder ``None`` with a hint instead of an error, and
knows a right answer from a wrong one."""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import cl_teach.exercises as exercises
from cl_teach.exercises.forgetting import check_forgetting_function
from cl_teach.exercises.start import check_scenario_tasks, check_task_sizes
from cl_teach.metrics import forgetting

CHECKERS = [
    (module.name, name, fn)
    for module in pkgutil.iter_modules(exercises.__path__)
    for name, fn in inspect.getmembers(
        importlib.import_module(f"cl_teach.exercises.{module.name}"), inspect.isfunction
    )
    if name.startswith("check_")
]


@pytest.mark.parametrize("module,name,fn", CHECKERS, ids=[f"{m}.{n}" for m, n, _ in CHECKERS])
def test_placeholder_gets_a_hint(module, name, fn, capsys):
    others = [None] * (len(inspect.signature(fn).parameters) - 1)
    assert fn(None, *others) is False
    assert "Not answered yet" in capsys.readouterr().out


def test_checkers_tell_right_from_wrong(capsys):
    assert check_scenario_tasks(6) and not check_scenario_tasks(5)
    assert check_forgetting_function(forgetting)
    assert not check_forgetting_function(lambda R: float(np.nanmean(R)))
    assert "Not quite" in capsys.readouterr().out


def test_start_checkers_take_formatted_numbers_and_reject_near_misses(capsys):
    assert check_scenario_tasks("6") and check_scenario_tasks(6.0)
    assert not check_scenario_tasks(6.5) and not check_scenario_tasks("six")
    from cl_teach.data import parse_scenario

    assert check_task_sizes(parse_scenario)
    assert not check_task_sizes(lambda s, n: [2] * 5)
    assert not check_task_sizes(lambda s, n: 1 / 0)  # the student's error is reported
    assert not check_task_sizes(42)
    assert "raised ZeroDivisionError" in capsys.readouterr().out


ONE_ARGUMENT = [(m, n, fn) for m, n, fn in CHECKERS if len(inspect.signature(fn).parameters) == 1]


@pytest.mark.parametrize("bad", ["abc", "4,635,040", 33.3, [1, "x"], {"a": 1}, lambda *a: 1 / 0])
@pytest.mark.parametrize(
    "module,name,fn", ONE_ARGUMENT, ids=[f"{m}.{n}" for m, n, _ in ONE_ARGUMENT]
)
def test_checkers_never_raise_on_what_a_student_may_type(module, name, fn, bad):
    assert fn(bad) in (True, False)
