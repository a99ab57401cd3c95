"""The panels of notebooks 05 (loss of plasticity) and 06 (remedies), built from a base
config: their controls start at its values and their ranges include them (a preset's
values, the paper's CIFAR-100 ones, are never clamped)."""

from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt

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


def draw_problem(results: dict):
    """Notebook 05's headline figure: new-task accuracy, dormant units, the last fifth seed
    by seed; the representation's ranks, the weights, backprop's dormant units per layer."""
    fig, axes = plt.subplots(2, 3, figsize=(19, 9), layout="constrained")
    pplots.new_task_accuracy(results, axes[0, 0])
    pplots.dormant_fraction(results, axes[0, 1])
    pplots.last_fifth(results, axes[0, 2])
    pplots.representation(results, axes[1, :2])
    pplots.dormant_per_site(results["bp"], axes[1, 2])
    return fig


def draw_remedies(results: dict):
    """Notebook 06's headline figure: new-task accuracy, dormant units, the last fifth seed
    by seed, and the units continual backprop replaces per task."""
    fig, axes = plt.subplots(2, 2, figsize=(16, 9), layout="constrained")
    pplots.new_task_accuracy(results, axes[0, 0])
    pplots.dormant_fraction(results, axes[0, 1])
    pplots.last_fifth(results, axes[1, 0])
    pplots.units_replaced(results["cbp"], axes[1, 1])
    return fig


def choices_slider(description: str, choices, value, fmt=lambda v: f"{v:g}") -> W.SelectionSlider:
    """A slider over ``choices`` (0 shown as "off"), ``value`` added if missing."""
    options = sorted({*choices, value})
    labelled = [("off" if v == 0 else fmt(v), v) for v in options]
    return choice_slider(description, labelled, value)


def problem_panel(base: PlasticityConfig, seeds: int = 5) -> RunPanel:
    """Backprop against a fresh network on ``base``'s tasks; the controls that change the
    picture: the optimizer, the learning rate, the width (MLP, CNN) and the tasks."""
    tasks = number_of_tasks(base)
    most = tasks if base.setting == "incremental" else max(60, tasks)
    controls = {
        "optimizer": dropdown("optimizer", ["sgd", "adam"], base.optimizer),
        "lr": log_slider("learning rate", base.lr, -4, 0),
        "tasks": slider("tasks", tasks, 1, most),
    }
    if base.backbone != "resnet18":
        controls["width"] = dropdown("units per layer", sorted({*WIDTHS, base.width}), base.width)

    def compute(optimizer, lr, tasks, seeds, width=base.width, progress=None):
        cfg = base.replace(optimizer=optimizer, lr=lr, tasks=tasks, width=width)
        return plasticity.runs(cfg, seeds, progress, ("bp", "retrain"))

    title = "Loss of plasticity: backprop vs a fresh network on every task"
    return RunPanel(controls, compute, draw_problem, title, seeds)


def remedies_panel(base: PlasticityConfig, seeds: int = 5) -> RunPanel:
    """Backprop, L2, Shrink & Perturb (L2 + noise), continual backprop and a fresh network
    on ``base``'s tasks; the remedies' controls start at ``base``'s values."""
    controls = {
        "replacement_rate": choices_slider(
            "reset rate (per step)", RATES, base.replacement_rate, lambda v: f"{v:.0e}"
        ),
        "maturity": choices_slider("maturity (steps)", MATURITY, base.maturity),
        "decay": dropdown("utility decay eta", sorted({0.9, 0.99, 0.999, base.decay}), base.decay),
        "noise_std": choices_slider("S&P noise sigma", NOISE, base.noise_std, lambda v: f"{v:.0e}"),
        "l2_weight_decay": choices_slider(
            "L2 (and S&P) extra weight decay", L2, base.l2_weight_decay, lambda v: f"{v:.0e}"
        ),
        "snp_form": dropdown("S&P form", ["step", "boundary"], base.snp_form),
        "shrink": slider(
            "S&P shrink lambda (boundary)", base.shrink, min(0.05, base.shrink), 1.0, 0.05
        ),  # fmt: skip
    }

    def compute(seeds, progress=None, **remedy):
        return remedies.runs(base.replace(**remedy), seeds, progress)

    title = "Remedies: L2, Shrink & Perturb and continual backprop"
    return RunPanel(controls, compute, draw_remedies, title, seeds)
