"""The figures and the panel of notebook 02b: rehearsal under a memory budget, Dark
Experience Replay at equal samples and at equal bytes."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt

from .. import plots
from ..config import RunConfig
from ..experiment import run_grid
from ..lessons import mean_pm, rehearsal, seed_list
from ..lessons.regularization import norm_ratio
from ..lessons.rehearsal import DARK, LABELS, SELECTIONS
from . import RunPanel, dropdown, log_slider, log_value, slider

#: the replay selections share replay's colour and differ in line style and marker
STYLES = {
    LABELS["herding"]: {"color": plots.color("replay"), "marker": "o"},
    LABELS["random"]: {"color": plots.color("replay"), "ls": "--", "marker": "^"},
    LABELS["reservoir"]: {"color": plots.color("replay"), "ls": ":", "marker": "s", "mfc": "w"},
}
LEGEND = 12  # points: 17 px on a 12.8-inch figure shown 1280 px wide (plots.too_small)


def curves(results: dict, names=SELECTIONS) -> dict:
    """``{label: {budget: runs}}`` of the replay selections (reservoir replay at the budgets
    of the curve only)."""
    budgets = sorted(results["herding"])
    return {LABELS[n]: {b: results[n][b] for b in budgets} for n in names if n in results}


def draw_budgets(results: dict):
    """Final accuracy against the number of exemplars stored, per selection: the mean over
    seeds with its 95% band, fine-tuning as the floor."""
    fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
    seeds = len(results["finetune"])
    plots.budget_curves(curves(results), ax, reference=results["finetune"], styles=STYLES,
                        title=f"replay under a budget ({seeds} seeds)")  # fmt: skip
    ax.set_ylim(0, 1)
    ax.legend(loc="lower right", fontsize=LEGEND)
    return fig


def equal_samples_and_bytes(results: dict, ax, title: str):
    """Final accuracy at the headline budget (a dot per seed): ER, Dark ER and DER++ with
    the same number of samples, and ER with Dark ER's bytes."""
    er, b = results["reservoir"], max(results["dark_er"])
    eq = max(er)
    runs = [er[b], results["dark_er"][b], results["dark_er_pp"][b], er[eq]]
    names = ["ER", "Dark ER", "DER++", "ER"]
    groups = {
        f"{n}, {r[0].budget}\n{plots.exemplar_kb(r):.1f} kB": [x.final_accuracy for x in r]
        for n, r in zip(names, runs, strict=True)
    }
    colors = dict(zip(groups, ("replay", "dark_er", "dark_er_pp", "replay"), strict=True))
    plots.seed_points(groups, ax, "final accuracy (all classes)", title,
                      {k: plots.color(m) for k, m in colors.items()})  # fmt: skip
    low = min(min(v) for v in groups.values())
    ax.set_ylim(max(0.0, math.floor(10 * low - 0.5) / 10), 1.0)
    plt.setp(ax.get_xticklabels(), rotation=0, ha="center")
    ax.axvline(2.5, color="k", lw=1, ls=":")
    ax.set_xlabel("equal samples  |  equal bytes")
    return ax


def draw_logits(results: dict, passed_once: dict):
    """Dark ER and DER++ against ER, at equal samples and at equal bytes: on the digits
    (10 epochs per task) and in one pass over MNIST images."""
    fig, axes = plt.subplots(1, 2, figsize=(12.8, 5.2), layout="constrained")
    equal_samples_and_bytes(results, axes[0], "digits, 10 epochs per task")
    equal_samples_and_bytes(passed_once, axes[1], "MNIST images, one pass")
    return fig


def draw_bias(results: dict):
    """The new/old classifier row-norm ratio after the last task, fine-tuning against herding
    replay at the headline budget (a dot per seed), and replay's per-class accuracy after
    each task at the smallest budget."""
    h = results["herding"]
    small, b = min(h), max(h)
    fig, axes = plt.subplots(1, 2, figsize=(12.8, 4.8), layout="constrained",
                             gridspec_kw={"width_ratios": [1, 2]})  # fmt: skip
    ratios = {
        "fine-tuning": [norm_ratio(r) for r in results["finetune"]],
        f"replay, {b}": [norm_ratio(r) for r in h[b]],
    }
    plots.seed_points(ratios, axes[0], "newest rows / old rows (norm)",
                      "the classifier's bias", {"fine-tuning": plots.color("finetune"),
                                                f"replay, {b}": plots.color("replay")})  # fmt: skip
    axes[0].axhline(1, color="k", lw=1, ls="--")
    plt.setp(axes[0].get_xticklabels(), rotation=0, ha="center")
    plots.per_class_heatmap(h[small], axes[1], f"replay, {small} exemplars")
    return fig


