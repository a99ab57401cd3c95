"""Notebook 05: loss of plasticity. Backprop carried from task to task against a fresh
network on every task, the head reset as a control, a smaller step size, and the paper's
own scenario (classes added, all seen data kept) in a small form."""

from __future__ import annotations

import numpy as np

from ..plasticity import PlasticityConfig, run_plasticity_grid
from ..plasticity.plots import name
from ..presets import load
from . import (
    SEEDS,
    Claim,
    Claims,
    Difference,
    difference,
    mean_pm,
    over_seeds,
    seed_list,
    seeds_in,
    values,
)

#: the offline setting of notebook 05: 30 tasks of pixel-permuted digits (labels kept), an
#: MLP of 3 x 32 ReLU units, SGD lr 0.05 (momentum 0.9), 5 epochs of batch 64 per task
SETTING = PlasticityConfig(
    dataset="digits", setting="permuted", tasks=30, width=32, lr=0.05, epochs=5, batch_size=64
)
METHODS = ("bp", "retrain", "head_reset")
#: the smaller step of the two-sided lesson: the setting's learning rate divided by this
STEP_DIVISOR = 5
#: the paper's scenario in small: digits, 2 classes to start and 2 more per task (5 tasks),
#: all data of the seen classes kept, 50 epochs per task; the network and step of SETTING
GROWING = SETTING.replace(setting="incremental", tasks=None, classes_per_task=2, epochs=50)
#: the head reset in the paper's class-incremental CIFAR-100 at 100 classes, read off the
#: authors' figure (lop/incremental_cifar/plots/incremental_cifar.png); the other methods'
#: numbers are in their presets' ``[paper]`` tables
PAPER_HEAD_RESET = {"relative_to_retrained": -0.023, "dormant_fraction": 0.40}


def runs(base: PlasticityConfig, seeds=SEEDS, progress=None, methods=METHODS) -> dict:
    """``methods`` on ``base``'s tasks, over ``seeds``: ``{method: [result per seed]}``."""
    configs = {m: base.replace(method=m) for m in methods}
    return run_plasticity_grid(configs, seed_list(seeds), progress=progress)


def small_step(base: PlasticityConfig, seeds=SEEDS, progress=None) -> dict:
    """Backprop and a fresh network at a learning rate ``STEP_DIVISOR`` times smaller."""
    return runs(base.replace(lr=base.lr / STEP_DIVISOR), seeds, progress, ("bp", "retrain"))


def growing(seeds=SEEDS, progress=None, base: PlasticityConfig = GROWING) -> dict:
    """Backprop against a network trained from scratch on all the data seen so far
    (``retrain``), on the growing-classes stream ``base``."""
    return runs(base, seeds, progress, ("bp", "retrain"))


