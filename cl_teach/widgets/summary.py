"""The panel of notebook 07: every method on one stream with one exemplar budget."""

from __future__ import annotations

import matplotlib.pyplot as plt

from .. import plots
from ..config import RunConfig
from ..lessons import summary
from . import RunPanel, slider


def draw_summary(results: dict):
    """Accuracy after each task (mean and band per method) and final accuracy against
    total memory (mean and 95% interval per method)."""
    fig, axes = plt.subplots(1, 2, figsize=(16, 5.2), layout="constrained")
    named = {summary.METHODS[m]: runs for m, runs in results.items()}
    plots.accuracy_curves(named, axes[0])
    axes[0].legend(fontsize=9, loc="lower left")
    ax = axes[1]
    for m, runs in results.items():
        kib = sum(runs[0].memory_bytes.values()) / 1024
        mean, half = plots.interval([r.final_accuracy for r in runs])
        ax.errorbar(kib, mean[0], yerr=half[0], fmt="o", ms=9, capsize=5, color=plots.color(m))
        ax.annotate(summary.METHODS[m], (kib, mean[0]), xytext=(6, 4), textcoords="offset points")
    ax.set_xscale("log")
    ax.set(xlabel="total memory: model + exemplars (KiB, log scale)", ylabel="final accuracy",
           ylim=(0, 1.05), title="what each method costs and reaches")  # fmt: skip
    return fig


def summary_panel(base: RunConfig, seeds: int = 5) -> RunPanel:
    """The exemplar budget and the epochs per task of ``base``; ranges hold its values."""
    controls = {
        "budget": slider("exemplar budget", base.budget, 0, max(1000, 2 * base.budget), 10),
        "epochs": slider("epochs per task", base.epochs, 1, max(30, base.epochs)),
    }

    def compute(budget, epochs, seeds, progress=None):
        return summary.runs(base.replace(budget=budget, epochs=epochs), seeds, progress)

    return RunPanel(controls, compute, draw_summary, "Every method, one stream", seeds)
