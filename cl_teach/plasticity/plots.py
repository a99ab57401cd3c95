"""Figures of the plasticity experiments, in the collection's style (:mod:`cl_teach.plots`):
one colour per method, the mean over seeds with its 95% interval as a band (cut to the
range the values can take), or a dot per seed. ``results`` maps a method to its runs, one
result dict per seed (:func:`cl_teach.plasticity.run_plasticity_seeds`). Each function draws
on ``ax`` (a new figure if omitted) and returns the axes.

Sized for a projector: a figure is at most :data:`WIDTH` inches wide with no text under
:data:`SMALL` points, so that shown 1280 pixels wide its smallest text is 14 pixels high.
"""

from __future__ import annotations

import numpy as np

from ..plots import OKABE_ITO, _axes, band, color, seed_points

WIDTH = 13.5  # inches: the widest figure
SMALL = 11  # points: legends and notes
TITLE = 13  # points: panel titles
NAMES = {
    "bp": "backprop",
    "retrain": "fresh network",
    "head_reset": "head reset",
    "l2": "L2 (weight decay)",
    "snp": "Shrink & Perturb",
    "cbp": "continual backprop",
}
#: continual backprop with one mechanism switched off (notebook 06's ablations)
ABLATION_COLORS = {
    "random units": OKABE_ITO[5],
    "no maturity": OKABE_ITO[4],
    "no running average": OKABE_ITO[7],
}
UNIT = (0.0, 1.0)  # accuracies and fractions


def name(method: str) -> str:
    return NAMES.get(method, method)


def method_color(method: str) -> str:
    return ABLATION_COLORS.get(method) or color(method, OKABE_ITO[7])


def _tasks(runs: list[dict], field: str = "new_task_accuracy") -> np.ndarray:
    return np.arange(1, len(runs[0][field]) + 1)


def _seeds(results: dict) -> str:
    n = len(next(iter(results.values())))
    return f" ({n} seeds)" if n > 1 else " (1 seed)"


def _bands(results: dict, field: str, ax, clip=None, **line) -> None:
    for method, runs in results.items():
        per_seed = [r[field] for r in runs]
        band(ax, _tasks(runs, field), per_seed, name(method), method_color(method), clip, **line)


def _legend(ax, **kw) -> None:
    ax.legend(fontsize=SMALL, **kw)


def site_label(site: str) -> str:
    """A short name for an activation site: ``backbone.fc1.1`` -> ``fc1``,
    ``backbone.layer1.0.relu#2`` -> ``layer1.0#2`` (the block's second ReLU call)."""
    site_name, _, call = site.partition("#")
    short = site_name.removeprefix("backbone.").rsplit(".", 1)[0]
    return f"{short}#{call}" if call else short


def new_task_accuracy(results: dict, ax=None, title: str | None = None, bottom: float = 0.0):
    """Test accuracy on each task right after learning it, one band per method."""
    ax = _axes(ax)
    _bands(results, "new_task_accuracy", ax, (bottom, 1.0), marker=".")
    ax.set(xlabel="task", ylabel="accuracy on the new task", ylim=(bottom, 1.0))
    ax.set_title((title or "how well is each new task learned?") + _seeds(results), fontsize=TITLE)
    _legend(ax, loc="lower left")
    return ax


def dormant_fraction(results: dict, ax=None, title: str | None = None):
    """Fraction of the network's units that are dormant after each task, one band per method."""
    ax = _axes(ax)
    _bands(results, "dormant_fraction", ax, UNIT)
    ax.set(xlabel="task", ylabel="fraction of dormant units", ylim=UNIT)
    ax.set_title(title or "dormant units (active on < 1% of inputs)", fontsize=TITLE)
    _legend(ax, loc="upper left")
    return ax


def effective_rank(results: dict, ax=None, title: str | None = None):
    """Effective rank of the last hidden layer's representation, one band per method."""
    ax = _axes(ax)
    _bands(results, "effective_rank", ax, (0, np.inf))
    ax.set(xlabel="task", ylabel="effective rank")
    ax.set_ylim(bottom=0)
    ax.set_title(title or "last hidden layer: effective rank", fontsize=TITLE)
    _legend(ax, loc="lower left")
    return ax


