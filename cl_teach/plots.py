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
    ax.grid(False)
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
    ax.grid(False)
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


# --- expandable networks (DER, MEMO) and memory --------------------------------------------


def parameter_growth(results: dict[str, Result], ax=None, title: str | None = None):
    """Parameters after each task, one line per method (DER grows by a backbone per task,
    MEMO by a specialized block, a single network by classifier rows only)."""
    ax = _axes(ax)
    for name, r in results.items():
        tasks = np.arange(1, len(r.num_parameters_per_task) + 1)
        ax.plot(tasks, r.num_parameters_per_task, marker="o", label=name)
    ax.set(xlabel="after task", ylabel="parameters", title=title or "parameters per task")
    ax.set_xticks(tasks)
    ax.set_ylim(bottom=0)
    ax.legend()
    return ax


def norms_before_after(result: Result, ax=None, task: int = -1, title: str | None = None):
    """Classifier row norms of each class after a task, before weight aligning (extras
    ``classifier_norms_before_align``) and after (``classifier_norms``)."""
    before = np.asarray(result.extras["classifier_norms_before_align"][task], dtype=float)
    after = result.array("classifier_norms")[task][: len(before)]
    t = task % len(result.classes_per_task)
    new_from = len(before) - result.classes_per_task[t]
    ax = _axes(ax)
    pos = np.arange(len(before))
    ax.bar(pos - 0.2, before, 0.4, color="tab:gray", label="before aligning")
    ax.bar(pos + 0.2, after, 0.4, color="tab:orange", label="after aligning")
    ax.axvline(new_from - 0.5, color="k", lw=1, ls="--")
    ax.set_xticks(pos, [str(c) for c in result.class_order[: len(before)]])
    ax.set(
        xlabel="class (right of the dashed line: new)",
        ylabel="|w_c|",
        title=title or f"classifier norms after task {t + 1}",
    )
    ax.legend(loc="lower left", fontsize=8)
    return ax


def block_change(result: Result, ax=None, title: str | None = None):
    """How far each block of the newest backbone moved from the copy it started as, per
    task (extras ``block_change``): small = general, large = specialising."""
    rows = result.extras["block_change"]
    names = list(rows[0])
    ax = _axes(ax)
    width = 0.8 / len(rows)
    for k, row in enumerate(rows):
        ax.bar(
            np.arange(len(names)) + (k - (len(rows) - 1) / 2) * width,
            [row[n] for n in names],
            width,
            label=f"task {k + 2}",
        )
    ax.set_xticks(np.arange(len(names)), names)
    ax.set(
        xlabel="block (input -> output)",
        ylabel="||w - w_start|| / ||w_start||",
        title=title or "how much each block changes in a task",
    )
    ax.legend(fontsize=8)
    return ax


def memory_curve(grid: dict[str, list[Result]], ax=None, title: str | None = None):
    """Final accuracy against total memory (model + exemplars, bytes), one line per method:
    the comparison at equal memory."""
    ax = _axes(ax)
    for name, runs in grid.items():
        runs = sorted(runs, key=lambda r: sum(r.memory_bytes.values()))
        kb = [sum(r.memory_bytes.values()) / 1024 for r in runs]
        ax.plot(kb, [r.final_accuracy for r in runs], marker="o", label=name)
    ax.set(
        xlabel="total memory: model + exemplars (KiB)",
        ylabel="final accuracy",
        title=title or "accuracy at equal memory",
    )
    ax.legend()
    return ax


def network_diagram(
    tasks: int,
    shared: list[str] | None = None,
    specialized: list[str] = (),
    frozen_old: bool = True,
    ax=None,
    title: str | None = None,
):
    """Boxes and arrows: DER (``shared`` empty: one whole backbone per task) or MEMO (shared
    generalized blocks feeding one specialized block per task), the concatenated features,
    the classifier and the auxiliary head on the newest block. Grey: frozen."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    ax = _axes(ax, (2.5 + 1.7 * tasks, 4.2))
    step, w = 1.7, 1.3
    right = step * (tasks - 1) + w
    ax.set_xlim(-0.3, right + 1.6)
    ax.set_ylim(-0.2, 6.2)
    ax.axis("off")

    def box(x, y, bw, bh, text, color):
        ax.add_patch(FancyBboxPatch((x, y), bw, bh, boxstyle="round,pad=0.04", fc=color, ec="k"))
        ax.text(x + bw / 2, y + bh / 2, text, ha="center", va="center", fontsize=8)

    def arrow(x0, y0, x1, y1, **kw):
        ax.add_patch(
            FancyArrowPatch(
                (x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=12, color="k", lw=1.2, **kw
            )
        )

    top = 4.1 if shared else 5.3  # the top of the per-task blocks
    ax.text(right / 2, 6.0, "input x", ha="center", va="center", fontsize=9)
    if shared:
        box(0, 4.6, right, 0.9, "generalized blocks (shared)\n" + ", ".join(shared), "#cde6f5")
        arrow(right / 2, 5.85, right / 2, 5.55)
    for t in range(tasks):
        x = step * t
        trains = t == tasks - 1 or not frozen_old
        label = ("specialized" if shared else "backbone") + f" {t + 1}"
        box(
            x,
            2.3,
            w,
            top - 2.3,
            "\n".join([label, *specialized]),
            "#f7c98b" if trains else "#d9d9d9",
        )
        arrow(x + w / 2, 4.55 if shared else 5.85, x + w / 2, top + 0.05)
        arrow(x + w / 2, 2.25, x + w / 2, 1.75)
    box(0, 1.25, right, 0.45, "concatenated features", "#eeeeee")
    box(right / 2 - 0.9, 0, 1.8, 0.65, "classifier\n(all classes)", "#b6e3b6")
    arrow(right / 2, 1.2, right / 2, 0.7)
    if tasks > 1:
        box(right + 0.3, 0, 1.2, 0.65, "aux head\n|new| + 1", "#f3b6b6")
        arrow(right + 0.05, 3.0, right + 0.9, 0.7, connectionstyle="angle,angleA=0,angleB=90")
    ax.set_title(title or f"after task {tasks}: orange trains, grey is frozen", fontsize=10)
    return ax
