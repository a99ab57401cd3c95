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

import numpy as np

from ..config import RunConfig
from ..experiment import run_grid
from . import SEEDS, Claim, Claims, difference, mean_pm, seed_list, seeds_in, values
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
    "no weight aligning": {"weight_align": False},
    "no exemplars": {"budget": 0},
    "replay": {"method": "replay"},
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


def new_class_bias(r) -> float:
    """How much better the newest classes are recognised than the old ones after the last
    task: accuracy on the new classes minus on the old ones."""
    return new_classes(r) - old_classes(r)


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


def claims(results: dict) -> Claims:
    der, unfrozen = results["DER"], results["old backbones trained"]
    unaligned, none, replay = (
        results["no weight aligning"],
        results["no exemplars"],
        results["replay"],
    )
    frozen = difference(der, unfrozen)
    aligned = difference(der, unaligned)
    bias = difference(der, unaligned, new_class_bias)
    vs_replay = difference(der, replay)
    all_gammas = [g for r in der for g in gammas(r)]
    tasks = len(der[0].classes_per_task)
    found = [
        Claim(
            "Always freeze the old backbones: letting them train on the new task lowers "
            "DER's final accuracy",
            frozen.clear and frozen.mean > 0,
            f"DER {mean_pm(der)}, old backbones trained {mean_pm(unfrozen)}; difference {frozen}",
        ),
        Claim(
            "Before aligning, the new classes' classifier rows are larger than the old ones' "
            "in every incremental task of every seed (gamma < 1)",
            bool(all_gammas) and max(all_gammas) < 1,
            f"gamma {min(all_gammas, default=np.nan):.2f} to "
            f"{max(all_gammas, default=np.nan):.2f} over {len(all_gammas)} tasks x seeds; "
            f"new/old mean row norm {mean_pm(der, new_over_old_norm)}",
        ),
        Claim(
            "Weight aligning corrects a bias toward the new classes: the gap between new- and "
            "old-class accuracy after the last task shrinks, and the final accuracy rises",
            bias.clear and bias.mean < 0 and aligned.clear and aligned.mean > 0,
            f"new minus old classes: aligned {mean_pm(der, new_class_bias)}, not aligned "
            f"{mean_pm(unaligned, new_class_bias)} (difference {bias}); final accuracy "
            f"difference {aligned}",
        ),
        Claim(
            "Frozen features are not enough: without exemplars the classifier forgets the old "
            f"classes (below 0.05 after the last task; final accuracy about 1/{tasks})",
            max(values(none, old_classes)) < 0.05,
            f"no exemplars: old classes {mean_pm(none, old_classes)}, newest classes "
            f"{mean_pm(none, new_classes)}, final {mean_pm(none)}",
        ),
        Claim(
            "At the same exemplar budget DER beats replay",
            vs_replay.clear and vs_replay.mean > 0,
            f"DER {mean_pm(der)}, replay {mean_pm(replay)}; difference {vs_replay}",
        ),
    ]
    return Claims(found, seeds_in(results))
