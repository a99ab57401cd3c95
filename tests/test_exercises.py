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


# --- notebooks 03 (DER) and 04 (MEMO) --------------------------------------------------


def _runs(final: list[float], exemplars: int = 0, classes_per_task=(2,) * 5):
    from types import SimpleNamespace

    return [
        SimpleNamespace(
            final_accuracy=a,
            extras={"exemplars": exemplars},
            classes_per_task=list(classes_per_task),
        )  # fmt: skip
        for a in final
    ]


def test_der_checkers_tell_right_from_wrong_and_never_raise(capsys):
    import torch

    from cl_teach.exercises.der import (
        check_aux_targets,
        check_der_parameters,
        check_no_exemplars,
        check_weight_align,
    )
    from cl_teach.methods.der import aux_targets

    assert check_der_parameters(4_635_040) and check_der_parameters("4,635,040")
    assert check_der_parameters(4635040.0)
    for wrong in (463_504, 4_635_040.5, "4.6 million", [1, 2], {}, True):
        assert check_der_parameters(wrong) is False
    runs = _runs([0.2, 0.21, 0.19])
    assert check_no_exemplars(0.2, runs) and check_no_exemplars("0.25", runs)
    assert not check_no_exemplars(0.8, runs) and not check_no_exemplars("high", runs)
    assert check_aux_targets(aux_targets)
    assert not check_aux_targets(lambda y, first: y - first)  # old classes not mapped to 0
    assert not check_aux_targets(lambda y, first: 1 / 0) and not check_aux_targets(42)

    def align(W, n_new):
        norms = W.norm(dim=1)
        W = W.clone()
        W[-n_new:] *= norms[:-n_new].mean() / norms[-n_new:].mean()
        return W

    assert check_weight_align(align)
    assert check_weight_align(lambda W, n: align(W, n).numpy().tolist())  # a list is fine
    assert not check_weight_align(lambda W, n: W)
    assert not check_weight_align(lambda W, n: align(W, n) * 1.01)  # a near miss
    assert not check_weight_align(lambda W, n: torch.zeros(3)) and not check_weight_align("W")
    out = capsys.readouterr().out
    assert "Correct" in out and "Not quite" in out and "raised ZeroDivisionError" in out


def test_memo_checkers_tell_right_from_wrong_and_never_raise(capsys):
    from cl_teach.exercises.memo import check_cka, check_lowest, check_memo_exemplars
    from cl_teach.similarity import linear_cka

    assert check_memo_exemplars(2583) and check_memo_exemplars("2,583")
    for wrong in (2584, 583, 2583.5, "many", None):
        assert check_memo_exemplars(wrong) is False
    level = {"MEMO": _runs([0.9, 0.88]), "DER": _runs([0.4, 0.42]), "replay": _runs([0.9, 0.9])}
    assert check_lowest("DER", level) and check_lowest(" der ", level)
    assert not check_lowest("replay", level) and not check_lowest("EWC", level)
    assert not check_lowest(3, level)
    assert check_cka(linear_cka)

    def centred_only_x(X, Y):  # forgets to centre Y: a near miss on shifted features
        X = X - X.mean(0)
        return float((Y.T @ X).norm() ** 2 / ((X.T @ X).norm() * (Y.T @ Y).norm()))

    assert not check_cka(centred_only_x)
    assert not check_cka(lambda X, Y: "similar") and not check_cka(lambda X, Y: X @ Y)
    assert not check_cka(0.5)
    out = capsys.readouterr().out
    assert "Correct" in out and "Not quite" in out