def weight_magnitude(results: dict, ax=None, title: str | None = None):
    """The average weight magnitude after each task, one band per method."""
    ax = _axes(ax)
    _bands(results, "weight_magnitude", ax, (0, np.inf))
    ax.set(xlabel="task", ylabel="mean |w|")
    ax.set_ylim(bottom=0)
    ax.set_title(title or "average weight magnitude", fontsize=TITLE)
    _legend(ax, loc="upper left")
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
        band(
            ax,
            _tasks(runs),
            per_seed,
            site_label(site),
            rgb,
            UNIT,
            ls=("-", "--", ":", "-.")[i % 4],
        )
    ax.set(xlabel="task", ylabel="fraction of dormant units", ylim=UNIT)
    ax.set_title(title or f"{name(runs[0]['method'])}: dormant units per layer", fontsize=TITLE)
    _legend(ax, loc="upper left", ncol=1 if len(sites) <= 6 else 3)
    return ax


def _rgb(hex_color: str) -> tuple[float, float, float]:
    h = hex_color.lstrip("#")
    return tuple(int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))


def last_fifth(results: dict, ax=None, title: str | None = None, bottom: float = 0.0):
    """Mean new-task accuracy over the last fifth of the tasks: a bar per method at the mean
    over seeds, a dot per seed, the 95% interval."""
    groups = {name(m): [r["last_fifth_accuracy"] for r in runs] for m, runs in results.items()}
    colors = {name(m): method_color(m) for m in results}
    ax = seed_points(groups, ax, "accuracy on the new task", "", colors)
    ax.set_ylim(bottom, 1.0)
    ax.set_title(title or "the last fifth of the tasks, seed by seed", fontsize=TITLE)
    return ax


def last_fifth_gap(results: dict, ax=None, title: str | None = None, reference="retrain"):
    """Each method's mean new-task accuracy over the last fifth of the tasks minus that of
    ``reference`` (a fresh network), paired by seed: a bar per method at the mean, a dot per
    seed, the 95% interval."""
    ref = np.array([r["last_fifth_accuracy"] for r in results[reference]])
    groups = {
        name(m): np.array([r["last_fifth_accuracy"] for r in runs]) - ref
        for m, runs in results.items()
        if m != reference
    }
    colors = {name(m): method_color(m) for m in results}
    ax = seed_points(groups, ax, f"accuracy minus {name(reference)}", "", colors)
    ax.axhline(0, color="k", lw=1)
    ax.set_title(title or f"the last fifth, against {name(reference)}", fontsize=TITLE)
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
            ax.text(run["tasks"] + 0.8, edge + size / 2, site_label(site), va="center",
                    fontsize=SMALL)  # fmt: skip
        edge += size
    ax.grid(False)
    ax.set(xlabel="task", ylabel="unit")
    ax.set_title(title or f"{name(run['method'])}, seed {run['seed']}: dormant (black)",
                 fontsize=TITLE)  # fmt: skip
    return ax


def units_replaced(runs: list[dict], ax=None, title: str | None = None):
    """Units continual backprop replaced in each task, mean over seeds, and what fraction of
    its replaceable units that is."""
    ax = _axes(ax)
    total = sum(len(layer["utility"]) for layer in runs[0]["unit_state"])
    per_seed = [r["units_replaced_per_task"] for r in runs]
    band(ax, _tasks(runs), per_seed, name("cbp"), method_color("cbp"), (0, np.inf), marker=".")
    mean = float(np.mean(per_seed))
    ax.axhline(mean, color="k", lw=1, ls=":")
    ax.text(0.02, 0.95, f"mean: {mean:.1f} of {total} units per task ({mean / total:.0%})",
            transform=ax.transAxes, va="top", fontsize=SMALL)  # fmt: skip
    rate = runs[0]["config"]["replacement_rate"]
    ax.set(xlabel="task", ylabel="units replaced in the task")
    ax.set_ylim(bottom=0, top=max(1.0, 1.4 * np.max(per_seed)))
    ax.set_title(title or f"continual backprop at rate {rate:g}: units replaced", fontsize=TITLE)
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
    ax.set(xlabel="unit (\u25bc next to go; \u25b2 immune)", ylabel="utility")
    ax.set_title(title or f"contribution utility, {site_label(layer['site'])}", fontsize=TITLE)
    return ax


