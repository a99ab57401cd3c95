"""Notebook 05: loss of plasticity. Backprop carried from task to task against a fresh
network on every task, the head reset as a control, and a smaller step size."""

from __future__ import annotations

import numpy as np

from ..plasticity import PlasticityConfig, run_plasticity_grid
from ..presets import load
from . import SEEDS, Claim, Claims, difference, mean_pm, seed_list, seeds_in, values

#: the offline setting of notebooks 05 and 06: 30 tasks of pixel-permuted digits (labels
#: kept), an MLP of 3 x 32 ReLU units, SGD lr 0.05 (momentum 0.9), 5 epochs of batch 64
SETTING = PlasticityConfig(
    dataset="digits", setting="permuted", tasks=30, width=32, lr=0.05, epochs=5, batch_size=64
)
METHODS = ("bp", "retrain", "head_reset")
#: the smaller step of the last lesson: the setting's learning rate divided by this
STEP_DIVISOR = 5


def runs(base: PlasticityConfig, seeds=SEEDS, progress=None, methods=METHODS) -> dict:
    """``methods`` on ``base``'s tasks, over ``seeds``: ``{method: [result per seed]}``."""
    configs = {m: base.replace(method=m) for m in methods}
    return run_plasticity_grid(configs, seed_list(seeds), progress=progress)


def small_step(base: PlasticityConfig, seeds=SEEDS, progress=None) -> dict:
    """Backprop and a fresh network at a learning rate ``STEP_DIVISOR`` times smaller."""
    return runs(base.replace(lr=base.lr / STEP_DIVISOR), seeds, progress, ("bp", "retrain"))


