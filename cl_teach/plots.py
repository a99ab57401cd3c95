"""Figures that teach: per-class heatmaps, accuracy curves, the accuracy matrix, the stream.

One style for every notebook, readable on a projector and for colour-blind readers: the
Okabe-Ito palette with one colour per method everywhere (:func:`color`), large labels, and
accuracy colour scales fixed to 0..1. A figure of several seeds draws their mean with a
band (the 95% interval of the mean, Student's t), or each seed as a point.

Functions take a :class:`~cl_teach.experiment.Result` or a list of them (one per seed),
draw on ``ax`` (a new figure if omitted) and return the axes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from .experiment import Result

#: Okabe & Ito's colour-blind-safe palette
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
             "#000000", "#999999"]  # fmt: skip
#: one colour per method, in every notebook
METHOD_COLORS = {
    "finetune": "#999999",
    "joint": "#000000",
    "replay": "#0072B2",
    "ewc": "#CC79A7",
    "dark_er": "#56B4E9",
    "dark_er_pp": "#009E73",
    "der": "#D55E00",
    "memo": "#E69F00",
    "bp": "#D55E00",
    "retrain": "#999999",
    "head_reset": "#CC79A7",
    "l2": "#56B4E9",
    "snp": "#E69F00",
    "cbp": "#0072B2",
}
#: one marker per method, so that methods differ by shape as well as colour
METHOD_MARKERS = {
    "finetune": "v",
    "joint": "*",
    "replay": "o",
    "ewc": "X",
    "dark_er": "s",
    "dark_er_pp": "D",
    "der": "^",
    "memo": "P",
}
ANNOTATION = {"size": 11}  # numbers written in heatmap cells

sns.set_theme(style="whitegrid", context="notebook", font_scale=1.2, palette=OKABE_ITO)


#: a figure is read on a projector at this width (pixels), and its text must be this large
PROJECTOR_PX, TEXT_PX = 1280, 14
#: at most this many panels in one figure
MAX_PANELS = 4


def too_small(fig) -> list[str]:
    """What keeps ``fig`` from reading well on a projector: each visible text smaller than
    ``TEXT_PX`` pixels when the figure is shown ``PROJECTOR_PX`` pixels wide, and more than
    ``MAX_PANELS`` panels (axes with their axis drawn, colour bars not counted; a grid of
    pictures without axes is one). Empty: the figure is fine."""
    from matplotlib.text import Text

    fig.canvas.draw()  # tick labels exist once drawn
    points_per_px = 72 * fig.get_figwidth() / PROJECTOR_PX  # inches of figure per pixel shown
    shown = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    found = [
        f"{t.get_text()[:30]!r} at {t.get_fontsize() / points_per_px:.1f} px"
        for t in shown
        if t.get_fontsize() / points_per_px < TEXT_PX - 1e-6
    ]
    colorbars = {ax for ax in fig.axes if hasattr(ax, "_colorbar")}
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.axison and ax not in colorbars]
    if len(panels) > MAX_PANELS:
        found.append(f"{len(panels)} panels (at most {MAX_PANELS})")
    return found


def color(method: str, default: str | None = None) -> str | None:
    """The colour of a method (its name, or a label that starts with it)."""
    if method in METHOD_COLORS:
        return METHOD_COLORS[method]
    return next((c for m, c in METHOD_COLORS.items() if method.lower().startswith(m)), default)


def _axes(ax, size=(6, 4)):
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def seeds_of(runs: Result | list[Result]) -> list[Result]:
    return [runs] if isinstance(runs, Result) else list(runs)


def _text_colour(rgba) -> str:
    """Dark text on a light cell, white on a dark one (W3C relative luminance, as seaborn)."""
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3])
    return ".15" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.408 else "w"


def heatmap(ax, values: np.ndarray, xticklabels, yticklabels, text=None, label="accuracy",
            cbar: bool = True):  # fmt: skip
    """Cells coloured on the fixed 0..1 viridis scale (blank where NaN), row 0 at the top,
    ``text[i][j]`` written in each coloured cell (dark on light cells, white on dark ones)
    and a colour bar: seaborn's heatmap, without its full drawing of the figure to see
    whether tick labels overlap, which took most of a panel's plotting time."""
    values = np.ma.masked_invalid(np.asarray(values, dtype=float))
    mesh = ax.pcolormesh(values, cmap="viridis", vmin=0, vmax=1)
    ax.set(xlim=(0, values.shape[1]), ylim=(values.shape[0], 0))
    if cbar:
        ax.figure.colorbar(mesh, ax=ax, label=label).outline.set_linewidth(0)
    ax.set_xticks(np.arange(values.shape[1]) + 0.5, xticklabels,
                  rotation=90 if values.shape[1] > 20 else 0)  # fmt: skip
    ax.set_yticks(np.arange(values.shape[0]) + 0.5, yticklabels, va="center")
    ax.tick_params(length=0)
    ax.spines[:].set_visible(False)
    ax.grid(False)
    if text is None:
        return ax
    colours = mesh.to_rgba(values.ravel())
    for (i, j), colour in zip(np.ndindex(values.shape), colours, strict=True):
        if values.mask is np.ma.nomask or not values.mask[i, j]:
            ax.text(j + 0.5, i + 0.5, text[i][j], ha="center", va="center",
                    color=_text_colour(colour), **ANNOTATION)  # fmt: skip
    return ax