def free_lunch(sweep: dict, axes, title: str | None = None):
    """What a network has lost by carrying its weights over (a fresh network minus backprop)
    and what replacing units costs (backprop minus continual backprop at each rate), over
    the first fifth of the tasks, in each case of the sweep (``sweep``:
    :func:`cl_teach.lessons.remedies.free_lunch`): a bar per case at the mean over seeds, a
    dot per seed."""
    from ..lessons.remedies import lost_plasticity, replacement_cost

    lost = {case: lost_plasticity(runs).per_seed for case, runs in sweep.items()}
    seed_points(lost, axes[0], "accuracy difference", "",
                {case: method_color("bp") for case in sweep})  # fmt: skip
    axes[0].set_title("lost so far: fresh network minus backprop", fontsize=TITLE)
    costs, colors = {}, {}
    for case, runs in sweep.items():
        for label in runs:
            if isinstance(label, float):
                key = f"{case}, rate {label:g}"
                costs[key] = replacement_cost(runs, label).per_seed
                colors[key] = method_color("cbp")
    seed_points(costs, axes[1], "accuracy difference", "", colors)
    axes[1].set_title(title or "cost: backprop minus continual backprop", fontsize=TITLE)
    for ax in axes:
        ax.axhline(0, color="k", lw=1)
    return axes


def growing(grown: dict, axes, title: str | None = None):
    """The growing-classes stream: accuracy on all seen classes after each task, and the
    dormant units, backprop against a network trained from scratch on all the data."""
    labels = {"bp": "backprop", "retrain": "trained from scratch"}
    for method, runs in grown.items():
        cfg = runs[0]["config"]
        classes = cfg["classes_per_task"] * _tasks(runs)
        for ax, field in zip(axes, ("new_task_accuracy", "dormant_fraction"), strict=True):
            band(ax, classes, [r[field] for r in runs], labels.get(method, method),
                 method_color(method), UNIT, marker="o")  # fmt: skip
    axes[0].set(xlabel="classes seen", ylabel="accuracy on all seen classes")
    axes[0].set_title(title or "classes added, all seen data kept" + _seeds(grown), fontsize=TITLE)
    axes[1].set(xlabel="classes seen", ylabel="fraction of dormant units", ylim=UNIT)
    axes[1].set_title("dormant units", fontsize=TITLE)
    for ax in axes:
        _legend(ax, loc="best")
    return axes


def regression_error(results: dict, ax=None, title: str | None = None, phases: int = 4):
    """The slowly-changing regression: each method's online squared error minus a fresh
    network's (paired by seed, so that hard seeds and phases cancel), averaged over bins of
    ``phases`` phases, one band per method; below 0 a method learns better than a fresh
    network per phase."""
    ax = _axes(ax)
    fresh = np.array([r["phase_error"] for r in results["retrain"]])
    bins = fresh.shape[1] // phases
    step = results["retrain"][0]["config"]["phase"] * phases
    x = step * (np.arange(bins) + 1) / 1000

    def binned(runs):
        e = np.array([r["phase_error"] for r in runs]) - fresh
        return e[:, : bins * phases].reshape(len(runs), bins, phases).mean(2)

    for method, runs in results.items():
        if method != "retrain":
            band(ax, x, binned(runs), name(method), method_color(method), marker=".")
    ax.axhline(0, color="k", lw=1)
    ax.set(xlabel="thousand steps (examples)", ylabel="error minus a fresh network's")
    ax.set_title(title or "slowly-changing regression" + _seeds(results), fontsize=TITLE)
    _legend(ax, loc="upper left", ncol=2)
    return ax


def late_error(results: dict, ax=None, title: str | None = None):
    """The late error (the last fifth of the steps) of each method: a bar at the mean over
    seeds, a dot per seed, the 95% interval."""
    groups = {name(m): [r["late_error"] for r in runs] for m, runs in results.items()}
    colors = {name(m): method_color(m) for m in results}
    ax = seed_points(groups, ax, "squared error, last fifth", "", colors)
    ax.tick_params(axis="x", labelrotation=35)
    ax.set_ylim(bottom=0)
    ax.set_title(title or "late error, seed by seed (lower is better)", fontsize=TITLE)
    return ax
