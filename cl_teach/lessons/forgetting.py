"""Notebook 01: catastrophic forgetting. Fine-tuning against joint training on one stream."""

from __future__ import annotations

import numpy as np

from ..config import RunConfig
from ..experiment import run_grid
from . import SEEDS, Claim, Claims, mean_pm, seed_list, seeds_in, values

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
    found = [
        Claim(
            "Each new task is learned almost perfectly (the diagonal of R is above 0.9)",
            min(values(ft, diagonal)) > 0.9,
            f"fine-tuning's diagonal {mean_pm(ft, diagonal)}",
        ),
        Claim(
            "Fine-tuning forgets nearly everything, and fast: one task later an old task is "
            "mostly gone (below 0.2), and after the last task the old classes are near 0",
            max(values(ft, one_task_later)) < 0.2
            and max(values(ft, old_classes_after_last_task)) < 0.05,
            f"R[i+1, i] {mean_pm(ft, one_task_later)}; old classes after the last task "
            f"{mean_pm(ft, old_classes_after_last_task)}; final accuracy {mean_pm(ft)}",
        ),
        Claim(
            "Joint training forgets almost nothing (forgetting below 0.05) and ends far above "
            "fine-tuning",
            max(values(joint, "forgetting")) < 0.05 and min(values(joint)) > max(values(ft)) + 0.5,
            f"joint: forgetting {mean_pm(joint, 'forgetting')}, final {mean_pm(joint)}; "
            f"fine-tuning: forgetting {mean_pm(ft, 'forgetting')}",
        ),
    ]
    return Claims(found, seeds_in(results))