def mean_array(runs, name: str) -> np.ndarray:
    """The mean over seeds of a per-run array (NaN where not measured)."""
    return np.mean([r.array(name) for r in seeds_of(runs)], axis=0)


def interval(values) -> tuple[np.ndarray, np.ndarray]:
    """Mean over the first axis (seeds) and the half-width of its 95% interval."""
    from .metrics import seed_summary

    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    stats = [seed_summary(column) for column in v.T]
    return np.array([s["mean"] for s in stats]), np.array([s["ci95"] for s in stats])


def band(ax, x, values, label: str | None = None, color: str | None = None, clip=None, **line):
    """Mean over seeds (rows of ``values``) as a line, its 95% interval as a band (cut to
    ``clip`` = (low, high), the range the values can take, if given)."""
    mean, half = interval(values)
    (drawn,) = ax.plot(x, mean, label=label, color=color, **line)
    if len(values) > 1:
        low, high = mean - half, mean + half
        if clip is not None:
            low, high = np.clip(low, *clip), np.clip(high, *clip)
        ax.fill_between(x, low, high, color=drawn.get_color(), alpha=0.2, lw=0)
    return drawn


def seed_points(groups: dict[str, list[float]], ax=None, ylabel: str = "", title: str = "",
                colors: dict | None = None):  # fmt: skip
    """One bar per group at its mean over seeds, a dot per seed and the 95% interval."""
    ax = _axes(ax)
    for k, (name, values) in enumerate(groups.items()):
        values = np.asarray(values, dtype=float)
        mean, half = interval(values)
        c = (colors or {}).get(name) or color(name, OKABE_ITO[k % len(OKABE_ITO)])
        ax.bar(k, mean[0], color=c, alpha=0.45, width=0.6)
        ax.errorbar(k, mean[0], yerr=half[0], color="k", capsize=6, lw=1.5)
        jitter = np.linspace(-0.12, 0.12, len(values)) if len(values) > 1 else [0]
        ax.plot(k + np.asarray(jitter), values, "o", color=c, mec="k", ms=6)
    ax.set_xticks(range(len(groups)), list(groups), rotation=15, ha="right")
    ax.set(ylabel=ylabel, title=title)
    return ax


def _task_bounds(result: Result) -> np.ndarray:
    return np.cumsum(result.classes_per_task)[:-1]


def _seeds_note(runs) -> str:
    n = len(seeds_of(runs))
    return "" if n == 1 else f" (mean of {n} seeds)"


def per_class_heatmap(runs, ax=None, title: str | None = None, annotate: bool = True,
                      cbar: bool = True):  # fmt: skip
    """Rows: after task i. Columns: classes in the order they arrive (labelled with their
    original label). Cells: test accuracy of that class (mean over seeds), written in the
    cell where it is wide enough to read; blank where not seen yet."""
    first = seeds_of(runs)[0]
    acc = mean_array(runs, "per_class_accuracy")
    ax = _axes(ax, (0.6 * acc.shape[1] + 2.5, 0.5 * acc.shape[0] + 1.8))
    cell_inches = ax.get_position().width * ax.figure.get_figwidth() / acc.shape[1]
    wide = annotate and cell_inches >= 0.5  # room to write the number in a cell
    text = [[f"{v:.2f}" for v in row] for row in acc] if wide else None
    heatmap(ax, acc, first.class_order, [f"after task {i + 1}" for i in range(len(acc))], text,
            cbar=cbar)  # fmt: skip
    for b in _task_bounds(first):
        ax.axvline(b, color="white", lw=2)
    ax.set_xlabel("class (in order of arrival)")
    ax.set_title((title or f"{first.method}: per-class accuracy") + _seeds_note(runs))
    return ax