def draw_panel(results: dict):
    """The panel's figure: the replay curves with the chosen run as a star (its 95%
    interval as a bar), its classifier's row norms and its per-class accuracy."""
    chosen = results["chosen"]
    fig = plt.figure(figsize=(12.8, 8.6), layout="constrained")
    grid = fig.add_gridspec(2, 2)
    top, norms = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    bottom = fig.add_subplot(grid[1, :])
    plots.budget_curves(curves(results["grid"]), top, reference=results["grid"]["finetune"],
                        title="your run among replay's", styles=STYLES)  # fmt: skip
    mean, half = plots.interval([r.final_accuracy for r in chosen])
    x = max(chosen[0].budget, 1)
    top.errorbar([x], mean, yerr=half, fmt="*", color="k", ms=16, capsize=5, label="your run")
    top.set_ylim(0, 1)
    top.legend(loc="lower right", fontsize=LEGEND - 1)
    name = LABELS.get(chosen[0].method, chosen[0].method)
    if chosen[0].method == "replay":
        name = LABELS[chosen[0].selection]
    budget = f", {chosen[0].budget} exemplars" if chosen[0].method != "finetune" else ""
    plots.classifier_norms(chosen, norms, title=f"{name}: row norms after the last task")
    plots.per_class_heatmap(chosen, bottom, f"{name}{budget}: per-class accuracy")
    return fig


def chosen_config(base: RunConfig, method: str, selection: str, budget: int, alpha: float):
    """The config of the panel's choice; what a method does not use keeps ``base``'s value
    (so the lesson's cached runs answer at once)."""
    base = base.replace(per_class=False, memory_budget=None)
    if method == "finetune":
        return base.replace(method="finetune", budget=0)
    if method == "replay":
        return base.replace(method="replay", selection=selection, budget=budget)
    return base.replace(method=method, selection="reservoir", budget=budget, alpha=alpha)


def rehearsal_panel(base: RunConfig, seeds: int = 5) -> RunPanel:
    """Method, replay's selection, the budget and Dark ER's alpha. Ranges hold ``base``'s
    values (the budget slider runs to five times the headline budget, the alpha slider a
    decade above and two below). A click trains only the chosen run (the replay curves are
    the lesson's cached runs, unless the seeds change)."""
    b = rehearsal.headline_budget(base)
    methods = [("replay", "replay"), ("Dark ER", "dark_er"), ("DER++", "dark_er_pp"),
               ("fine-tuning", "finetune")]  # fmt: skip
    controls = {
        "method": dropdown("method", methods, "replay"),
        "selection": dropdown("replay selection", list(SELECTIONS), "herding"),
        "budget": slider("budget (exemplars, total)", b, 0, 5 * b, max(1, b // 20)),
        "alpha": log_slider("Dark ER alpha", base.alpha),
    }

    def compute(method, selection, budget, alpha, seeds, progress=None):
        grid = {k: c for k, c in rehearsal.configs(base).items() if c.method not in DARK}
        alpha = log_value(alpha, base.alpha)
        cfg = chosen_config(base, method, selection, int(budget), alpha)
        flat = run_grid({**grid, "chosen": cfg}, seed_list(seeds), progress=progress)
        return {"chosen": flat.pop("chosen"), "grid": rehearsal.nest(flat)}

    return RunPanel(controls, compute, draw_panel, "Rehearsal under a memory budget", seeds)


def table(results: dict) -> str:
    """Each run's budget, exemplar memory and final accuracy (mean +- 95% interval)."""
    rows = [("fine-tuning", 0, results["finetune"])]
    rows += [(LABELS[k], b, runs) for k in SELECTIONS + DARK for b, runs in results[k].items()]
    lines = [f"{'method':<16}{'budget':>7}{'memory':>10}   final accuracy (95% interval)"]
    for name, b, runs in rows:
        kb = f"{plots.exemplar_kb(runs):g} kB"
        lines.append(f"{name:<16}{b:>7}{kb:>10}   {mean_pm(runs)}")
    return "\n".join(lines)