def fifth(r: dict, part: str = "last") -> float:
    """Mean new-task accuracy over the first or the last fifth of the tasks (at least one)."""
    acc = r["new_task_accuracy"]
    k = max(1, len(acc) // 5)
    return float(np.mean(acc[:k] if part == "first" else acc[-k:]))


def first_fifth(r: dict) -> float:
    return fifth(r, "first")


def last_fifth(r: dict) -> float:
    return fifth(r, "last")


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


def claims(results: dict, smaller: dict) -> Claims:
    """The claims of notebook 05 over the runs of :func:`runs` and :func:`small_step`."""
    bp, fresh, head = results["bp"], results["retrain"], results["head_reset"]
    gap, early = difference(bp, fresh, last_fifth), difference(bp, fresh, first_fifth)
    rise = np.subtract(values(bp, final_dormant), values(bp, first_dormant))
    dormant_gap = difference(bp, fresh, final_dormant)
    deeper = np.subtract(values(bp, last_site), values(bp, first_site))
    rank_ratio = np.divide(values(bp, final_effective_rank), values(fresh, final_effective_rank))
    head_vs_fresh = difference(head, fresh, last_fifth)
    head_dormant = difference(head, bp, final_dormant)
    growth = {m: np.divide(values(runs_, final_weights), values(fresh, final_weights))
              for m, runs_ in (("bp", bp), ("head_reset", head))}  # fmt: skip
    small_bp, small_fresh = smaller["bp"], smaller["retrain"]
    small_gap = difference(small_bp, small_fresh, last_fifth)
    lr = small_bp[0]["config"]["lr"]
    found = [
        Claim(
            "Backprop learns the last fifth of the tasks worse than a fresh network does, on "
            "every seed, although it learned the first fifth about as well (within 0.05)",
            gap.clear and max(gap.per_seed) < 0 and abs(early.mean) < 0.05,
            f"last fifth: backprop {mean_pm(bp, last_fifth)}, fresh network "
            f"{mean_pm(fresh, last_fifth)}, difference {gap}; first fifth: backprop "
            f"{mean_pm(bp, first_fifth)}, fresh {mean_pm(fresh, first_fifth)}, difference "
            f"{early}",
        ),
        Claim(
            "Meanwhile backprop's dormant units rise, on every seed, from under a fifth after "
            "the first task to far more than the fresh network's at the end",
            max(values(bp, first_dormant)) < 0.2
            and min(rise) > 0.2
            and dormant_gap.clear
            and dormant_gap.mean > 0.2,
            f"backprop: after task 1 {mean_pm(bp, first_dormant)}, at the end "
            f"{mean_pm(bp, final_dormant)}; fresh network at the end "
            f"{mean_pm(fresh, final_dormant)}; difference {dormant_gap}",
        ),
        Claim(
            "They die in the deeper layers: at the end the last hidden layer has far more "
            "dormant units than the first, on every seed",
            min(deeper) > 0.3,
            f"dormant at the end: first hidden layer {mean_pm(bp, first_site)}, last "
            f"{mean_pm(bp, last_site)}",
        ),
        Claim(
            "Its representation collapses: at the end the effective rank of backprop's last "
            "hidden layer is less than half the fresh network's, on every seed",
            max(rank_ratio) < 0.5,
            f"effective rank at the end: backprop {mean_pm(bp, final_effective_rank)}, fresh "
            f"network {mean_pm(fresh, final_effective_rank)}",
        ),
        Claim(
            "Re-initialising only the output layer at every task keeps the network plastic: "
            "the head reset learns the last tasks as well as a fresh network (within 0.02), "
            "and its hidden units stay alive (far fewer dormant than backprop's)",
            abs(head_vs_fresh.mean) < 0.02 and head_dormant.clear and head_dormant.mean < -0.2,
            f"last fifth: head reset {mean_pm(head, last_fifth)}, fresh "
            f"{mean_pm(fresh, last_fifth)}, difference {head_vs_fresh}; dormant at the end: "
            f"head reset {mean_pm(head, final_dormant)}, backprop "
            f"{mean_pm(bp, final_dormant)}",
        ),
        Claim(
            "Weight growth alone does not cost plasticity here: the head reset's weights end "
            "more than twice as large as a fresh network's, like backprop's, on every seed",
            min(growth["head_reset"]) > 2 and min(growth["bp"]) > 2,
            f"mean |w| at the end: backprop {mean_pm(bp, final_weights)}, head reset "
            f"{mean_pm(head, final_weights)}, fresh network {mean_pm(fresh, final_weights)}",
        ),
        Claim(
            f"At a {STEP_DIVISOR} times smaller step (lr {lr:g}) the same budget is not enough "
            "for a fresh network: it learns a task far worse than at the larger step, and "
            "backprop beats it on every seed",
            small_gap.clear
            and min(small_gap.per_seed) > 0
            and difference(fresh, small_fresh, last_fifth).clear,
            f"last fifth at lr {lr:g}: backprop {mean_pm(small_bp, last_fifth)}, fresh "
            f"network {mean_pm(small_fresh, last_fifth)}, difference {small_gap}; fresh "
            f"network at the larger step {mean_pm(fresh, last_fifth)}",
        ),
    ]
    return Claims(found, seeds_in(results))


#: the headline numbers of the paper (Dohare et al. 2024), read from the presets
PAPER_PRESETS = {m: f"dohare-cifar100-{m}" for m in ("bp", "retrain", "snp", "cbp")}


def paper(method: str) -> dict:
    """The paper's numbers for ``method`` at 100 classes (its preset's ``[paper]`` table)."""
    return load(PAPER_PRESETS[method])["paper"]


def beside_paper(results: dict) -> str:
    """A Markdown table: each method's last-fifth accuracy and final dormant fraction here
    (mean +- 95% interval over the seeds) beside the paper's CIFAR-100 numbers."""
    lines = [
        "| method | here: last fifth of the tasks | here: dormant at the end "
        "| paper: accuracy at 100 classes | paper: dormant |",
        "|---|---|---|---|---|",
    ]
    for method, runs_ in results.items():
        theirs = paper(method) if method in PAPER_PRESETS else {}
        acc, dormant = theirs.get("accuracy_at_100_classes"), theirs.get("dormant_fraction")
        lines.append(
            f"| {method} | {mean_pm(runs_, last_fifth)} | {mean_pm(runs_, final_dormant)} | "
            f"{'-' if acc is None else f'about {acc:.3f}'} | "
            f"{'-' if dormant is None else f'about {dormant:.3f}'} |"
        )
    return "\n".join(lines)
