"""The figures and the panel of notebook 04: MEMO against DER and replay at the same total
memory, which blocks stay general, and when to freeze the generalized blocks."""

from __future__ import annotations

import matplotlib.pyplot as plt

from .. import plots
from ..config import RunConfig
from ..data import dataset_info
from ..equal_memory import backbone_for
from ..experiment import run_grid
from ..lessons import memo as lesson
from ..lessons import seed_list
from ..methods.expandable import default_split
from . import RunPanel, checkbox, dropdown
from .der import budget_slider


def draw_similarity(der_runs, cfg: RunConfig):
    """Linear CKA between DER's first backbone and its newest, block by block."""
    fig, ax = plt.subplots(figsize=(8, 4.6), layout="constrained")
    plots.block_similarity(der_runs, ax, shared=lesson.shared_blocks(cfg))
    return fig


def draw_curve(curve: dict):
    """Final accuracy against total memory (a point per memory, mean and 95% interval over
    seeds), and what each method spends the memory on at each level."""
    fig, axes = plt.subplots(1, 2, figsize=(15, 4.8), layout="constrained")
    plots.memory_curve({m: [curve[b][m] for b in curve] for m in lesson.METHODS}, axes[0])
    axes[0].set_ylim(0, 1)
    memory_bars(curve, axes[1])
    return fig


def memory_bars(curve: dict, ax):
    """Stacked bars per method and memory level: model bytes and exemplar bytes (KiB),
    labelled with the number of exemplars."""
    x, labels = 0, []
    for b, results in curve.items():
        for m in lesson.METHODS:
            r = results[m][0]
            model, stored = r.memory_bytes["model"] / 1024, r.memory_bytes["exemplars"] / 1024
            ax.bar(x, model, color=plots.OKABE_ITO[8], label="model (float32)" if x == 0 else None)
            ax.bar(x, stored, bottom=model, color=plots.color(m.lower()),
                   label=None if b != next(iter(curve)) else f"{m} exemplars (uint8)")  # fmt: skip
            ax.text(x, model + stored, f"{r.extras['exemplars']}", ha="center", va="bottom",
                    fontsize=10)  # fmt: skip
            labels.append(f"{m}\nDER {b}")
            x += 1
        x += 0.5
    ticks = [i + 0.5 * (i // len(lesson.METHODS)) for i in range(len(labels))]
    ax.set_xticks(ticks, labels, fontsize=9)
    ax.set(ylabel="KiB", title="the same memory, spent differently (numbers: exemplars)")
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=4)
    return ax


def draw_table(table: dict, scenario: str):
    """MEMO's accuracy on the classes after the first task: rows pretrained or not,
    columns generalized blocks trained or frozen (mean and 95% interval, scale 0..1)."""
    fig, ax = plt.subplots(figsize=(8, 3.6), layout="constrained")
    cells = {k: [lesson.stream_accuracy(r) for r in runs] for k, runs in table.items()}
    plots.seed_heatmap(
        cells, [True, False], [False, True], ax,
        f"MEMO on {scenario}: accuracy on the classes after the first task",
        row_labels=["first task trained (pretrained)", "first task 1 epoch (not pretrained)"],
        col_labels=["train generalized", "freeze generalized"],
    )  # fmt: skip
    return fig


def draw_memo(results: dict):
    """The panel's figure: MEMO's per-class accuracy, the three methods after each task,
    parameters per task and how each spends the memory."""
    fig, axes = plt.subplots(2, 2, figsize=(15, 9), layout="constrained")
    plots.per_class_heatmap(results["MEMO"], axes[0, 0], "MEMO: per-class accuracy")
    plots.accuracy_curves(
        {f"{m} ({runs[0].extras['exemplars']} exemplars)": runs for m, runs in results.items()},
        axes[0, 1],
    )
    plots.parameter_growth(results, axes[1, 0])
    memory_bars({results["DER"][0].budget: results}, axes[1, 1])
    return fig


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
        "budget": budget_slider(lesson.levels(base)[0], "DER's exemplars (sets the memory)"),
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