def accuracy_curves(results: dict, ax=None, title: str | None = None):
    """Accuracy on all seen classes after each task, one line per method: the mean over
    seeds with its 95% interval as a band."""
    ax = _axes(ax)
    for name, runs in results.items():
        runs = seeds_of(runs)
        seen = np.cumsum(runs[0].classes_per_task)
        avg = np.mean([r.average_incremental_accuracy for r in runs])
        band(ax, seen, [r.task_accuracy for r in runs], f"{name} (avg {avg:.2f})",
             color(name), marker="o")  # fmt: skip
    ax.set(
        xlabel="classes seen",
        ylabel="accuracy on all seen classes",
        ylim=(0, 1.02),
        title=title or "accuracy after each task" + _seeds_note(next(iter(results.values()))),
    )
    ax.legend()
    return ax


def accuracy_matrix(runs, ax=None, title: str | None = None):
    """R[i, j]: accuracy on task j's classes after training task i (mean over seeds)."""
    R = mean_array(runs, "accuracy_matrix")
    ax = _axes(ax, (0.7 * len(R) + 2.5, 0.6 * len(R) + 1.8))
    labels = [str(i + 1) for i in range(len(R))]
    text = [[f"{v:.2f}" for v in row] for row in R] if len(R) <= 12 else None
    heatmap(ax, R, labels, labels, text)
    ax.set(
        xlabel="evaluated on task j",
        ylabel="after training task i",
        title=(title or f"{seeds_of(runs)[0].method}: accuracy matrix R[i, j]") + _seeds_note(runs),
    )
    return ax


def classifier_norms(runs, ax=None, task: int = -1, title: str | None = None):
    """The L2 norm of each class's classifier row after a task, old vs newest classes:
    bars at the mean over seeds, a dot per seed, a line at each group's mean."""
    runs = seeds_of(runs)
    result = runs[0]
    norms = np.array([r.array("classifier_norms")[task] for r in runs])
    t = task % len(result.classes_per_task)
    seen = int(np.sum(result.classes_per_task[: t + 1]))
    new_from = seen - result.classes_per_task[t]
    ax = _axes(ax)
    mean = norms[:, :seen].mean(0)
    colors = [OKABE_ITO[0] if c < new_from else OKABE_ITO[1] for c in range(seen)]
    ax.bar(range(seen), mean, color=colors, alpha=0.7)
    if len(runs) > 1:
        for c in range(seen):
            ax.plot([c] * len(runs), norms[:, c], ".", color="k", ms=4)
    for lo, hi, group in ((0, new_from, "old"), (new_from, seen, "new")):
        if hi > lo:
            ax.hlines(mean[lo:hi].mean(), lo - 0.4, hi - 0.6, color="k", lw=2, ls="--")
            ax.text(hi - 0.6, mean[lo:hi].mean(), f" {group} mean", va="bottom", fontsize=11)
    ax.set_xticks(range(seen), [str(c) for c in result.class_order[:seen]])
    ax.set(
        xlabel="class (blue: old, orange: new)",
        ylabel="|w_c|",
        title=title or f"{result.method}: classifier weight norms after task {t + 1}",
    )
    return ax


def stream_picture(stream, per_class: int = 3, fig=None, tasks: int = 10, classes: int = 5):
    """Example training images of each task, one column per task: the stream a learner sees
    (at most the first ``tasks`` tasks and ``classes`` classes of each)."""
    shown = stream.tasks[:tasks]
    T = len(shown)
    width = min(classes, max(len(t.classes) for t in shown))
    fig = fig or plt.figure(figsize=(1.6 * T, 0.6 * width * per_class + 0.6), layout="constrained")
    axes = fig.subplots(width * per_class, T, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for t, task in enumerate(shown):
        axes[0, t].set_title(f"task {t + 1}", fontsize=11)
        for k, c in enumerate(task.classes[:width]):
            xs = task.train.x[0, task.train.y[0] == c][:per_class].cpu()
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
                        fontsize=11,
                    )
    return fig


