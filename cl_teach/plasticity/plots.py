"""Figures of the plasticity experiments. ``runs`` maps a label to the result of one seed
(:func:`cl_teach.plasticity.run_plasticity`). Each function draws on ``ax`` (a new figure
if omitted) and returns the axes."""

from __future__ import annotations

import numpy as np

from ..plots import _axes

COLORS = {
    "bp": "tab:red",
    "retrain": "tab:gray",
    "head_reset": "tab:purple",
    "l2": "tab:brown",
    "snp": "tab:orange",
    "cbp": "tab:green",
}
NAMES = {
    "bp": "backprop",
    "retrain": "fresh network (retrain)",
    "head_reset": "head reset",
    "l2": "L2 (weight decay)",
    "snp": "Shrink & Perturb",
    "cbp": "continual backprop",
}


def _tasks(run: dict) -> np.ndarray:
    return np.arange(1, run["tasks"] + 1)


def site_label(site: str) -> str:
    """A short name for an activation site: ``backbone.fc1.1`` -> ``fc1``,
    ``backbone.layer1.0.relu#2`` -> ``layer1.0#2`` (the block's second ReLU call)."""
    name, _, call = site.partition("#")
    short = name.removeprefix("backbone.").rsplit(".", 1)[0]
    return f"{short}#{call}" if call else short


def _style(label: str, run: dict) -> dict:
    method = run["method"]
    return {"color": COLORS.get(label, COLORS.get(method)), "label": NAMES.get(label, label)}


def new_task_accuracy(runs: dict[str, dict], ax=None, title: str | None = None):
    """Test accuracy on each task right after learning it, one line per run."""
    ax = _axes(ax)
    for label, run in runs.items():
        ax.plot(_tasks(run), run["new_task_accuracy"], marker=".", **_style(label, run))
    ax.set(
        xlabel="task",
        ylabel="accuracy on the new task",
        ylim=(0, 1.02),
        title=title or "how well is each new task learnt?",
    )
    ax.legend(fontsize=9)
    return ax


def dormant_fraction(
    runs: dict[str, dict], ax=None, per_site: bool = True, title: str | None = None
):
    """Fraction of dormant units after each task: whole network (thick) and, with
    ``per_site``, each activation site (thin, dotted, longer dashes for deeper sites)."""
    ax = _axes(ax)
    for label, run in runs.items():
        style = _style(label, run)
        ax.plot(_tasks(run), run["dormant_fraction"], lw=2.2, **style)
        if per_site:
            sites = list(run["dormant_fraction_per_site"][0])
            for i, name in enumerate(sites):
                values = [d[name] for d in run["dormant_fraction_per_site"]]
                ax.plot(
                    _tasks(run),
                    values,
                    lw=0.9,
                    ls=(0, (1 + i, 1.5)),
                    color=style["color"],
                    alpha=0.7,
                    label=f"  {site_label(name)}" if len(runs) == 1 else None,
                )
    ax.set(
        xlabel="task",
        ylabel="fraction of dormant units",
        ylim=(-0.02, 1.02),
        title=title or "dormant units (active on < 1% of probe inputs)",
    )
    ax.legend(fontsize=9)
    return ax


def dormant_map(run: dict, ax=None, title: str | None = None):
    """Which units are dormant (dark) after each task: rows are units, site by site."""
    masks = run["dormant_mask"]
    sites = list(masks[0])
    grid = np.array([[u for name in sites for u in m[name]] for m in masks], dtype=float).T
    ax = _axes(ax, (7, 4))
    ax.imshow(
        grid,
        aspect="auto",
        cmap="Greys",
        vmin=0,
        vmax=1,
        interpolation="nearest",
        extent=(0.5, run["tasks"] + 0.5, grid.shape[0], 0),
    )
    edge = 0
    for name in sites:
        size = len(masks[0][name])
        ax.axhline(edge, color="tab:blue", lw=1)
        ax.text(run["tasks"] + 0.8, edge + size / 2, site_label(name), va="center", fontsize=9)
        edge += size
    ax.grid(False)
    ax.set(
        xlabel="task",
        ylabel="unit",
        title=title or f"{NAMES.get(run['method'])}: dormant units (black)",
    )
    return ax


def representation(runs: dict[str, dict], axes):
    """Effective rank (solid) and stable rank (dashed) of the last hidden layer's
    representation, and the average weight magnitude."""
    for label, run in runs.items():
        style = _style(label, run)
        axes[0].plot(_tasks(run), run["effective_rank"], **style)
        axes[0].plot(_tasks(run), run["stable_rank"], ls="--", color=style["color"])
        axes[1].plot(_tasks(run), run["weight_magnitude"], **style)
    axes[0].set(
        xlabel="task",
        ylabel="rank",
        title="effective rank (solid), stable rank (dashed): last hidden layer",
    )
    axes[1].set(xlabel="task", ylabel="mean |w|", title="average weight magnitude")
    axes[0].set_ylim(bottom=0)
    axes[1].legend(fontsize=9)
    return axes


def utility_bars(learner, k: int, ax=None, next_n: int = 3, title: str | None = None, seed=0):
    """Continual backprop's bias-corrected utility of each unit of layer ``k`` (of the seed
    at position ``seed``): grey = immature (immune), red = the ``next_n`` mature units with
    the lowest utility, the next to be replaced."""
    utility = learner.bias_corrected_utility(k)[seed].cpu().numpy()
    mature = (learner.age[k][seed] > learner.maturity).cpu().numpy()
    going = set(learner.lowest_utility(k, seed, min(next_n, int(mature.sum()))).tolist())
    colors = [
        "tab:red" if i in going else ("tab:blue" if mature[i] else "lightgray")
        for i in range(len(utility))
    ]
    ax = _axes(ax, (10, 3.5))
    ax.bar(range(len(utility)), utility, color=colors)
    young = np.flatnonzero(~mature)
    ax.plot(young, np.zeros(len(young)), "^", color="gray", ms=6, clip_on=False)
    for i in going:
        ax.plot(i, 0, "v", color="tab:red", ms=7, clip_on=False)
    ax.set(
        xlabel="unit (red: next to go; grey \u25b2: immune)",
        ylabel="utility (bias-corrected)",
        title=title or f"contribution utility, {site_label(learner.layers[k].site)}",
    )
    return ax


def rate_cost(sweep: dict[float, dict], ax=None, title: str | None = None):
    """Mean new-task accuracy over the first and the last fifth of the tasks, per
    replacement rate: too high a rate costs accuracy even before plasticity is lost."""
    ax = _axes(ax)
    rates = list(sweep)
    x = np.arange(len(rates))
    for offset, part, color in ((-0.2, "first", "tab:blue"), (0.2, "last", "tab:green")):
        values = []
        for run in sweep.values():
            acc, k = run["new_task_accuracy"], max(1, run["tasks"] // 5)
            values.append(np.mean(acc[:k] if part == "first" else acc[-k:]))
        ax.bar(x + offset, values, 0.4, color=color, label=f"{part} fifth of the tasks")
    ax.set_xticks(x, ["0 (bp)" if r == 0 else f"{r:.0e}" for r in rates])
    ax.set(
        xlabel="replacement rate",
        ylabel="mean new-task accuracy",
        ylim=(0, 1.15),
        title=title or "continual backprop: what the reset rate costs",
    )
    ax.legend(fontsize=9, loc="upper center", ncol=2)
    return ax
