"""The panel of notebook 07: every method on one stream with one exemplar budget."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import plots
from ..config import RunConfig
from ..lessons import summary
from . import RunPanel, slider


def draw_summary(results: dict):
    """Accuracy after each task (mean and band per method) and final accuracy against all
    the memory a method keeps (mean and 95% interval per method): one colour and one marker
    per method in both panels, named in one legend."""
    fig, axes = plt.subplots(1, 2, figsize=(12.8, 5), layout="constrained")
    for m, runs in results.items():
        style = {"color": plots.color(m), "marker": plots.METHOD_MARKERS[m], "ms": 9}
        seen = np.cumsum(runs[0].classes_per_task)
        plots.band(axes[0], seen, [r.task_accuracy for r in runs], summary.METHODS[m], **style)
        mean, half = plots.interval([r.final_accuracy for r in runs])
        axes[1].errorbar(summary.kib(runs[0]), mean[0], yerr=half[0], capsize=5, ls="none",
                         mec="k", **style)  # fmt: skip
    axes[0].set(xlabel="classes seen", ylabel="accuracy on all seen classes", ylim=(0, 1.02),
                title="after each task")  # fmt: skip
    axes[1].set_xscale("log")
    kept = [summary.kib(runs[0]) for runs in results.values()]
    ticks = [
        t
        for t in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
        if min(kept) / 1.5 < t < max(kept) * 1.5
    ]
    axes[1].set_xticks(ticks, [str(t) for t in ticks])
    axes[1].minorticks_off()
    axes[1].set(xlabel="memory kept between tasks (KiB, log scale)", ylabel="final accuracy",
                ylim=(0, 1.02), title="what each method keeps and reaches")  # fmt: skip
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right center")
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
