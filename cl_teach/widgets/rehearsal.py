"""The panel of notebook 02: rehearsal under a memory budget, and EWC.

One run for the chosen setting (method, budget, selection, class- or task-incremental
evaluation) and a grid of cached runs over budgets for the accuracy-vs-budget plot.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import plots
from ..config import RunConfig
from ..experiment import Result, run
from . import RunPanel, dropdown, slider

BUDGETS = (20, 100, 200, 1000)  # the grid of the accuracy-vs-budget plot
REHEARSAL = ("replay", "dark_er", "dark_er_pp")  # methods with a memory
NO_MEMORY = ("finetune", "ewc")  # drawn as flat lines: they store no exemplars
LABELS = {
    "replay": "replay",
    "dark_er": "Dark ER",
    "dark_er_pp": "DER++",
    "finetune": "fine-tuning",
    "ewc": "EWC",
}


def rehearsal_runs(
    method: str = "replay",
    budget: int = 200,
    selection: str = "herding",
    eval: str = "class",
    epochs: int = 10,
    dataset: str = "digits",
    scenario: str = "B0Inc2",
    device: str = "auto",
    seed: int = 0,
    budgets: tuple[int, ...] = BUDGETS,
) -> dict:
    """The chosen run and the grid (every run cached): ``{"chosen": Result,
    "grid": {method: {budget: Result}}}``; methods without memory have budget 0."""
    base = RunConfig(
        dataset=dataset, scenario=scenario, epochs=epochs, eval=eval, device=device, seed=seed
    )

    def one(m: str, b: int) -> Result:
        cfg = base.replace(method=m, budget=b if m in REHEARSAL else 0)
        if m == "replay":
            cfg = cfg.replace(selection=selection)
        return run(cfg, progress=False)

    grid = {m: {b: one(m, b) for b in budgets} for m in REHEARSAL}
    grid.update({m: {0: one(m, 0)} for m in NO_MEMORY})
    return {"chosen": one(method, budget), "grid": grid}


def accuracy_vs_budget(grid: dict, chosen: Result | None = None, ax=None):
    """Final accuracy against the exemplar budget, one line per rehearsal method;
    methods without memory as horizontal lines; the chosen run as a star."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    for m, runs in grid.items():
        budgets = sorted(runs)
        acc = [runs[b].final_accuracy for b in budgets]
        if m in NO_MEMORY:  # a horizontal line: no exemplars
            style = {"finetune": ("--", "gray"), "ewc": (":", "tab:red")}[m]
            ax.axhline(acc[0], ls=style[0], color=style[1], lw=2, label=f"{LABELS[m]} (no memory)")
        else:
            ax.plot(budgets, acc, marker="o", label=LABELS[m])
    if chosen is not None and chosen.method in REHEARSAL and chosen.budget > 0:
        ax.plot([chosen.budget], [chosen.final_accuracy], "k*", ms=14, label="your run")
    ax.set_xscale("log")
    ax.set(
        xlabel="exemplar budget (images kept, total)",
        ylabel="final accuracy (all classes)",
        ylim=(0, 1.02),
        title="accuracy vs memory budget",
    )
    ax.legend(loc="center right", fontsize=9)
    return ax


def draw_rehearsal(results: dict):
    chosen = results["chosen"]
    fig, axes = plt.subplots(
        1, 3, figsize=(17, 4.4), layout="constrained", gridspec_kw={"width_ratios": [1, 1.3, 1]}
    )
    accuracy_vs_budget(results["grid"], chosen, axes[0])
    name = LABELS[chosen.method] + (f", {chosen.budget} exemplars" if chosen.budget else "")
    plots.per_class_heatmap(chosen, axes[1], f"{name} ({chosen.eval}-incremental)")
    plots.classifier_norms(chosen, axes[2])
    return fig


def rehearsal_panel(
    method="replay",
    budget=200,
    selection="herding",
    eval="class",
    epochs=10,
    dataset="digits",
    scenario="B0Inc2",
    device="auto",
    budgets=BUDGETS,
) -> RunPanel:
    controls = {
        "method": dropdown("method", [(LABELS[m], m) for m in REHEARSAL + NO_MEMORY], method),
        "budget": slider("memory budget (exemplars)", budget, 0, 1000, 10),
        "selection": dropdown("replay selection", ["herding", "random", "reservoir"], selection),
        "eval": dropdown(
            "evaluation", [("class-incremental", "class"), ("task-incremental", "task")], eval
        ),
    }
    return RunPanel(
        controls,
        lambda **v: rehearsal_runs(
            **v, epochs=epochs, dataset=dataset, scenario=scenario, device=device, budgets=budgets
        ),
        draw_rehearsal,
        "Rehearsal under a memory budget",
    )


def final_accuracies(results: dict) -> dict:
    """``{method: {budget: final accuracy}}`` of a grid, for tables and checks."""
    return {
        m: {b: float(np.round(r.final_accuracy, 4)) for b, r in runs.items()}
        for m, runs in results["grid"].items()
    }
