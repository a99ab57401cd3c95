"""Every checker answers the placeholder ``None`` with a hint instead of an error, and
knows a right answer from a wrong one."""

import importlib
import inspect
import pkgutil
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import cl_teach.exercises as exercises
from cl_teach.exercises import regularization as ex_regularization
from cl_teach.exercises import rehearsal as ex_rehearsal
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


# --- notebooks 02a and 02b ---------------------------------------------------------------


def test_rehearsal_counts_reject_near_misses_and_accept_formatted_numbers(capsys):
    assert ex_rehearsal.check_exemplars_per_class(33)
    assert ex_rehearsal.check_exemplars_per_class("33")
    assert ex_rehearsal.check_exemplars_per_class(33.0)
    for wrong in (33.3, 34, 100, "33 exemplars", [33], True):
        assert ex_rehearsal.check_exemplars_per_class(wrong) is False
    assert ex_rehearsal.check_equal_bytes(325) and ex_rehearsal.check_equal_bytes("325")
    for wrong in (200, 325.5, "many", None):
        assert ex_rehearsal.check_equal_bytes(wrong) is False
    assert "Not quite" in capsys.readouterr().out


def test_reservoir_probability(capsys):
    for right in (0.05, "0.05", 1 / 20, "0.050"):
        assert ex_rehearsal.check_reservoir_probability(right)
    for wrong in (0.051, 0.5, 5, "5%", "1/20", {}):
        assert ex_rehearsal.check_reservoir_probability(wrong) is False
    assert "Not quite" in capsys.readouterr().out


def _herding(features, m, normalise=True):
    v = torch.nn.functional.normalize(features, dim=1) if normalise else features
    mu, total, chosen = v.mean(0), torch.zeros(v.shape[1]), []
    for k in range(1, min(m, len(v)) + 1):
        dist = (mu - (total + v) / k).norm(dim=1)
        dist[chosen] = float("inf")
        chosen.append(int(dist.argmin()))
        total += v[chosen[-1]]
    return chosen


def test_herding_exercise(capsys):
    assert ex_rehearsal.check_herding(_herding)
    assert ex_rehearsal.check_herding(lambda f, m: torch.tensor(_herding(f, m)))

    def unnormalised(f, m):
        return _herding(f, m, normalise=False)

    def nearest_only(f, m):  # the m samples nearest the mean: right first pick, then wrong
        v = torch.nn.functional.normalize(f, dim=1)
        return (v - v.mean(0)).norm(dim=1).argsort()[:m].tolist()

    def repeats(f, m):
        return [_herding(f, 1)[0]] * m

    for wrong in (unnormalised, nearest_only, repeats, lambda f, m: None, lambda f, m: 1 / 0,
                  lambda f, m: "x", 3):  # fmt: skip
        assert ex_rehearsal.check_herding(wrong) is False
    out = capsys.readouterr().out
    assert "Correct" in out and "Not quite" in out and "ZeroDivisionError" in out


def test_predictions_are_checked_against_the_runs(capsys):
    def runs(*accuracies):
        return [SimpleNamespace(final_accuracy=a, seed=s) for s, a in enumerate(accuracies)]

    results = {"class": {"ewc": runs(0.2, 0.21), "finetune": runs(0.2, 0.2)}}
    assert ex_regularization.check_ewc_prediction(0.25, results)
    assert ex_regularization.check_ewc_prediction("0.2", results)
    for wrong in (0.9, "most", [0.2]):
        assert ex_regularization.check_ewc_prediction(wrong, results) is False
    level = {"herding": {20: runs(0.8, 0.82)}, "random": {20: runs(0.7, 0.75)},
             "reservoir": {20: runs(0.72, 0.7)}}  # fmt: skip
    assert ex_rehearsal.check_selection_prediction(" Herding", level)
    for wrong in ("random", "reservoir", "herd", 1):
        assert ex_rehearsal.check_selection_prediction(wrong, level) is False
    tie = {"dark_er": {200: runs(0.9, 0.95)}, "dark_er_pp": {200: runs(0.9, 0.95)},
           "reservoir": {200: runs(0.92, 0.93), 325: runs(0.9, 0.9)}}  # fmt: skip
    gain = {"dark_er": {50: runs(0.95, 0.96, 0.97)}, "dark_er_pp": {50: runs(0.95, 0.96, 0.97)},
            "reservoir": {50: runs(0.9, 0.91, 0.9), 52: runs(0.9, 0.9, 0.9)}}  # fmt: skip
    assert ex_rehearsal.check_logits_prediction("no", " Yes", tie, gain)
    for digits, once in (("yes", "yes"), ("no", "no"), ("maybe", "yes"), (1, "yes")):
        assert ex_rehearsal.check_logits_prediction(digits, once, tie, gain) is False
    capsys.readouterr()


