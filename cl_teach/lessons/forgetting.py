"""Notebook 01: catastrophic forgetting. Fine-tuning against joint training on one stream."""

from __future__ import annotations

import numpy as np

from ..config import RunConfig
from ..experiment import run_grid
from . import SEEDS, Claim, Claims, difference, mean_pm, over_seeds, seed_list, seeds_in

#: the offline setting of notebook 01: digits, five tasks of two classes
SETTING = RunConfig(dataset="digits", scenario="B0Inc2", epochs=5, lr=0.05)


def runs(base: RunConfig, seeds=SEEDS, progress=None) -> dict:
    """Fine-tuning and joint training on ``base``'s stream, over ``seeds``."""
    configs = {m: base.replace(method=m) for m in ("finetune", "joint")}
    return run_grid(configs, seed_list(seeds), progress=progress)


def diagonal(r) -> float:
    """Mean accuracy on each task right after learning it (the diagonal of R)."""
    return float(np.mean(np.diag(r.array("accuracy_matrix"))))


def one_task_later(r) -> float:
    """Mean accuracy on each task one task after learning it (R[i + 1, i])."""
    return float(np.mean(np.diag(r.array("accuracy_matrix"), -1)))


def old_classes_after_last_task(r) -> float:
    """Mean accuracy of the classes before the last task, after it."""
    new = r.classes_per_task[-1]
    return float(np.mean(r.array("per_class_accuracy")[-1, :-new]))


def claims(results: dict) -> Claims:
    ft, joint = results["finetune"], results["joint"]
    learned = over_seeds(ft, diagonal)
    later, old = over_seeds(ft, one_task_later), over_seeds(ft, old_classes_after_last_task)
    kept, above = over_seeds(joint, "forgetting"), difference(joint, ft)
    upper = over_seeds(joint)
    found = [
        Claim(
            "Each new task is learned almost perfectly: the diagonal of R (each task right "
            "after learning it) is above 0.9",
            learned.above(0.9),
            f"fine-tuning's diagonal {learned}",
        ),
        Claim(
            "Fine-tuning forgets nearly everything, and fast: one task later an old task is "
            "below 0.2, and after the last task the old classes are below 0.05",
            later.below(0.2) and old.below(0.05),
            f"R[i+1, i] {later}; old classes after the last task {old}; final accuracy "
            f"{mean_pm(ft)}",
        ),
        Claim(
            "Joint training forgets almost nothing (forgetting below 0.05) and ends more than "
            "0.5 above fine-tuning",
            kept.below(0.05) and above.above(0.5),
            f"joint's forgetting {kept}; fine-tuning's {mean_pm(ft, 'forgetting')}; joint minus "
            f"fine-tuning, final accuracy {above}",
        ),
        Claim(
            "The upper bound is high on digits: joint training ends above 0.95",
            upper.above(0.95),
            f"joint's final accuracy {upper}",
        ),
    ]
    return Claims(found, seeds_in(results))
