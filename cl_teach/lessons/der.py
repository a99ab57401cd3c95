"""Notebook 03: DER (Dynamically Expandable Representation), switch by switch, and replay at
the same exemplar budget.

The offline setting is chosen so that each of DER's mechanisms matters, as it does on
CIFAR-100 in the paper: few exemplars against the new classes' data (20 in all: 2 per
class after the last task), the narrow CNN, and a weight decay that shrinks each weight
about as much per task as PyCIL's long schedule does (:func:`decay_per_task`). With
PyCIL's weight decay and our short tasks the classifier rows of old classes never shrink,
the new rows come out *smaller*, and weight aligning then scales them the wrong way.
"""

from __future__ import annotations

import math

import numpy as np

from ..config import RunConfig
from ..experiment import run_grid
from . import (
    SEEDS,
    Claim,
    Claims,
    Details,
    difference,
    mean_pm,
    over_seeds,
    pooled,
    seed_list,
    seeds_in,
)
from .regularization import new_classes, old_classes

#: the offline setting of notebook 03: digits, five tasks of two classes, 20 exemplars
SETTING = RunConfig(
    method="der",
    dataset="digits",
    scenario="B0Inc2",
    backbone="cnn_narrow",
    train_per_class=100,
    epochs=10,
    lr=0.05,
    weight_decay=1.5e-2,
    budget=20,
)

#: DER with one switch changed, and replay at the same exemplar budget
VARIANTS = {
    "DER": {},
    "old backbones trained": {"freeze_old": False},
    "no auxiliary head": {"aux_loss": False},
    "no exemplars": {"budget": 0},
    "replay": {"method": "replay"},
    # DER against replay again at a budget half as large again (the comparison is pooled
    # over the two budgets: replay's accuracy spreads widely over seeds at a tight budget)
    "DER, 30 exemplars": {"budget": 30},
    "replay, 30 exemplars": {"method": "replay", "budget": 30},
}


def configs(base: RunConfig) -> dict[str, RunConfig]:
    """The runs of the notebook: DER on ``base`` and each variant of it."""
    base = base.replace(method="der")
    return {name: base.replace(**change) for name, change in VARIANTS.items()}


def runs(base: RunConfig, seeds=SEEDS, progress=None) -> dict:
    """Every variant over ``seeds`` (cached per seed)."""
    return run_grid(configs(base), seed_list(seeds), progress=progress)


# --- what the claims measure ------------------------------------------------------------


def gammas(r) -> list[float]:
    """Weight aligning's gamma of every incremental task (old mean norm / new mean norm
    before aligning): below 1, the new rows were the larger."""
    return [g for g in r.extras.get("weight_align_gamma", []) if g is not None]


def norms_before_align(r) -> np.ndarray:
    """(tasks from the second on) x 2: the mean classifier row norm of the old classes and of
    the new ones before aligning, from the norms the run recorded (aligned or not)."""
    rows = []
    for t, norms in enumerate(r.extras.get("classifier_norms_before_align", [])[1:], 1):
        new = r.classes_per_task[t]
        rows.append([np.mean(norms[:-new]), np.mean(norms[-new:])])
    return np.array(rows)


def new_over_old_norm(r) -> float:
    """Mean over incremental tasks of (mean new-row norm / mean old-row norm) before aligning."""
    ratio = norms_before_align(r)
    return float(np.mean(ratio[:, 1] / ratio[:, 0])) if len(ratio) else np.nan


#: training images per class (digits: 1,438 images of 10 classes)
TRAIN_PER_CLASS = {"digits": 144, "mnist5k": 400, "cifar10": 5000, "cifar100": 500}


def decay_per_task(cfg: RunConfig, task: int = 1) -> float:
    """How far weight decay alone shrinks a weight during task ``task``: the sum over its SGD
    steps of lr x weight decay / (1 - momentum). A weight that gets no gradient (the row of
    a class with few exemplars, roughly) ends the task multiplied by about exp(-this).
    Steps count the task's new images and a full exemplar memory."""
    schedule = cfg.schedule(task)
    per_class = cfg.train_per_class or TRAIN_PER_CLASS[cfg.dataset]
    steps = int(np.ceil((cfg.step * per_class + cfg.budget) / cfg.batch_size))
    lr_sum = sum(
        schedule["lr"] * cfg.lr_decay ** sum(e >= m for m in schedule["milestones"])
        for e in range(schedule["epochs"])
    )
    return float(lr_sum * steps * schedule["weight_decay"] / (1 - cfg.momentum))