def test_ewc_penalty_and_norm_ratio(capsys):
    def penalty(params, anchor, fisher):
        return sum(
            (f * (params[n][: len(a)] - a) ** 2).sum()
            for n, (a, f) in ((n, (anchor[n], fisher[n])) for n in anchor)
        )

    check = ex_regularization.check_ewc_penalty
    assert check(penalty) and check(lambda p, a, f: float(penalty(p, a, f)))
    wrong = (
        lambda p, a, f: 0.5 * penalty(p, a, f),  # the lambda / 2 belongs to the loss
        lambda p, a, f: penalty(p, a, f) * 1.001,  # a near miss
        lambda p, a, f: sum(((p[n][: len(a[n])] - a[n]) ** 2).sum() for n in a),  # no Fisher
        lambda p, a, f: 1 / 0,
        42,
    )
    for answer in wrong:
        assert check(answer) is False
    run = SimpleNamespace(
        seed=0, classes_per_task=[2, 2], classifier_norms=[[1, 2, np.nan, np.nan], [1, 1, 3, 3]]
    )
    run.array = lambda name: np.asarray(getattr(run, name), dtype=float)
    assert ex_regularization.check_norm_ratio(lambda r: 3.0, [run])
    assert ex_regularization.check_norm_ratio(lambda r: "3", [run])
    for wrong in (lambda r: 2.0, lambda r: r.nothing, lambda r: None, "3"):
        assert ex_regularization.check_norm_ratio(wrong, [run]) is False
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

    def exemplars(tasks, generalized, specialized, budget, image_bytes):
        return budget + (tasks - 1) * generalized * 4 // image_bytes

    assert check_memo_exemplars(exemplars)
    assert check_memo_exemplars(lambda *a: torch.tensor(exemplars(*a)))
    for wrong in (
        lambda t, g, s, b, i: (t - 1) * g * 4 // i,  # forgets DER's budget
        lambda t, g, s, b, i: b + (t - 1) * g * 4 / i,  # a fraction of an image
        lambda t, g, s, b, i: b + t * g * 4 // i,  # saves one copy too many
        lambda *a: "many",
        2583,
    ):
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


# --- notebooks 05 and 06 ---------------------------------------------------------------


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

    assert ex.check_dormant_function(lambda h, t: (h > 0).float().mean(0) < t)
    assert ex.check_dormant_function(lambda h, t: ((h > 0).sum(0) / len(h) < t).tolist())
    assert not ex.check_dormant_function(lambda h, t: (h > 0).float().mean(0) <= 0)  # dead only
    assert not ex.check_dormant_function(lambda h, t: (h > 0).float().mean(1) < t)  # wrong axis
    assert not ex.check_dormant_function(lambda h, t: (h > 0).float().mean(0) < 0.01)  # fixed
    assert not ex.check_dormant_function(42)

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

    def utility(u, h, w_out, eta):
        return eta * u + (1 - eta) * h.abs().mean(0) * w_out.abs().sum(0)

    assert ex.check_utility_function(utility)
    assert not ex.check_utility_function(lambda u, h, w, eta: eta * u + (1 - eta) * h.mean(0))
    assert not ex.check_utility_function(  # the mean over outputs, where the sum is asked
        lambda u, h, w, eta: eta * u + (1 - eta) * h.abs().mean(0) * w.abs().mean(0)
    )
    assert not ex.check_utility_function(lambda u, h, w, eta: (1 - eta) * u + eta * h.mean(0))
    out = capsys.readouterr().out
    assert "Please answer" in out and "Not quite" in out
