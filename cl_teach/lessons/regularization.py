"""Notebook 02a: regularization. Why fine-tuning forgets (the classifier's bias toward the
newest classes), and EWC: it helps when the task identity is given, not in
class-incremental learning."""

from __future__ import annotations

import numpy as np

from ..config import RunConfig
from ..experiment import run_grid
from . import SEEDS, Claim, Claims, difference, mean_pm, over_seeds, seed_list, seeds_in

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


def old_tasks(r) -> float:
    """Mean accuracy, after the last task, on each task before it (the last row of R
    without its last entry)."""
    R = r.array("accuracy_matrix")
    return float(np.mean(R[-1, :-1]))


def chance(r) -> float:
    """What a guess scores on the old tasks after the last task: class-incrementally one in
    all seen classes; task-incrementally one in its own task's classes (0.5 with two)."""
    cpt = r.classes_per_task
    if r.eval == "task":
        return float(np.mean([1 / c for c in cpt[:-1]]))
    return 1 / sum(cpt)


def above_chance(r) -> float:
    """Old-task accuracy after the last task minus chance (:func:`chance`)."""
    return old_tasks(r) - chance(r)


def chance_curve(r) -> np.ndarray:
    """Chance on all seen classes after each task: class-incrementally 1 / seen classes;
    task-incrementally the mean over the seen classes of 1 / their task's classes."""
    cpt = np.asarray(r.classes_per_task)
    seen = np.cumsum(cpt)
    if r.eval == "task":
        return np.cumsum(np.ones_like(cpt)) / seen  # each task adds |task| x 1/|task| = 1
    return 1 / seen


def claims(results: dict) -> Claims:
    ft, ewc = results["class"]["finetune"], results["class"]["ewc"]
    ft_task, ewc_task = results["task"]["finetune"], results["task"]["ewc"]
    bias, ewc_bias = over_seeds(ft, norm_ratio), over_seeds(ewc, norm_ratio)
    old, new = over_seeds(ft, old_classes), over_seeds(ft, new_classes)
    guess = chance(ft_task[0])
    ft_chance, ewc_chance = over_seeds(ft_task, above_chance), over_seeds(ewc_task, above_chance)
    kept = difference(ewc_task, ft_task, old_tasks)
    class_gap = difference(ewc, ft)
    found = [
        Claim(
            "Fine-tuning ends biased toward the newest classes: on average their classifier "
            "rows are longer than the old classes' rows (the ratio of mean norms is clearly "
            "above 1)",
            bias.above(1.0),
            f"new/old row norm ratio {bias}",
        ),
        Claim(
            "Class-incremental, fine-tuning recognises only the last task: its old classes "
            "end below 0.05, its newest above 0.9",
            old.below(0.05) and new.above(0.9),
            f"old classes {old}, newest {new}",
        ),
        Claim(
            f"Task-incremental accuracy must be read against chance: a guess among a task's "
            f"classes scores {guess:.2f} on every old task, and fine-tuning's old tasks end "
            "within 0.25 of that: the task identity hides how little it kept",
            ft_chance.within(0.25),
            f"fine-tuning, task-incremental: old tasks {mean_pm(ft_task, old_tasks)}, minus "
            f"chance {ft_chance}",
        ),
        Claim(
            "Task-incremental, EWC keeps the old tasks: they end more than 0.15 above chance, "
            "and clearly above fine-tuning's",
            ewc_chance.above(0.15) and kept.above(0),
            f"EWC's old tasks {mean_pm(ewc_task, old_tasks)}, minus chance {ewc_chance}; EWC "
            f"minus fine-tuning on the old tasks {kept}",
        ),
        Claim(
            "Class-incremental, EWC is no better than fine-tuning: no difference in the final "
            "accuracy larger than 0.02 (at 95%)",
            class_gap.within(0.02),
            f"EWC {mean_pm(ewc)} vs fine-tuning {mean_pm(ft)}: {class_gap}; EWC's old classes "
            f"{mean_pm(ewc, old_classes)}",
        ),
        Claim(
            "EWC does not remove the bias: its newest rows are longer than its old rows too "
            "(ratio clearly above 1)",
            ewc_bias.above(1.0),
            f"EWC's new/old row norm ratio {ewc_bias}",
        ),
    ]
    return Claims(found, seeds_in(results))
