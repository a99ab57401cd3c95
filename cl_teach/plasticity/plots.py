"""Figures of the plasticity experiments, in the collection's style (:mod:`cl_teach.plots`):
one colour per method, the mean over seeds with its 95% interval as a band, or a dot per
seed. ``results`` maps a method to its runs, one result dict per seed
(:func:`cl_teach.plasticity.run_plasticity_seeds`). Each function draws on ``ax`` (a new
figure if omitted) and returns the axes."""

from __future__ import annotations

import numpy as np

from ..plots import OKABE_ITO, _axes, band, color, seed_points

NAMES = {
    "bp": "backprop",
    "retrain": "fresh network",
    "head_reset": "head reset",
    "l2": "L2 (weight decay)",
    "snp": "Shrink & Perturb",
    "cbp": "continual backprop",
}


def name(method: str) -> str:
    return NAMES.get(method, method)


def method_color(method: str) -> str:
    return color(method, OKABE_ITO[7])


def _tasks(runs: list[dict]) -> np.ndarray:
    return np.arange(1, runs[0]["tasks"] + 1)


def _seeds(results: dict) -> str:
    n = len(next(iter(results.values())))
    return f" ({n} seeds: mean, 95% band)" if n > 1 else " (1 seed)"


def _bands(results: dict, field: str, ax, **line) -> None:
    for method, runs in results.items():
        per_seed = [r[field] for r in runs]
        band(ax, _tasks(runs), per_seed, name(method), method_color(method), **line)


def site_label(site: str) -> str:
    """A short name for an activation site: ``backbone.fc1.1`` -> ``fc1``,
    ``backbone.layer1.0.relu#2`` -> ``layer1.0#2`` (the block's second ReLU call)."""
    site_name, _, call = site.partition("#")
    short = site_name.removeprefix("backbone.").rsplit(".", 1)[0]
    return f"{short}#{call}" if call else short


def new_task_accuracy(results: dict, ax=None, title: str | None = None):
    """Test accuracy on each task right after learning it, one band per method."""
    ax = _axes(ax)
    _bands(results, "new_task_accuracy", ax, marker=".")
    ax.set(xlabel="task", ylabel="accuracy on the new task", ylim=(0, 1.02))
    ax.set_title((title or "how well is each new task learned?") + _seeds(results), fontsize=12)
    ax.legend(fontsize=10)
    return ax


def dormant_fraction(results: dict, ax=None, title: str | None = None):
    """Fraction of the network's units that are dormant after each task, one band per method."""
    ax = _axes(ax)
    _bands(results, "dormant_fraction", ax)
    ax.set(xlabel="task", ylabel="fraction of dormant units", ylim=(-0.02, 1.02))
    ax.set_title((title or "dormant units (active on < 1% of probe inputs)"), fontsize=12)
    ax.legend(fontsize=10)
    return ax


def dormant_per_site(runs: list[dict], ax=None, title: str | None = None):
    """Dormant fraction of each activation site (layer) of one method, mean over seeds with
    its band; the legend names the sites, deeper sites darker."""
    ax = _axes(ax)
    sites = list(runs[0]["dormant_fraction_per_site"][0])
    shades = np.linspace(0.35, 1.0, len(sites))
    base = np.array(_rgb(method_color(runs[0]["method"])))
    for i, (site, shade) in enumerate(zip(sites, shades, strict=True)):
        per_seed = [[d[site] for d in r["dormant_fraction_per_site"]] for r in runs]
        rgb = tuple(1 - shade * (1 - base))  # lighter for the first sites
        band(ax, _tasks(runs), per_seed, site_label(site), rgb, ls=("-", "--", ":", "-.")[i % 4])
    ax.set(xlabel="task", ylabel="fraction of dormant units", ylim=(-0.02, 1.02))
    ax.set_title(title or f"{name(runs[0]['method'])}: dormant units per layer", fontsize=12)
    ax.legend(fontsize=9 if len(sites) <= 6 else 7, ncol=1 if len(sites) <= 6 else 3)
    return ax


def _rgb(hex_color: str) -> tuple[float, float, float]:
    h = hex_color.lstrip("#")
    return tuple(int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))


def representation(results: dict, axes):
    """Effective rank (solid) and stable rank (dashed) of the last hidden layer, and the
    average weight magnitude, one band per method."""
    _bands(results, "effective_rank", axes[0])
    for method, runs in results.items():
        band(axes[0], _tasks(runs), [r["stable_rank"] for r in runs], None,
             method_color(method), ls="--")  # fmt: skip
    _bands(results, "weight_magnitude", axes[1])
    axes[0].set(xlabel="task", ylabel="rank")
    axes[0].set_title(
        "last hidden layer: effective rank (solid), stable rank (dashed)", fontsize=12
    )
    axes[0].set_ylim(bottom=0)
    axes[1].set(xlabel="task", ylabel="mean |w|")
    axes[1].set_title("average weight magnitude", fontsize=12)
    axes[1].legend(fontsize=10)
    return axes


