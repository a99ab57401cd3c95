"""The panels of notebooks 05 (loss of plasticity) and 06 (continual backprop)."""

from __future__ import annotations

import math

import ipywidgets as W
import matplotlib.pyplot as plt

from ..plasticity import PlasticityConfig, run_plasticity
from ..plasticity import plots as pplots
from . import RunPanel, dropdown, log_slider, slider

#: the reset-rate choices of notebook 06: off, then a log scale up to 1e-1
RATES = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
#: the weight decays L2 and Shrink & Perturb add to the shared one
L2 = (0.0, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


def plasticity_runs(methods=("bp", "retrain"), **settings) -> dict[str, dict]:
    """Each method's run (cached) on the same tasks, seed ``settings["seed"]`` (default 0);
    ``settings`` are :class:`PlasticityConfig` fields."""
    cfg = PlasticityConfig(**settings)
    return {m: run_plasticity(cfg.replace(method=m)) for m in methods}


def draw_problem(runs: dict[str, dict]):
    fig, axes = plt.subplots(2, 2, figsize=(13, 8), layout="constrained")
    pplots.new_task_accuracy(runs, axes[0, 0])
    pplots.dormant_fraction(runs, axes[0, 1])
    pplots.representation(runs, axes[1])
    return fig


def problem_panel(optimizer="sgd", lr=0.03, width=32, tasks=30, **settings) -> RunPanel:
    """Backprop vs a fresh network; the controls are the ones that change the picture."""
    controls = {
        "optimizer": dropdown("optimizer", ["sgd", "adam"], optimizer),
        "lr": log_slider("learning rate", lr, -4, 0),
        "width": dropdown("units per layer", [16, 32, 64, 128], width),
        "tasks": slider("tasks", tasks, 5, 60),
    }
    return RunPanel(
        controls,
        lambda **v: plasticity_runs(("bp", "retrain"), **settings, **v),
        draw_problem,
        "Loss of plasticity: backprop vs a fresh network on every task",
    )


def rate_sweep(rates, **settings) -> dict[float, dict]:
    """Continual backprop at each replacement rate (rate 0 is plain backprop: the same
    numbers, so the cached ``bp`` run stands in for it)."""
    cfg = PlasticityConfig(**settings)
    return {
        r: run_plasticity(cfg.replace(method="cbp", replacement_rate=r) if r else cfg)
        for r in rates
    }


def draw_remedies(runs: dict[str, dict]):
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.5), layout="constrained")
    pplots.new_task_accuracy(runs, axes[0])
    pplots.dormant_fraction(runs, axes[1], per_site=False)
    return fig


def choices_slider(description: str, choices, value: float) -> W.SelectionSlider:
    """A slider over ``choices`` (0 shown as "off"), ``value`` added if missing."""
    options = sorted({*choices, value})
    return W.SelectionSlider(
        options=[("off" if r == 0 else f"{r:.0e}", r) for r in options],
        value=value,
        description=description,
        continuous_update=False,
        style={"description_width": "initial"},
    )


def remedies_panel(
    replacement_rate=3e-3,
    maturity=100,
    decay=0.99,
    noise_std=1e-3,
    l2_weight_decay=1e-2,
    snp_form="step",
    shrink=0.5,
    **settings,
) -> RunPanel:
    """bp, L2, Shrink & Perturb (L2 + noise), continual backprop and a fresh network on the
    same tasks. The ranges hold the values given (the paper's CIFAR settings included)."""
    controls = {
        "replacement_rate": choices_slider("reset rate (per step)", RATES, replacement_rate),
        "maturity": slider("maturity (steps)", maturity, 0, max(500, 2 * maturity), 20),
        "decay": dropdown("utility decay eta", [0.9, 0.99, 0.999], decay),
        "noise_std": log_slider("S&P noise sigma", noise_std, min(-5, math.log10(noise_std)), -1),
        "l2_weight_decay": choices_slider("L2 (and S&P) weight decay", L2, l2_weight_decay),
        "snp_form": dropdown("S&P form", ["step", "boundary"], snp_form),
        "shrink": slider("S&P shrink lambda (boundary)", shrink, 0.1, 1.0, 0.05),
    }
    return RunPanel(
        controls,
        lambda **v: plasticity_runs(("bp", "l2", "snp", "cbp", "retrain"), **settings, **v),
        draw_remedies,
        "Remedies: L2, Shrink & Perturb and continual backprop",
    )
