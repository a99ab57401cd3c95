"""The panels of notebooks 05 (loss of plasticity) and 06 (continual backprop)."""

from __future__ import annotations

import matplotlib.pyplot as plt

from ..plasticity import PlasticityConfig, run_plasticity
from ..plasticity import plots as pplots
from . import RunPanel, choice_slider, dropdown, log_slider, slider

#: the reset-rate choices of notebook 06: off, then a log scale up to 1e-1
RATES = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


def plasticity_runs(methods=("bp", "retrain"), **settings) -> dict[str, dict]:
    """The same task sequence for each method (cached); ``settings`` are
    :class:`PlasticityConfig` fields."""
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
    pplots.dormant_fraction(runs, axes[1], per_layer=False)
    return fig


def remedies_panel(
    replacement_rate=3e-3,
    maturity=100,
    decay=0.99,
    noise_std=1e-3,
    snp_weight_decay=1e-2,
    snp_form="step",
    shrink=0.5,
    **settings,
) -> RunPanel:
    """bp, Shrink & Perturb, continual backprop and a fresh network on the same tasks."""
    controls = {
        "replacement_rate": choice_slider(
            "reset rate (per step)",
            [("off" if r == 0 else f"{r:.0e}", r) for r in RATES],
            replacement_rate,
        ),
        "maturity": slider("maturity (steps)", maturity, 0, 500, 20),
        "decay": dropdown("utility decay eta", [0.9, 0.99, 0.999], decay),
        "noise_std": log_slider("S&P noise sigma", noise_std, -5, -1),
        "snp_weight_decay": log_slider("S&P weight decay", snp_weight_decay, -4, -1),
        "snp_form": dropdown("S&P form", ["step", "boundary"], snp_form),
        "shrink": slider("S&P shrink lambda (boundary)", shrink, 0.1, 1.0, 0.05),
    }
    return RunPanel(
        controls,
        lambda **v: plasticity_runs(("bp", "snp", "cbp", "retrain"), **settings, **v),
        draw_remedies,
        "Remedies: Shrink & Perturb and continual backprop",
    )
