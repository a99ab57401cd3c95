"""Notebook 02a: regularization. Why fine-tuning forgets (the classifier's bias toward the
newest classes), and EWC: it helps when the task identity is given, not in
class-incremental learning."""

from __future__ import annotations

import numpy as np

from ..config import RunConfig
from ..experiment import run_grid
from ..metrics import seed_summary
from . import SEEDS, Claim, Claims, difference, mean_pm, seed_list, seeds_in, values

#: the offline setting of notebook 02a: digits, five tasks of two classes, 01's small CNN;
#: EWC's lambda is the package default (30), stable there on seeds 0-9
SETTING = RunConfig(dataset="digits", scenario="B0Inc2", epochs=10, lr=0.05)
METHODS = ("finetune", "ewc")
EVALS = ("class", "task")
LABELS = {"finetune": "fine-tuning", "ewc": "EWC", "class": "class-IL", "task": "task-IL"}


def runs(base: RunConfig, seeds=SEEDS, progress=None, evals=EVALS, ewc_lambda=None) -> dict:
    """Fine-tuning and EWC (lambda ``ewc_lambda``, default ``base``'s) on ``base``'s stream,
    evaluated class- and/or task-incrementally, over ``seeds``: ``{eval: {method: [Result
    per seed]}}``. The two evaluations train the same networks twice (the evaluation is
    part of a run's config); a new lambda retrains EWC only."""
    lam = base.ewc_lambda if ewc_lambda is None else ewc_lambda
    configs = {}
    for e in evals:
        configs[f"finetune {e}"] = base.replace(method="finetune", eval=e)
        configs[f"ewc {e}"] = base.replace(method="ewc", eval=e, ewc_lambda=lam)
    flat = run_grid(configs, seed_list(seeds), progress=progress)
    return {e: {m: flat[f"{m} {e}"] for m in METHODS} for e in evals}


def norm_ratio(r) -> float:
    """After the last task: the mean L2 norm of the newest classes' classifier rows divided
    by the mean norm of the older classes' rows (above 1: biased toward the new classes)."""
    seen, new = sum(r.classes_per_task), r.classes_per_task[-1]
    norms = r.array("classifier_norms")[-1, :seen]
    return float(norms[-new:].mean() / norms[:-new].mean())


def old_classes(r) -> float:
    """Mean accuracy, after the last task, of the classes learned before it."""
    new = r.classes_per_task[-1]
    return float(np.mean(r.array("per_class_accuracy")[-1, : sum(r.classes_per_task)][:-new]))


def new_classes(r) -> float:
    """Mean accuracy, after the last task, of the last task's classes."""
    new = r.classes_per_task[-1]
    return float(np.mean(r.array("per_class_accuracy")[-1, : sum(r.classes_per_task)][-new:]))


def clearly_above(runs, metric, threshold: float) -> bool:
    """The 95% interval of ``metric``'s mean over seeds lies above ``threshold`` (never with
    a single seed)."""
    stats = seed_summary(values(runs, metric))
    return stats["n"] > 1 and stats["mean"] - stats["ci95"] > threshold


def claims(results: dict) -> Claims:
    ft, ewc = results["class"]["finetune"], results["class"]["ewc"]
    ft_task, ewc_task = results["task"]["finetune"], results["task"]["ewc"]
    class_gap, task_gain = difference(ewc, ft), difference(ewc_task, ft_task)
    given = difference(ft_task, ft)
    found = [
        Claim(
            "Fine-tuning ends biased toward the newest classes: their classifier rows are "
            "longer than the old classes' rows (ratio of mean norms clearly above 1)",
            clearly_above(ft, norm_ratio, 1.0),
            f"new/old row norm ratio {mean_pm(ft, norm_ratio)}",
        ),
        Claim(
            "Class-incremental, fine-tuning recognises only the last task: its old classes "
            "end below 0.05, its newest above 0.9",
            max(values(ft, old_classes)) < 0.05 and min(values(ft, new_classes)) > 0.9,
            f"old classes {mean_pm(ft, old_classes)}, newest {mean_pm(ft, new_classes)}",
        ),
        Claim(
            "Given the task identity, fine-tuning keeps a good part of the old tasks: its "
            "task-incremental accuracy is clearly higher than its class-incremental one (by "
            "more than 0.3)",
            given.clear and given.mean > 0.3,
            f"task-IL minus class-IL {given}",
        ),
        Claim(
            "Task-incremental, EWC ends clearly above fine-tuning (by more than 0.1)",
            task_gain.clear and task_gain.mean > 0.1,
            f"EWC {mean_pm(ewc_task)} vs fine-tuning {mean_pm(ft_task)}: {task_gain}",
        ),
        Claim(
            "Class-incremental, EWC is no better than fine-tuning (within 0.02): its old "
            "classes end below 0.05 too",
            abs(class_gap.mean) < 0.02 and max(values(ewc, old_classes)) < 0.05,
            f"EWC {mean_pm(ewc)} vs fine-tuning {mean_pm(ft)}: {class_gap}; EWC's old classes "
            f"{mean_pm(ewc, old_classes)}",
        ),
        Claim(
            "EWC does not remove the bias: its newest rows are longer than its old rows too "
            "(ratio clearly above 1)",
            clearly_above(ewc, norm_ratio, 1.0),
            f"EWC's new/old row norm ratio {mean_pm(ewc, norm_ratio)}",
        ),
    ]
    return Claims(found, seeds_in(results))