# --- expandable networks (DER, MEMO) and memory --------------------------------------------


def parameter_growth(results: dict, ax=None, title: str | None = None):
    """Parameters after each task, one line per method (DER grows by a backbone per task,
    MEMO by a specialized block, a single network by classifier rows only)."""
    ax = _axes(ax)
    for name, runs in results.items():
        r = seeds_of(runs)[0]  # the same for every seed
        tasks = np.arange(1, len(r.num_parameters_per_task) + 1)
        ax.plot(tasks, r.num_parameters_per_task, marker="o", label=name, color=color(name))
    ax.set(xlabel="after task", ylabel="parameters", title=title or "parameters per task")
    ax.set_xticks(tasks)
    ax.set_ylim(bottom=0)
    ax.legend()
    return ax


def norms_before_after(runs, ax=None, task: int = -1, title: str | None = None):
    """Classifier row norms of each class after a task, before weight aligning (extras
    ``classifier_norms_before_align``) and after (``classifier_norms``): means over seeds,
    with each group's (old, new) mean as a line."""
    runs = seeds_of(runs)
    result = runs[0]
    before = np.mean([r.extras["classifier_norms_before_align"][task] for r in runs], 0)
    after = mean_array(runs, "classifier_norms")[task][: len(before)]
    t = task % len(result.classes_per_task)
    new_from = len(before) - result.classes_per_task[t]
    ax = _axes(ax)
    pos = np.arange(len(before))
    ax.bar(pos - 0.2, before, 0.4, color=OKABE_ITO[8], label="before aligning")
    ax.bar(pos + 0.2, after, 0.4, color=OKABE_ITO[1], label="after aligning")
    for values, shift, c in ((before, -0.2, "k"), (after, 0.2, OKABE_ITO[3])):
        for lo, hi in ((0, new_from), (new_from, len(before))):
            ax.hlines(values[lo:hi].mean(), lo - 0.4 + shift, hi - 0.6 + shift, color=c, lw=2)
    ax.axvline(new_from - 0.5, color="k", lw=1, ls="--")
    ax.set_xticks(pos, [str(c) for c in result.class_order[: len(before)]])
    ax.set(
        xlabel="class (right of the dashed line: new); lines: group means",
        ylabel="|w_c|",
        title=(title or f"classifier norms after task {t + 1}") + _seeds_note(runs),
    )
    ax.legend(loc="lower left")
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
        ax.text(x + bw / 2, y + bh / 2, text, ha="center", va="center", fontsize=11)

    def arrow(x0, y0, x1, y1, **kw):
        ax.add_patch(
            FancyArrowPatch(
                (x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=12, color="k", lw=1.2, **kw
            )
        )

    top = 4.1 if shared else 5.3  # the top of the per-task blocks
    ax.text(right / 2, 6.0, "input x", ha="center", va="center", fontsize=11)
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
    box(0, 1.25, right, 0.45, "concatenated features" if tasks > 1 else "features", "#eeeeee")
    box(right / 2 - 0.9, 0, 1.8, 0.65, "classifier\n(all classes)", "#b6e3b6")
    arrow(right / 2, 1.2, right / 2, 0.7)
    if tasks > 1:
        box(right + 0.3, 0, 1.2, 0.65, "aux head\n|new| + 1", "#f3b6b6")
        arrow(right + 0.05, 3.0, right + 0.9, 0.7, connectionstyle="angle,angleA=0,angleB=90")
    ax.set_title(title or f"after task {tasks}: orange trains, grey is frozen")
    return ax


# --- rehearsal under a budget (notebook 02b) -----------------------------------------------


def exemplar_kb(runs) -> float:
    """The exemplar memory of a run in kB (1000 bytes): images, plus Dark ER's logits."""
    return seeds_of(runs)[0].memory_bytes["exemplars"] / 1000


def budget_curves(curves: dict, ax=None, in_bytes: bool = False, reference=None,
                  title: str | None = None, styles: dict | None = None):  # fmt: skip
    """Final accuracy against the exemplar budget (or, ``in_bytes``, the exemplar memory in
    kB), one line per label of ``curves`` ({label: {budget: runs}}): the mean over seeds
    with its 95% band; a label at a single budget is a point with its interval. Log axis,
    ticked at the values used. ``reference`` (runs without memory, e.g. fine-tuning) is a
    grey line with its band; ``styles[label]`` holds extra line options (colour, ls, marker)."""
    ax = _axes(ax)
    ticks = set()
    for label, levels in curves.items():
        budgets = sorted(levels)
        x = [exemplar_kb(levels[b]) if in_bytes else b for b in budgets]
        ticks.update(x)
        acc = np.array([[r.final_accuracy for r in seeds_of(levels[b])] for b in budgets]).T
        style = {"color": color(label), "marker": "o", **(styles or {}).get(label, {})}
        if len(budgets) == 1:
            mean, half = interval(acc)
            ax.errorbar(x, mean, yerr=half, capsize=5, ms=9, ls="none", label=label, **style)
        else:
            band(ax, x, acc, label, **style)
    if reference is not None:
        mean, half = interval([r.final_accuracy for r in seeds_of(reference)])
        ax.axhline(mean[0], color=color("finetune"), ls="--", lw=2, label="fine-tuning (no memory)")
        ax.axhspan(mean[0] - half[0], mean[0] + half[0], color=color("finetune"), alpha=0.2, lw=0)
    ax.set_xscale("log")
    ax.set_xticks(sorted(ticks), [f"{t:g}" for t in sorted(ticks)])
    ax.minorticks_off()
    plt.setp(ax.get_xticklabels(), rotation=45 if in_bytes else 0)
    ax.set(
        xlabel="exemplar memory (kB)" if in_bytes else "exemplars stored (total budget)",
        ylabel="final accuracy (all classes)",
        ylim=(0, 1.02),
        title=title or ("equal bytes" if in_bytes else "equal samples"),
    )
    ax.legend(loc="lower right")
    return ax


def align_before_after(runs, ax=None, title: str | None = None):
    """Accuracy on the seen classes after each incremental task, on the same network just
    before weight aligning (DER's measurement, extras ``per_class_accuracy_before_align``)
    and right after it: a thin line per seed, the mean over seeds bold."""
    runs = seeds_of(runs)
    ax = _axes(ax)
    tasks, pairs = [], []
    for t, before in enumerate(runs[0].extras["per_class_accuracy_before_align"]):
        if before is not None:
            tasks.append(t + 1)
            pairs.append(
                [
                    (
                        np.mean(r.extras["per_class_accuracy_before_align"][t]),
                        np.nanmean(r.array("per_class_accuracy")[t]),
                    )
                    for r in runs
                ]
            )
    pairs = np.array(pairs)  # (tasks, seeds, before/after)
    for k, (label, c) in enumerate((("before aligning", OKABE_ITO[8]), ("after", OKABE_ITO[1]))):
        ax.plot(tasks, pairs[:, :, k], color=c, lw=1, alpha=0.5)
        ax.plot(tasks, pairs[:, :, k].mean(1), color=c, lw=3, marker="o", label=label)
    ax.set_xticks(tasks)
    ax.set(xlabel="after task", ylabel="accuracy on the seen classes", ylim=(0, 1.02),
           title=title or "the same network, before and after aligning")  # fmt: skip
    ax.legend(loc="lower left")
    return ax


def block_similarity(runs, ax=None, shared: list[str] = (), title: str | None = None):
    """Linear CKA between the first task's backbone and the newest one, per block, after
    each task (mean over seeds with its 95% interval): DER's runs record it
    (``extras["block_similarity"]``). Solid lines: the blocks in ``shared``."""
    runs = seeds_of(runs)
    ax = _axes(ax)
    blocks = list(runs[0].extras["block_similarity"][0])
    tasks = np.arange(2, len(runs[0].extras["block_similarity"]) + 2)
    for k, block in enumerate(blocks):
        values = [[t[block] for t in r.extras["block_similarity"]] for r in runs]
        name = block + (" (shared by MEMO)" if block in shared else "")
        style = "-" if block in shared else "--"
        band(ax, tasks, values, name, OKABE_ITO[k % len(OKABE_ITO)], marker="o", ls=style)
    ax.set_xticks(tasks)
    ax.set(xlabel="after task", ylabel="linear CKA with the first backbone", ylim=(0, 1.02),
           title=title or "how similar each block stays" + _seeds_note(runs))  # fmt: skip
    ax.legend()
    return ax
