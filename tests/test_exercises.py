"""Every checker answers the placeholder ``None`` with a hint instead of an error, and
knows a right answer from a wrong one."""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import cl_teach.exercises as exercises
from cl_teach.exercises.forgetting import check_forgetting_function, check_scenario_tasks
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