def last_fifth(results: dict, ax=None, title: str | None = None):
    """Mean new-task accuracy over the last fifth of the tasks: a bar per method at the mean
    over seeds, a dot per seed, the 95% interval."""
    groups = {name(m): [r["last_fifth_accuracy"] for r in runs] for m, runs in results.items()}
    colors = {name(m): method_color(m) for m in results}
    ax = seed_points(groups, ax, "accuracy on the new task", "", colors)
    ax.set_ylim(0, 1.02)
    ax.set_title(title or "the last fifth of the tasks, seed by seed", fontsize=12)
    return ax


def dormant_map(run: dict, ax=None, title: str | None = None):
    """Which units of one seed's network are dormant (dark) after each task: rows are units,
    site by site."""
    masks = run["dormant_mask"]
    sites = list(masks[0])
    grid = np.array([[u for site in sites for u in m[site]] for m in masks], dtype=float).T
    ax = _axes(ax, (7, 4))
    ax.imshow(grid, aspect="auto", cmap="Greys", vmin=0, vmax=1, interpolation="nearest",
              extent=(0.5, run["tasks"] + 0.5, grid.shape[0], 0))  # fmt: skip
    edge = 0
    for site in sites:
        size = len(masks[0][site])
        ax.axhline(edge, color=OKABE_ITO[0], lw=1)
        if len(sites) <= 6:
            ax.text(run["tasks"] + 0.8, edge + size / 2, site_label(site), va="center", fontsize=10)
        edge += size
    ax.grid(False)
    ax.set(xlabel="task", ylabel="unit")
    ax.set_title(title or f"{name(run['method'])}, seed {run['seed']}: dormant units (black)",
                 fontsize=12)  # fmt: skip
    return ax


def units_replaced(runs: list[dict], ax=None, title: str | None = None):
    """Units continual backprop replaced in each task, mean over seeds, and what fraction of
    its replaceable units that is."""
    ax = _axes(ax)
    total = sum(len(layer["utility"]) for layer in runs[0]["unit_state"])
    per_seed = [r["units_replaced_per_task"] for r in runs]
    band(ax, _tasks(runs), per_seed, name("cbp"), method_color("cbp"), marker=".")
    mean = float(np.mean(per_seed))
    ax.axhline(mean, color="k", lw=1, ls=":")
    ax.text(0.02, 0.95, f"mean: {mean:.1f} of {total} units per task ({mean / total:.0%})",
            transform=ax.transAxes, va="top", fontsize=11)  # fmt: skip
    rate = runs[0]["config"]["replacement_rate"]
    ax.set(xlabel="task", ylabel="units replaced in the task")
    ax.set_ylim(bottom=0, top=max(1.0, 1.4 * np.max(per_seed)))
    ax.set_title(title or f"continual backprop at rate {rate:g}: units replaced", fontsize=12)
    return ax


def utility_bars(layer: dict, maturity: int, ax=None, next_n: int = 3, title: str | None = None):
    """One layer of continual backprop (``layer``: an entry of a run's ``unit_state``): each
    unit's bias-corrected utility. Grey: younger than ``maturity`` (immune); vermillion: the
    ``next_n`` mature units with the lowest utility, the next to be replaced."""
    utility, age = np.asarray(layer["utility"]), np.asarray(layer["age"])
    mature = np.flatnonzero(age > maturity)
    going = set(mature[np.argsort(utility[mature], kind="stable")[:next_n]].tolist())
    colors = [
        OKABE_ITO[3] if i in going else (OKABE_ITO[0] if age[i] > maturity else "lightgray")
        for i in range(len(utility))
    ]
    ax = _axes(ax, (10, 3.5))
    ax.bar(range(len(utility)), utility, color=colors)
    young = np.flatnonzero(age <= maturity)
    ax.plot(young, np.zeros(len(young)), "^", color="gray", ms=6, clip_on=False)
    for i in going:
        ax.plot(i, 0, "v", color=OKABE_ITO[3], ms=7, clip_on=False)
    ax.set(xlabel="unit (\u25bc next to go; grey \u25b2 immune)", ylabel="utility")
    ax.set_title(title or f"contribution utility, {site_label(layer['site'])}", fontsize=12)
    return ax


def free_lunch(sweep: dict, ax=None, title: str | None = None):
    """How far below a fresh network backprop and continual backprop at each rate learn the
    first fifth of the tasks, at each width: a bar per rate at the mean over seeds, a dot
    per seed (``sweep``: :func:`cl_teach.lessons.remedies.free_lunch`)."""
    groups, colors = {}, {}
    for width, runs in sweep.items():  # width: the network's name
        fresh = np.array([np.mean(r["new_task_accuracy"]) for r in runs["retrain"]])
        for label, rs in runs.items():
            if label == "retrain":
                continue
            key = f"{width}: " + ("backprop" if label == "bp" else f"rate {label:g}")
            groups[key] = fresh - [np.mean(r["new_task_accuracy"]) for r in rs]
            colors[key] = method_color("bp" if label == "bp" else "cbp")
    ax = seed_points(groups, _axes(ax, (9, 4.5)), "fresh network minus method", "", colors)
    ax.axhline(0, color="k", lw=1)
    for k in range(1, len(sweep)):
        ax.axvline(k * len(groups) / len(sweep) - 0.5, color="k", lw=1, ls=":")
    ax.set_title(title or "accuracy below a fresh network, first fifth of the tasks", fontsize=12)
    return ax
