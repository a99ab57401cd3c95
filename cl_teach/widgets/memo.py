"""The figures and the panel of notebook 04: MEMO against DER and replay at the same total
memory, which blocks stay general, and what freezing the generalized blocks does."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from .. import plots
from ..config import RunConfig
from ..data import dataset_info
from ..equal_memory import backbone_for
from ..experiment import run_grid
from ..lessons import memo as lesson
from ..lessons import seed_list, values
from ..methods.expandable import default_split
from . import RunPanel, checkbox, dropdown
from .der import budget_slider
from .rehearsal import LEGEND

STYLES = {"MEMO": "o", "DER": "s", "replay": "^"}


def clipped(values, lo: float = 0.0, hi: float = 1.0):
    """Mean over seeds (rows) and its 95% interval as asymmetric error bars, the interval
    clipped to ``[lo, hi]`` (an accuracy's range)."""
    mean, half = plots.interval(values)
    return mean, np.stack([mean - np.maximum(mean - half, lo), np.minimum(mean + half, hi) - mean])


def memory_labels(curve: dict) -> list[str]:
    """A tick label per memory level: DER's total memory in KiB and its exemplars."""
    return [f"{lesson.memory_kib(curve[b]['DER']):.1f}\nDER {b}" for b in curve]


def draw_networks(base: RunConfig, tasks: int = 3):
    """DER and MEMO after ``tasks`` tasks, side by side (orange trains, grey is frozen)."""
    shared, copied = lesson.blocks(base)
    fig, axes = plt.subplots(1, 2, figsize=(12.8, 5), layout="constrained")
    plots.network_diagram(tasks, None, shared + copied, ax=axes[0], title=f"DER after task {tasks}")
    plots.network_diagram(tasks, shared, copied, ax=axes[1], title=f"MEMO after task {tasks}")
    return fig


def draw_curve(curve: dict):
    """Final accuracy of MEMO, DER and replay at each total memory (mean over seeds, bars:
    the 95% interval), and the exemplars each keeps there."""
    fig, axes = plt.subplots(1, 2, figsize=(12.8, 5), layout="constrained",
                             gridspec_kw={"width_ratios": [1.4, 1]})  # fmt: skip
    x = np.arange(len(curve))
    for k, m in enumerate(lesson.METHODS):
        acc = np.array([[r.final_accuracy for r in curve[b][m]] for b in curve]).T
        mean, err = clipped(acc)
        axes[0].errorbar(x + 0.06 * (k - 1), mean, yerr=err, marker=STYLES[m], ms=8, capsize=4,
                         lw=2, color=plots.color(m.lower()), label=m)  # fmt: skip
        kept = [curve[b][m][0].extras["exemplars"] for b in curve]
        axes[1].plot(x, kept, marker=STYLES[m], ms=8, lw=2, color=plots.color(m.lower()), label=m)
    seeds = len(next(iter(curve.values()))["DER"])
    axes[0].set(ylim=(0, 1), ylabel="final accuracy (all classes)",
                title=f"the same total memory, spent differently ({seeds} seeds)")  # fmt: skip
    axes[1].set(ylim=(0, None), ylabel="exemplars stored", title="what the memory buys")
    for ax, where in zip(axes, ("lower right", "upper left"), strict=True):
        ax.set_xticks(x, memory_labels(curve))
        ax.set_xlabel("total memory (KiB) and DER's exemplars")
        ax.legend(fontsize=LEGEND, loc=where)
    return fig


def draw_similarity(der_runs, cfg: RunConfig):
    """Linear CKA between DER's first backbone and its newest, block by block."""
    fig, ax = plt.subplots(figsize=(10, 4.8), layout="constrained")
    plots.block_similarity(der_runs, ax, shared=lesson.shared_blocks(cfg))
    ax.set_ylim(0, 1)
    ax.legend(fontsize=LEGEND, loc="center left", bbox_to_anchor=(1, 0.5))
    return fig


def draw_freezing(table: dict, scenario: str):
    """Left: how far the first task's features drift after each task, generalized blocks
    trained or frozen (a thin line per seed, the mean bold). Right: MEMO's accuracy on the
    classes after the first task, rows pretrained or not, columns trained or frozen; the
    colour scale spans the table's own range, and each cell gives its mean and 95% interval."""
    fig, axes = plt.subplots(1, 2, figsize=(12.8, 4.6), layout="constrained",
                             gridspec_kw={"width_ratios": [1, 1.3]})  # fmt: skip
    ax = axes[0]
    for freeze, color in ((False, plots.color("memo")), (True, plots.OKABE_ITO[0])):
        runs = table[(True, freeze)]
        drift = np.array([r.extras["first_task_drift"] for r in runs])
        tasks = np.arange(1, drift.shape[1] + 1)
        ax.plot(tasks, drift.T, color=color, lw=1, alpha=0.5)
        label = "generalized blocks " + ("frozen" if freeze else "trained")
        ax.plot(tasks, drift.mean(0), color=color, lw=3, marker="o", label=label)
    ax.set_xticks(tasks)
    ax.set(xlabel="after task", ylabel="|f - f after task 1| / |f after task 1|",
           title="the first task's features")  # fmt: skip
    ax.legend(fontsize=LEGEND, loc="upper left")
    rows, cols = (True, False), (False, True)
    stats = {k: plots.interval(values(runs, lesson.stream_accuracy)) for k, runs in table.items()}
    mean = np.array([[stats[(r, c)][0][0] for c in cols] for r in rows])
    text = [[f"{stats[(r, c)][0][0]:.3f}\n± {stats[(r, c)][1][0]:.3f}" for c in cols] for r in rows]
    lo, hi = np.floor(mean.min() * 50 - 1) / 50, np.ceil(mean.max() * 50 + 1) / 50
    sns.heatmap(mean, ax=axes[1], vmin=lo, vmax=hi, cmap="viridis", annot=np.array(text),
                fmt="", annot_kws={"size": 14}, cbar_kws={"label": "accuracy (this range)"},
                xticklabels=["trained", "frozen"],
                yticklabels=["pretrained", "not pretrained"])  # fmt: skip
    axes[1].grid(False)
    axes[1].set(xlabel="generalized blocks after the first task",
                title=f"MEMO on {scenario}: the classes after the first task")  # fmt: skip
    return fig


def draw_memo(results: dict):
    """The panel's figure: MEMO's per-class accuracy, the three methods after each task,
    parameters per task and how each spends the memory."""
    fig, axes = plt.subplots(2, 2, figsize=(12.8, 9), layout="constrained")
    plots.per_class_heatmap(results["MEMO"], axes[0, 0], "MEMO: per-class accuracy")
    plots.accuracy_curves(
        {f"{m} ({runs[0].extras['exemplars']} exemplars)": runs for m, runs in results.items()},
        axes[0, 1],
    )
    axes[0, 1].set_ylim(0, 1)
    axes[0, 1].legend(fontsize=LEGEND - 1, loc="lower left")
    plots.parameter_growth(results, axes[1, 0])
    memory_bars(results, axes[1, 1])
    return fig


def memory_bars(results: dict, ax):
    """Stacked bars per method: model bytes and exemplar bytes (KiB), labelled with the
    number of exemplars."""
    for x, m in enumerate(lesson.METHODS):
        r = results[m][0]
        model, stored = r.memory_bytes["model"] / 1024, r.memory_bytes["exemplars"] / 1024
        ax.bar(x, model, color=plots.OKABE_ITO[8], label="model (float32)" if x == 0 else None)
        ax.bar(x, stored, bottom=model, color=plots.color(m.lower()), label=f"{m} exemplars")
        ax.text(x, model + stored, f"{r.extras['exemplars']}", ha="center", va="bottom",
                fontsize=LEGEND)  # fmt: skip
    ax.set_xticks(range(len(lesson.METHODS)), lesson.METHODS)
    ax.set(ylabel="KiB", title="the same memory (numbers: exemplars)")
    ax.set_ylim(0, 1.5 * ax.get_ylim()[1])
    ax.legend(fontsize=LEGEND - 1, loc="upper center", ncol=2)
    return ax


def memo_panel(base: RunConfig, seeds: int = 5) -> RunPanel:
    """DER's exemplar budget (which sets everyone's memory), MEMO's split and whether its
    generalized blocks freeze after the first task; MEMO, DER and replay at that memory."""
    info = dataset_info(base.dataset)
    backbone = backbone_for(base.backbone, info)
    names, default = backbone.block_names, default_split(backbone)
    splits = [
        (f"{k}: share {', '.join(names[:k]) or 'nothing (DER)'}", k) for k in range(default + 1)
    ]
    controls = {
        "budget": budget_slider(lesson.starved(base), "DER's exemplars (sets the memory)"),
        "split": dropdown(
            "MEMO: split after", splits, default if base.split is None else base.split
        ),
        "freeze": checkbox("MEMO: freeze generalized blocks after task 1", not base.train_base),
    }

    def compute(budget, split, freeze, seeds, progress=None):
        configs = lesson.equal_memory(base, budget)
        configs["MEMO"] = configs["MEMO"].replace(
            split=None if split == default else split, train_base=not freeze
        )
        return run_grid(configs, seed_list(seeds), progress=progress)

    return RunPanel(controls, compute, draw_memo, "MEMO vs DER vs replay at DER's memory", seeds)
