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


def _cbp_runs(per_task):
    return [{"units_replaced_per_task": per_task} for _ in range(2)]


def _small_step(bp, fresh):
    def run(acc):
        return {"last_fifth_accuracy": acc, "config": {"lr": 0.01}}

    return {"bp": [run(bp)], "retrain": [run(fresh)]}


def test_plasticity_checkers_right_wrong_type_and_format(capsys):
    from cl_teach.exercises import plasticity as ex

    smaller = _small_step(0.86, 0.54)
    assert ex.check_step_prediction("bp", smaller) and ex.check_step_prediction(
        " Backprop ", smaller
    )
    assert not ex.check_step_prediction("fresh", smaller)
    assert not ex.check_step_prediction(0.86, smaller) and not ex.check_step_prediction(
        "both", smaller
    )
    assert ex.check_step_prediction("fresh", _small_step(0.5, 0.9))

    assert ex.check_dormant_units([1, 3]) and ex.check_dormant_units((3.0, 1))
    assert not ex.check_dormant_units([1]) and not ex.check_dormant_units([1, 3, 4])
    assert not ex.check_dormant_units("1, 3") and not ex.check_dormant_units([1.5, 3])

    assert ex.check_effective_rank(2.83) and ex.check_effective_rank("2.83")
    assert not ex.check_effective_rank(2.8) and not ex.check_effective_rank(2.82)
    assert not ex.check_effective_rank("about three") and not ex.check_effective_rank([2.83])

    bp = {"new_task_accuracy": [0.9, 0.9, 0.7, 0.5]}
    fresh = {"new_task_accuracy": [0.9, 0.9, 0.9, 0.9]}
    assert ex.check_first_gap(3, bp, fresh) and ex.check_first_gap("3", bp, fresh)
    assert not ex.check_first_gap(4, bp, fresh) and not ex.check_first_gap(3.5, bp, fresh)
    assert not ex.check_first_gap("third", bp, fresh)
    assert ex.check_first_gap(0, fresh, fresh)

    cbp = _cbp_runs([24, 26])  # 25 per task
    assert ex.check_units_prediction(33, cbp) and ex.check_units_prediction("25.0", cbp)
    assert not ex.check_units_prediction(36, cbp) and not ex.check_units_prediction(3, cbp)
    assert not ex.check_units_prediction("many", cbp)

    assert ex.check_next_unit(3) and ex.check_next_unit("3") and ex.check_next_unit(3.0)
    assert not ex.check_next_unit(2) and not ex.check_next_unit(5)
    assert not ex.check_next_unit(3.5) and not ex.check_next_unit("unit three")

    assert ex.check_zero_outgoing("b") and ex.check_zero_outgoing(" (B) ")
    assert not ex.check_zero_outgoing("a") and not ex.check_zero_outgoing("c")
    assert not ex.check_zero_outgoing(2) and not ex.check_zero_outgoing("bc")
    out = capsys.readouterr().out
    assert "Please answer" in out and "Not quite" in out
