"""The figures and the panel of notebook 03: DER (Dynamically Expandable Representation)
switch by switch, and replay at the same exemplar budget."""

from __future__ import annotations

import matplotlib.pyplot as plt

from .. import plots
from ..config import RunConfig
from ..experiment import run_grid
from ..lessons import seed_list
from . import RunPanel, checkbox, dropdown, slider


def draw_variants(results: dict):
    """Final accuracy of DER, of each variant with one switch changed, and of replay at the
    same budget: a dot per seed, the mean with its 95% interval."""
    fig, ax = plt.subplots(figsize=(12, 4.8), layout="constrained")
    final = {name: [r.final_accuracy for r in runs] for name, runs in results.items()}
    colors = {n: plots.color("replay" if n.startswith("replay") else "der") for n in results}
    plots.seed_points(final, ax, "final accuracy", "DER with one switch changed", colors)
    ax.set_ylim(0, 1)
    return fig


def draw_aligning(results: dict):
    """Classifier row norms after the last task before and after aligning, and the accuracy
    on the seen classes of the same network before and after aligning, task by task."""
    der = results["DER"]
    fig, axes = plt.subplots(1, 2, figsize=(12.8, 4.8), layout="constrained",
                             gridspec_kw={"width_ratios": [1.5, 1]})  # fmt: skip
    plots.norms_before_after(der, axes[0])
    plots.align_before_after(der, axes[1])
    return fig


def draw_der(results: dict):
    """The panel's figure: DER's per-class accuracy, DER and replay after each task,
    classifier norms before and after aligning, and the parameters per task."""
    der, replay = results["DER"], results["replay"]
    fig, axes = plt.subplots(2, 2, figsize=(12.8, 8.4), layout="constrained")
    plots.per_class_heatmap(der, axes[0, 0], "DER: per-class accuracy")
    plots.accuracy_curves(
        {"DER": der, f"replay ({replay[0].budget} exemplars)": replay}, axes[0, 1]
    )
    if der[0].config["weight_align"]:
        plots.norms_before_after(der, axes[1, 0])
    else:
        plots.classifier_norms(der, axes[1, 0], title="classifier norms (aligning off)")
    plots.parameter_growth({"DER": der, "replay (one network)": replay}, axes[1, 1])
    return fig


def budget_slider(budget: int, description: str = "exemplar budget (total)"):
    """An exemplar-budget slider from 0 to ten times ``budget``, in steps that hit it."""
    top = max(10 * budget, 100)
    step = next((s for s in (1000, 100, 10) if budget % s == 0 and top // s >= 10), 1)
    return slider(description, budget, 0, top, step)


def der_panel(base: RunConfig, seeds: int = 5) -> RunPanel:
    """DER's switches (freeze, exemplar budget, auxiliary loss, weight aligning) and the
    weight decay on ``base``'s stream, and replay with the same exemplars and weight decay."""

    controls = {
        "freeze_old": checkbox("freeze old backbones", base.freeze_old),
        "budget": budget_slider(base.budget),
        "aux_loss": checkbox("auxiliary loss", base.aux_loss),
        "weight_align": checkbox("weight aligning", base.weight_align),
        "weight_decay": dropdown(
            "weight decay", sorted({base.weight_decay, 2e-4, 5e-4, 5e-3, 1.5e-2}), base.weight_decay
        ),
    }

    def compute(freeze_old, budget, aux_loss, weight_align, weight_decay, seeds, progress=None):
        der = base.replace(method="der", budget=budget, freeze_old=freeze_old, aux_loss=aux_loss,
                           weight_align=weight_align, weight_decay=weight_decay)  # fmt: skip
        replay = base.replace(method="replay", budget=budget, weight_decay=weight_decay)
        return run_grid({"DER": der, "replay": replay}, seed_list(seeds), progress=progress)

    return RunPanel(controls, compute, draw_der, "DER: one backbone per task", seeds)
