"""The figures and the panel of notebook 02a: fine-tuning against EWC, evaluated class- and
task-incrementally."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import plots
from ..config import RunConfig
from ..lessons import regularization
from ..lessons.regularization import LABELS
from . import RunPanel, dropdown, log_slider, log_value

STYLES = {"finetune": {"marker": "o"}, "ewc": {"ls": "--", "marker": "s", "mfc": "none", "ms": 9}}


def accuracy_curves(methods: dict, ax, title: str):
    """Accuracy on all seen classes after each task, fine-tuning and EWC (mean and 95% band
    over seeds; EWC dashed with open markers, so it stays visible where it lies on
    fine-tuning's line), and what a guess scores (chance, dotted)."""
    for m, runs in methods.items():
        seen = np.cumsum(runs[0].classes_per_task)
        plots.band(ax, seen, [r.task_accuracy for r in runs], LABELS[m], plots.color(m),
                   **STYLES[m])  # fmt: skip
    first = next(iter(methods.values()))[0]
    ax.plot(seen, regularization.chance_curve(first), ":", color="k", lw=2, label="chance")
    ax.set(xlabel="classes seen", ylabel="accuracy on all seen classes", ylim=(0, 1.02),
           title=title)  # fmt: skip
    ax.legend(loc="lower left")
    return ax


def draw_regularization(results: dict):
    """The headline figure: final accuracy of each method and evaluation (a dot per seed),
    and the accuracy after each task, class- and task-incrementally."""
    evals = list(results)
    fig, axes = plt.subplots(1, 1 + len(evals), figsize=(12.8, 4.6), layout="constrained")
    groups = {
        f"{LABELS[m]}\n{LABELS[e]}": [r.final_accuracy for r in results[e][m]]
        for e in evals
        for m in results[e]
    }
    colors = {f"{LABELS[m]}\n{LABELS[e]}": plots.color(m) for e in evals for m in results[e]}
    plots.seed_points(groups, axes[0], "final accuracy (all classes)", "after the last task",
                      colors)  # fmt: skip
    for k, e in enumerate(evals):  # a guess on all classes after the last task
        guess = regularization.chance_curve(results[e]["finetune"][0])[-1]
        ax_span = (2 * k - 0.4, 2 * k + 1.4)
        axes[0].hlines(guess, *ax_span, colors="k", linestyles=":", lw=2)
    axes[0].set_ylim(0, 1.02)
    plt.setp(axes[0].get_xticklabels(), rotation=0, ha="center")
    for ax, e in zip(axes[1:], evals, strict=True):
        seeds = len(results[e]["finetune"])
        accuracy_curves(results[e], ax, f"{LABELS[e]} ({seeds} seeds)")
    return fig


def draw_bias(results: dict, methods=("finetune",), evaluation: str = "class"):
    """The first method's per-class accuracy after each task, and the classifier's row norms
    after the last task under each of ``methods`` (old classes blue, newest orange)."""
    fig, axes = plt.subplots(1, 1 + len(methods), figsize=(12.8, 4.6), layout="constrained",
                             gridspec_kw={"width_ratios": [1.4] + [1] * len(methods)})  # fmt: skip
    first = results[evaluation][methods[0]]
    plots.per_class_heatmap(first, axes[0], f"{LABELS[methods[0]]}: per-class accuracy")
    for ax, m in zip(axes[1:], methods, strict=True):
        runs = results[evaluation][m]
        t = len(runs[0].classes_per_task)
        plots.classifier_norms(runs, ax, title=f"{LABELS[m]}: row norms after task {t}")
    return fig


def draw_panel(results: dict):
    """The panel's figure for one evaluation: fine-tuning and EWC after each task, EWC's
    per-class accuracy and its classifier's row norms."""
    [(evaluation, methods)] = results.items()
    ewc = methods["ewc"]
    fig, axes = plt.subplots(1, 3, figsize=(12.8, 4.6), layout="constrained",
                             gridspec_kw={"width_ratios": [1, 1.3, 1]})  # fmt: skip
    lam = ewc[0].config["ewc_lambda"]
    accuracy_curves(methods, axes[0], f"{LABELS[evaluation]}, lambda = {lam:g}")
    plots.per_class_heatmap(ewc, axes[1], f"EWC ({LABELS[evaluation]}): per-class accuracy")
    plots.classifier_norms(ewc, axes[2], title="EWC: row norms after the last task")
    return fig


def regularization_panel(base: RunConfig, seeds: int = 5) -> RunPanel:
    """The evaluation and EWC's lambda (a log slider whose range holds ``base``'s value): a
    click trains only what the chosen evaluation needs (fine-tuning is cached)."""
    controls = {
        "evaluation": dropdown(
            "evaluation", [("class-incremental", "class"), ("task-incremental", "task")], "class"
        ),
        "ewc_lambda": log_slider("EWC lambda", base.ewc_lambda),
    }

    def compute(evaluation, ewc_lambda, seeds, progress=None):
        lam = log_value(ewc_lambda, base.ewc_lambda)
        return regularization.runs(base, seeds, progress, (evaluation,), lam)

    return RunPanel(controls, compute, draw_panel, "Fine-tuning vs EWC", seeds)
