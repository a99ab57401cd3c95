"""Figures that teach: per-class heatmaps, accuracy curves, the accuracy matrix, the stream.

Each function draws on ``ax`` (a new figure if omitted) and returns the axes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from .experiment import Result

sns.set_theme(style="whitegrid", context="notebook")


def _axes(ax, size=(6, 4)):
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def _task_bounds(result: Result) -> np.ndarray:
    return np.cumsum(result.classes_per_task)[:-1]


def per_class_heatmap(result: Result, ax=None, title: str | None = None, annotate: bool = True):
    """Rows: after task i. Columns: classes in the order they arrive (labelled with their
    original label). Cells: test accuracy of that class; blank where not seen yet."""
    acc = result.array("per_class_accuracy")
    ax = _axes(ax, (0.55 * acc.shape[1] + 2, 0.45 * acc.shape[0] + 1.5))
    sns.heatmap(
        acc,
        ax=ax,
        vmin=0,
        vmax=1,
        cmap="viridis",
        annot=annotate and acc.shape[1] <= 20,
        fmt=".2f",
        annot_kws={"size": 8},
        cbar_kws={"label": "accuracy"},
        xticklabels=result.class_order,
        yticklabels=[f"after task {i + 1}" for i in range(len(acc))],
        mask=np.isnan(acc),
    )
    for b in _task_bounds(result):
        ax.axvline(b, color="white", lw=2)
    ax.set_xlabel("class (in order of arrival)")
    ax.set_title(title or f"{result.method}: per-class accuracy")
    return ax


def accuracy_curves(results: dict[str, Result], ax=None, title: str | None = None):
    """Accuracy on all seen classes after each task, one line per method."""
    ax = _axes(ax)
    for name, r in results.items():
        seen = np.cumsum(r.classes_per_task)
        ax.plot(
            seen,
            r.task_accuracy,
            marker="o",
            label=f"{name} (avg {r.average_incremental_accuracy:.2f})",
        )
    ax.set(
        xlabel="classes seen",
        ylabel="accuracy on all seen classes",
        ylim=(0, 1.02),
        title=title or "accuracy after each task",
    )
    ax.legend()
    return ax


def accuracy_matrix(result: Result, ax=None, title: str | None = None):
    """R[i, j]: accuracy on task j's classes after training task i."""
    R = result.array("accuracy_matrix")
    ax = _axes(ax, (0.7 * len(R) + 2, 0.6 * len(R) + 1.5))
    labels = [str(i + 1) for i in range(len(R))]
    sns.heatmap(
        R,
        ax=ax,
        vmin=0,
        vmax=1,
        cmap="viridis",
        annot=len(R) <= 12,
        fmt=".2f",
        mask=np.isnan(R),
        xticklabels=labels,
        yticklabels=labels,
        cbar_kws={"label": "accuracy"},
    )
    ax.set(
        xlabel="evaluated on task j",
        ylabel="after training task i",
        title=title or f"{result.method}: accuracy matrix R[i, j]",
    )
    return ax


def classifier_norms(result: Result, ax=None, task: int = -1, title: str | None = None):
    """The L2 norm of each class's classifier row after a task, old vs newest classes."""
    norms = result.array("classifier_norms")[task]
    t = task % len(result.classes_per_task)
    seen = int(np.sum(result.classes_per_task[: t + 1]))
    new_from = seen - result.classes_per_task[t]
    ax = _axes(ax)
    colors = ["tab:blue" if c < new_from else "tab:orange" for c in range(seen)]
    ax.bar(range(seen), norms[:seen], color=colors)
    ax.set_xticks(range(seen), [str(c) for c in result.class_order[:seen]])
    ax.set(
        xlabel="class (blue: old, orange: new)",
        ylabel="|w_c|",
        title=title or f"{result.method}: classifier weight norms after task {t + 1}",
    )
    return ax


def stream_picture(stream, per_class: int = 3, fig=None):
    """Example training images of each task, one column per task: the stream a learner sees."""
    T = len(stream)
    width = max(len(t.classes) for t in stream.tasks)
    fig = fig or plt.figure(figsize=(1.6 * T, 0.6 * width * per_class + 0.6), layout="constrained")
    axes = fig.subplots(width * per_class, T, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for t, task in enumerate(stream.tasks):
        axes[0, t].set_title(f"task {t + 1}", fontsize=10)
        for k, c in enumerate(task.classes):
            xs = task.train.x[task.train.y == c][:per_class].cpu()
            for r, img in enumerate(xs):
                ax = axes[k * per_class + r, t]
                ax.imshow(img.permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray_r")
                if r == 0:
                    ax.text(
                        -0.3,
                        0.5,
                        str(stream.class_order[c]),
                        transform=ax.transAxes,
                        ha="right",
                        va="center",
                        fontsize=9,
                    )
    return fig