def calibration(base: RunConfig) -> Details:
    """Why the offline setting's weight decay is large: how far weight decay alone shrinks
    a weight without gradient during a task, here, in PyCIL's CIFAR-100 schedule, and here
    with PyCIL's weight decay."""
    from ..presets import config as preset

    rows = (
        ("this notebook", base),
        ("PyCIL's CIFAR-100", preset("pycil-der-b0inc10")),
        ("this notebook with PyCIL's weight decay", base.replace(weight_decay=2e-4)),
    )
    lines = [
        f"{name}: the sum of lr x weight decay / (1 - momentum) over a task is "
        f"{decay_per_task(cfg):.3f}, so a weight without gradient keeps "
        f"{math.exp(-decay_per_task(cfg)):.0%} of its size"
        for name, cfg in rows
    ]
    return Details(
        "Why the weight decay is 0.015 here (a calibration)",
        "Weight decay shrinks every weight a little at every step; a classifier row that gets "
        "little gradient (an old class with 2 exemplars) shrinks with it while the new rows "
        "grow: that makes the new rows the longer ones, the premise of weight aligning. "
        "PyCIL's long schedule shrinks such a weight far more per task than ten epochs here "
        "would with the same weight decay, so the offline setting raises the weight decay "
        "until a task shrinks it by a comparable amount.\n\n" + "\n\n".join(lines),
    )


def align_effect(r) -> tuple[float, float]:
    """Weight aligning on one network: the mean over incremental tasks of (after aligning
    minus just before it) of the accuracy on the seen classes, and of the new-minus-old gap
    (mean per-class accuracy of the task's new classes minus of the older ones). Before:
    DER's measurement in ``after_task``; after: the run's per-class accuracy of that task."""
    after = r.array("per_class_accuracy")
    accuracy, gap = [], []
    for t, before in enumerate(r.extras.get("per_class_accuracy_before_align", [])):
        if before is None:
            continue
        new, b, a = r.classes_per_task[t], np.array(before), after[t, : len(before)]
        accuracy.append(a.mean() - b.mean())
        gap.append((a[-new:].mean() - a[:-new].mean()) - (b[-new:].mean() - b[:-new].mean()))
    return (float(np.mean(accuracy)), float(np.mean(gap))) if accuracy else (np.nan, np.nan)


def claims(results: dict) -> Claims:
    der, unfrozen, no_aux = (
        results["DER"],
        results["old backbones trained"],
        results["no auxiliary head"],
    )
    none, replay = results["no exemplars"], results["replay"]
    frozen = difference(der, unfrozen)
    aux = difference(der, no_aux, "average_incremental_accuracy")
    longer = over_seeds(der, new_over_old_norm)
    accuracy = over_seeds(der, lambda r: align_effect(r)[0])
    gap = over_seeds(der, lambda r: align_effect(r)[1])
    more = results["DER, 30 exemplars"], results["replay, 30 exemplars"]
    budgets = der[0].budget, more[0][0].budget
    vs_replay = pooled((der, replay), more)
    all_gammas = [g for r in der for g in gammas(r)]
    tasks = len(der[0].classes_per_task)
    forgot = over_seeds(none, old_classes)
    chance = over_seeds(none, lambda r: r.final_accuracy - 1 / tasks)
    found = [
        Claim(
            "Freeze the old backbones: letting them train on the new task lowers DER's final "
            "accuracy clearly",
            frozen.above(0),
            f"DER {mean_pm(der)}, old backbones trained {mean_pm(unfrozen)}; DER minus the "
            f"variant {frozen}",
        ),
        Claim(
            "The auxiliary head earns its place: without it DER's accuracy averaged over the "
            "tasks (the average incremental accuracy) is clearly lower",
            aux.above(0),
            f"average incremental accuracy: DER {mean_pm(der, 'average_incremental_accuracy')}, "
            f"without the auxiliary head {mean_pm(no_aux, 'average_incremental_accuracy')}; "
            f"DER minus the variant {aux} (final accuracy: {difference(der, no_aux)})",
        ),
        Claim(
            "Before aligning, the new classes' classifier rows are the longer ones: the mean "
            "new/old row-norm ratio over the incremental tasks is clearly above 1",
            longer.above(1.0),
            f"new/old mean row norm {longer}; gamma below 1 in "
            f"{sum(g < 1 for g in all_gammas)} of {len(all_gammas)} tasks x seeds",
        ),
        Claim(
            "Weight aligning corrects that bias: on the same network, right after each "
            "incremental task, scaling the new rows by gamma narrows the gap between new- and "
            "old-class accuracy and raises the accuracy on the seen classes, clearly",
            gap.below(0) and accuracy.above(0),
            f"after minus before aligning, mean over tasks: new-minus-old gap {gap}; accuracy "
            f"{accuracy}",
        ),
        Claim(
            "Frozen features are not enough: without exemplars the old classes end below 0.05 "
            f"after the last task, and the final accuracy within 0.02 of 1/{tasks} (the last "
            "task's share)",
            forgot.below(0.05) and chance.within(0.02),
            f"no exemplars: old classes {forgot}, newest classes {mean_pm(none, new_classes)}, "
            f"final minus 1/{tasks} {chance}",
        ),
        Claim(
            "At the same exemplar budget DER beats replay clearly (final accuracy, DER minus "
            f"replay averaged over {budgets[0]} and {budgets[1]} exemplars)",
            vs_replay.above(0),
            f"{budgets[0]} exemplars: DER {mean_pm(der)}, replay {mean_pm(replay)}; "
            f"{budgets[1]} exemplars: DER "
            f"{mean_pm(more[0])}, replay {mean_pm(more[1])}; DER minus replay over both "
            f"{vs_replay}",
        ),
    ]
    return Claims(found, seeds_in(results))