def fifth(r: dict, part: str = "last") -> float:
    """Mean new-task accuracy over the first or the last fifth of the tasks (at least one)."""
    acc = r["new_task_accuracy"]
    k = max(1, len(acc) // 5)
    return float(np.mean(acc[:k] if part == "first" else acc[-k:]))


def first_fifth(r: dict) -> float:
    return fifth(r, "first")


def last_fifth(r: dict) -> float:
    return fifth(r, "last")


def final_accuracy(r: dict) -> float:
    """Accuracy after the last task (growing stream: on all classes seen)."""
    return float(r["new_task_accuracy"][-1])


def final_dormant(r: dict) -> float:
    return float(r["dormant_fraction"][-1])


def first_dormant(r: dict) -> float:
    return float(r["dormant_fraction"][0])


def first_site(r: dict) -> float:
    """Dormant fraction of the first activation site (layer) at the end."""
    return float(list(r["dormant_fraction_per_site"][-1].values())[0])


def last_site(r: dict) -> float:
    """Dormant fraction of the last activation site (layer) at the end."""
    return float(list(r["dormant_fraction_per_site"][-1].values())[-1])


def final_weights(r: dict) -> float:
    return float(r["weight_magnitude"][-1])


def final_effective_rank(r: dict) -> float:
    return float(r["effective_rank"][-1])


def ratio(a: list[dict], b: list[dict], metric) -> Difference:
    """``metric`` of runs ``a`` over that of runs ``b``, seed by seed, with its interval."""
    return Difference.of(np.divide(values(a, metric), values(b, metric)))


#: the margins of the claims (each one a line of the notebook's text)
LATE_GAP = 0.2  # backprop below a fresh network on the last fifth, and its gap's growth
DORMANT_GAP = 0.2  # backprop's dormant fraction above a fresh network's at the end
DEEPER = 0.3  # the last hidden layer's dormant fraction above the first's
RANK_GAP = 3.0  # effective rank below the fresh network's
HEAD_BOUND = 0.04  # the head reset within this of a fresh network
GROWTH = 2.0  # weights grown to more than this many times a fresh network's
SMALL_STEP_GAP = 0.0  # at the smaller step, backprop above a fresh network
GROWING_BOUND = 0.04  # growing stream: backprop within this of a network trained from scratch


def claims(results: dict, smaller: dict, grown: dict | None = None) -> Claims:
    """The claims of notebook 05 over the runs of :func:`runs`, :func:`small_step` and
    :func:`growing` (without ``grown``, its claim is left out)."""
    bp, fresh, head = results["bp"], results["retrain"], results["head_reset"]
    gap, early = difference(bp, fresh, last_fifth), difference(bp, fresh, first_fifth)
    growth_of_gap = Difference.of(np.subtract(gap.per_seed, early.per_seed))
    dormant_gap = difference(bp, fresh, final_dormant)
    deeper = Difference.of(np.subtract(values(bp, last_site), values(bp, first_site)))
    rank_gap = difference(bp, fresh, final_effective_rank)
    head_vs_fresh = difference(head, fresh, last_fifth)
    head_dormant = difference(head, bp, final_dormant)
    growth = {m: ratio(r, fresh, final_weights) for m, r in (("bp", bp), ("head_reset", head))}
    small_bp, small_fresh = smaller["bp"], smaller["retrain"]
    small_gap = difference(small_bp, small_fresh, last_fifth)
    fresh_loss = difference(small_fresh, fresh, last_fifth)
    lr, small_lr = bp[0]["config"]["lr"], small_bp[0]["config"]["lr"]
    found = [
        Claim(
            f"Backprop learns the last fifth of the tasks clearly worse than a fresh network "
            f"(by more than {LATE_GAP:g}), and its gap to the fresh network grows clearly from "
            f"the first fifth to the last (by more than {LATE_GAP:g})",
            gap.below(-LATE_GAP) and growth_of_gap.below(-LATE_GAP),
            f"last fifth: backprop {mean_pm(bp, last_fifth)}, fresh network "
            f"{mean_pm(fresh, last_fifth)}, difference {gap}; first fifth: backprop "
            f"{mean_pm(bp, first_fifth)}, fresh {mean_pm(fresh, first_fifth)}, difference "
            f"{early}; the gap's growth {growth_of_gap}",
        ),
        Claim(
            "Meanwhile backprop's dormant units pile up: under a fifth of the network after "
            f"the first task, at the end clearly more than a fresh network's (by more than "
            f"{DORMANT_GAP:g})",
            over_seeds(bp, first_dormant).below(0.2) and dormant_gap.above(DORMANT_GAP),
            f"backprop: after task 1 {mean_pm(bp, first_dormant)}, at the end "
            f"{mean_pm(bp, final_dormant)}; fresh network at the end "
            f"{mean_pm(fresh, final_dormant)}; difference {dormant_gap}",
        ),
        Claim(
            "They die in the deeper layers: at the end backprop's last hidden layer has clearly "
            f"more dormant units than its first (by more than {DEEPER:g})",
            deeper.above(DEEPER),
            f"dormant at the end: first hidden layer {mean_pm(bp, first_site)}, last "
            f"{mean_pm(bp, last_site)}, difference {deeper}",
        ),
        Claim(
            "Its representation collapses: the effective rank of backprop's last hidden layer "
            f"ends clearly below the fresh network's (by more than {RANK_GAP:g})",
            rank_gap.below(-RANK_GAP),
            f"effective rank at the end: backprop {mean_pm(bp, final_effective_rank)}, fresh "
            f"network {mean_pm(fresh, final_effective_rank)}, difference {rank_gap}",
        ),
        Claim(
            "In this setting re-initialising only the output layer at every task is enough: "
            f"the head reset learns the last fifth within {HEAD_BOUND:g} of a fresh network, "
            f"with clearly fewer dormant units than backprop (by more than {DORMANT_GAP:g})",
            head_vs_fresh.within(HEAD_BOUND) and head_dormant.below(-DORMANT_GAP),
            f"last fifth: head reset {mean_pm(head, last_fifth)}, fresh "
            f"{mean_pm(fresh, last_fifth)}, difference {head_vs_fresh}; dormant at the end: "
            f"head reset {mean_pm(head, final_dormant)}, backprop "
            f"{mean_pm(bp, final_dormant)}, difference {head_dormant}",
        ),
        Claim(
            "Weight growth alone does not cost plasticity here: the head reset's weights end "
            f"more than {GROWTH:g} times as large as a fresh network's, like backprop's, and "
            "it stays plastic (the claim above)",
            growth["head_reset"].above(GROWTH)
            and growth["bp"].above(GROWTH)
            and head_vs_fresh.within(HEAD_BOUND),
            f"mean |w| at the end: backprop {mean_pm(bp, final_weights)}, head reset "
            f"{mean_pm(head, final_weights)}, fresh network {mean_pm(fresh, final_weights)}; "
            f"over the fresh network's: backprop {growth['bp']}, head reset "
            f"{growth['head_reset']}",
        ),
        Claim(
            "A fresh start beats a network trained on the earlier tasks only when the budget "
            f"suffices: at lr {lr:g} the fresh network is clearly ahead on the last fifth (the "
            f"first claim), at lr {small_lr:g} (the same epochs) backprop is clearly ahead, "
            f"and the fresh network clearly worse than at lr {lr:g}",
            gap.below(0) and small_gap.above(SMALL_STEP_GAP) and fresh_loss.below(0),
            f"last fifth at lr {small_lr:g}: backprop {mean_pm(small_bp, last_fifth)}, fresh "
            f"network {mean_pm(small_fresh, last_fifth)}, difference {small_gap}; the fresh "
            f"network at lr {small_lr:g} minus at lr {lr:g}: {fresh_loss}",
        ),
    ]
    if grown is not None:
        found.append(growing_claim(grown))
    return Claims(found, seeds_in(results))


def growing_claim(grown: dict) -> Claim:
    """The claim of the growing-classes stream (:func:`growing`)."""
    bp, scratch = grown["bp"], grown["retrain"]
    end = difference(bp, scratch, final_accuracy)
    classes = bp[0]["config"]["classes_per_task"] * bp[0]["tasks"]
    theirs = -paper("bp")["relative_to_retrained"]
    return Claim(
        f"In the paper's scenario (classes added, all seen data kept) the loss is small here: "
        f"at {classes} classes backprop ends within {GROWING_BOUND:g} of a network trained "
        f"from scratch on all the data (the paper: about {theirs:.0%} below, after 20 tasks "
        "of CIFAR-100)",
        end.within(GROWING_BOUND),
        f"accuracy on all {classes} classes: backprop {mean_pm(bp, final_accuracy)}, trained "
        f"from scratch {mean_pm(scratch, final_accuracy)}, difference {end}; dormant at the "
        f"end: backprop {mean_pm(bp, final_dormant)}, from scratch "
        f"{mean_pm(scratch, final_dormant)}",
    )


#: the headline numbers of the paper (Dohare et al. 2024), read from the presets
PAPER_PRESETS = {m: f"dohare-cifar100-{m}" for m in ("bp", "retrain", "snp", "cbp")}


def paper(method: str) -> dict:
    """The paper's numbers for ``method`` at 100 classes (its preset's ``[paper]`` table)."""
    return load(PAPER_PRESETS[method])["paper"]


def paper_numbers(method: str) -> dict:
    """The paper's CIFAR-100 numbers at 100 classes for ``method`` (none for others)."""
    if method == "head_reset":
        return PAPER_HEAD_RESET
    return paper(method) if method in PAPER_PRESETS else {}


def beside_paper(results: dict) -> str:
    """A Markdown table: each method's last fifth minus a fresh network's and its final
    dormant fraction here (mean +- 95% interval over the seeds), beside the paper's
    class-incremental CIFAR-100 numbers at 100 classes (accuracy minus that of a network
    retrained from scratch; dormant units)."""
    lines = [
        "| method | here: last fifth minus a fresh network | here: dormant at the end "
        "| paper: accuracy minus retrained | paper: dormant |",
        "|---|---|---|---|---|",
    ]
    for method, runs_ in results.items():
        theirs = paper_numbers(method)
        rel, dormant = theirs.get("relative_to_retrained"), theirs.get("dormant_fraction")
        gap = difference(runs_, results["retrain"], last_fifth)
        here = "the reference" if method == "retrain" else f"{gap.mean:+.3f} +- {gap.ci95:.3f}"
        lines.append(
            f"| {name(method)} | {here} | {mean_pm(runs_, final_dormant)} | "
            f"{'-' if rel is None else f'about {rel:+.3f}'} | "
            f"{'-' if dormant is None else f'about {dormant:.3f}'} |"
        )
    return "\n".join(lines)


def paper_note() -> str:
    """The paper's class-incremental CIFAR-100 results at 100 classes beside this notebook's
    head-reset finding, from the presets' ``[paper]`` tables and :data:`PAPER_HEAD_RESET`."""
    rows = {m: paper_numbers(m) for m in ("bp", "head_reset", "snp", "cbp")}
    parts = [
        f"{name(m)}: accuracy {rows[m]['relative_to_retrained'] * 100:+.1f} points against a "
        f"network retrained from scratch, {rows[m]['dormant_fraction']:.1%} dormant units"
        for m in rows
    ]
    return (
        "The paper's class-incremental CIFAR-100 at 100 classes (read off the authors' "
        "figure): " + "; ".join(parts) + ". Its Continual ImageNet re-initialises the output "
        "layer at every task, and backprop still loses plasticity there."
    )


def source(obj, *keep: str):
    """A notebook cell's view of the source of ``obj`` (a function, or a list of them):
    each ``def`` line and the statements that contain any of ``keep`` (the few that
    matter), then the whole source in a collapsed section."""
    import html
    import inspect
    import textwrap

    from IPython.display import HTML

    parts = []
    for fn in obj if isinstance(obj, list | tuple) else [obj]:
        lines = textwrap.dedent(inspect.getsource(fn)).splitlines()
        first = next(i for i, line in enumerate(lines) if line.lstrip().startswith("def "))
        shown, last, depth = [lines[first]], first, 0
        for i, line in enumerate(lines[first + 1 :], first + 1):
            if depth > 0 or any(k in line for k in keep):  # a kept line, or its continuation
                if i > last + 1:
                    shown.append("    ...")
                shown.append(line)
                last = i
                depth = max(0, depth + line.count("(") - line.count(")"))
        name = html.escape(getattr(fn, "__qualname__", str(fn)))
        parts.append(
            f"<pre>{html.escape(chr(10).join(shown))}</pre><details><summary>The whole of "
            f"<code>{name}</code></summary><pre>{html.escape(chr(10).join(lines))}</pre>"
            "</details>"
        )
    return HTML("".join(parts))
