"""The panels and figures of notebooks 05 (loss of plasticity) and 06 (remedies), built
from a base config: their controls start at its values (or at ``start``'s) and their ranges
include them (a preset's values, the paper's CIFAR-100 ones, are never clamped)."""

from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

from ..lessons import plasticity, remedies
from ..plasticity import PlasticityConfig
from ..plasticity import plots as pplots
from ..plasticity.tasks import number_of_tasks
from . import RunPanel, choice_slider, dropdown, log_slider, slider

#: the replacement-rate choices of notebook 06: off, then a log scale up to 1e-1
RATES = (0.0, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
#: the weight decays L2 and Shrink & Perturb add to the shared one
L2 = (0.0, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
#: Shrink & Perturb's noise scales
NOISE = (0.0, 1e-6, 1e-5, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
MATURITY = (0, 20, 50, 100, 200, 500, 1000)
WIDTHS = (8, 16, 32, 64, 128)


def _figure(rows: int, cols: int, height: float):
    return plt.subplots(rows, cols, figsize=(pplots.WIDTH if cols > 2 else 12, height),
                        layout="constrained", squeeze=False)  # fmt: skip


def _bottom(results: dict) -> float:
    """A lower accuracy limit that shows the differences: a tenth under the lowest mean
    curve, 0 if that is under 0.3."""
    means = [np.mean([r["new_task_accuracy"] for r in runs], 0) for runs in results.values()]
    bottom = np.floor(10 * min(m.min() for m in means) - 1) / 10
    return float(bottom) if bottom >= 0.3 else 0.0


def draw_problem(results: dict):
    """Notebook 05's headline figure: new-task accuracy, dormant units, the last hidden
    layer's effective rank, the average weight magnitude."""
    fig, axes = _figure(2, 2, 8)
    pplots.new_task_accuracy(results, axes[0, 0], bottom=_bottom(results))
    pplots.dormant_fraction(results, axes[0, 1])
    pplots.effective_rank(results, axes[1, 0])
    pplots.weight_magnitude(results, axes[1, 1])
    return fig


def draw_layers(results: dict):
    """Where the units die: backprop's dormant units per layer, and which units are dormant
    after each task in seed 0's backprop and head-reset networks."""
    fig, axes = _figure(1, 3, 4.5)
    pplots.dormant_per_site(results["bp"], axes[0, 0])
    pplots.dormant_map(results["bp"][0], axes[0, 1])
    if "head_reset" in results:
        pplots.dormant_map(results["head_reset"][0], axes[0, 2])
    else:
        axes[0, 2].set_visible(False)
    return fig


def draw_small_step(smaller: dict, lr: float):
    """Backprop and a fresh network at the smaller step: new-task accuracy, the last fifth."""
    fig, axes = _figure(1, 2, 4.5)
    pplots.new_task_accuracy(smaller, axes[0, 0], f"lr {lr:g}")
    pplots.last_fifth(smaller, axes[0, 1])
    return fig


def draw_growing(grown: dict):
    """The growing-classes stream: accuracy on all seen classes, dormant units."""
    fig, axes = _figure(1, 2, 4.5)
    pplots.growing(grown, axes[0])
    return fig


def draw_remedies(results: dict):
    """Notebook 06's headline figure: new-task accuracy, dormant units, the last fifth against
    a fresh network seed by seed, and the units continual backprop replaces per task."""
    fig, axes = _figure(2, 2, 8.5)
    pplots.new_task_accuracy(results, axes[0, 0], bottom=_bottom(results))
    pplots.dormant_fraction(results, axes[0, 1])
    pplots.last_fifth_gap(results, axes[1, 0])
    pplots.units_replaced(results["cbp"], axes[1, 1])
    return fig


def draw_ablations(switched_off: dict):
    """Continual backprop with each mechanism switched off: new-task accuracy, and the last
    fifth against continual backprop's, seed by seed."""
    fig, axes = _figure(1, 2, 4.5)
    pplots.new_task_accuracy(switched_off, axes[0, 0], "one mechanism off", _bottom(switched_off))
    pplots.last_fifth_gap(switched_off, axes[0, 1], reference="cbp")
    return fig


def draw_free_lunch(sweep: dict):
    """Plasticity lost so far and the cost of replacing units, first fifth of the tasks."""
    fig, axes = _figure(1, 2, 5)
    pplots.free_lunch(sweep, axes[0])
    return fig


def draw_regression(results: dict):
    """The slowly-changing regression: error per phase, late error seed by seed."""
    fig, axes = _figure(1, 2, 5)
    pplots.regression_error(results, axes[0, 0])
    pplots.late_error(results, axes[0, 1])
    return fig


def choices_slider(description: str, choices, value, fmt=lambda v: f"{v:g}") -> W.SelectionSlider:
    """A slider over ``choices`` (0 shown as "off"), ``value`` added if missing."""
    options = sorted({*choices, value})
    labelled = [("off" if v == 0 else fmt(v), v) for v in options]
    return choice_slider(description, labelled, value)


def problem_panel(base: PlasticityConfig, seeds: int = 5, start: dict | None = None) -> RunPanel:
    """Backprop against a fresh network on ``base``'s tasks; the controls that change the
    picture: the optimizer, the learning rate, the width (MLP, CNN) and the tasks. The
    controls start at ``base``'s values, or at ``start``'s."""
    at = {**base.to_dict(), **(start or {})}
    tasks = number_of_tasks(base.replace(tasks=at["tasks"]))
    most = tasks if base.setting == "incremental" else max(60, tasks)
    controls = {
        "optimizer": dropdown("optimizer", ["sgd", "adam"], at["optimizer"]),
        "lr": log_slider("learning rate", at["lr"], -4, 0),
        "tasks": slider("tasks", tasks, 1, most),
    }
    if base.backbone != "resnet18":
        controls["width"] = dropdown("units per layer", sorted({*WIDTHS, at["width"]}), at["width"])

    def compute(optimizer, lr, tasks, seeds, width=base.width, progress=None):
        cfg = base.replace(optimizer=optimizer, lr=lr, tasks=tasks, width=width)
        return plasticity.runs(cfg, seeds, progress, ("bp", "retrain"))

    title = "Loss of plasticity: backprop vs a fresh network on every task"
    return RunPanel(controls, compute, draw_problem, title, seeds)


def remedies_panel(base: PlasticityConfig, seeds: int = 5, start: dict | None = None) -> RunPanel:
    """Backprop, L2, Shrink & Perturb (L2 + noise), continual backprop, the head reset and a
    fresh network on ``base``'s tasks; the remedies' controls start at ``base``'s values, or
    at ``start``'s."""
    at = {**base.to_dict(), **(start or {})}
    controls = {
        "replacement_rate": choices_slider(
            "reset rate (per step)", RATES, at["replacement_rate"], lambda v: f"{v:.0e}"
        ),
        "replacement": dropdown("units replaced", ["utility", "random"], at["replacement"]),
        "maturity": choices_slider("maturity (steps)", MATURITY, at["maturity"]),
        "decay": dropdown(
            "utility decay eta", sorted({0.0, 0.9, 0.99, 0.999, at["decay"]}), at["decay"]
        ),  # fmt: skip
        "noise_std": choices_slider(
            "S&P noise sigma", NOISE, at["noise_std"], lambda v: f"{v:.0e}"
        ),
        "l2_weight_decay": choices_slider(
            "L2 (and S&P) extra weight decay", L2, at["l2_weight_decay"], lambda v: f"{v:.0e}"
        ),
        "snp_form": dropdown("S&P form", ["step", "boundary"], at["snp_form"]),
        "shrink": slider(
            "S&P shrink lambda (boundary)", at["shrink"], min(0.05, at["shrink"]), 1.0, 0.05
        ),  # fmt: skip
    }

    def compute(seeds, progress=None, **remedy):
        return remedies.runs(base.replace(**remedy), seeds, progress)

    title = "Remedies: L2, Shrink & Perturb and continual backprop"
    return RunPanel(controls, compute, draw_remedies, title, seeds)
