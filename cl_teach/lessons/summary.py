"""Notebook 07: every method on one stream with one exemplar budget, side by side."""

from __future__ import annotations

from ..config import RunConfig
from ..experiment import run_grid
from . import SEEDS, Claim, Claims, difference, mean_pm, seed_list, seeds_in, values

#: digits, five tasks of two classes, 5 epochs per task, 200 exemplars where a method keeps any
SETTING = RunConfig(dataset="digits", scenario="B0Inc2", epochs=5, budget=200)
#: each method with its name in the table, lower bound first, upper bound last
METHODS = {
    "finetune": "fine-tuning",
    "ewc": "EWC",
    "replay": "replay (herding)",
    "dark_er": "Dark ER",
    "dark_er_pp": "DER++",
    "der": "DER",
    "memo": "MEMO",
    "joint": "joint",
}
NO_MEMORY = ("finetune", "ewc", "joint")


def runs(base: RunConfig, seeds=SEEDS, progress=None) -> dict:
    """Every method on ``base``'s stream over ``seeds``; the methods that keep no exemplars
    run with budget 0."""
    configs = {
        m: base.replace(method=m, budget=0 if m in NO_MEMORY else base.budget) for m in METHODS
    }
    return run_grid(configs, seed_list(seeds), progress=progress)


def table(results: dict) -> list[dict]:
    """One row per method: accuracy, forgetting, parameters, exemplars and bytes."""
    rows = []
    for m, runs_ in results.items():
        r = runs_[0]
        rows.append({
            "method": METHODS[m],
            "final accuracy": mean_pm(runs_),
            "average incremental": mean_pm(runs_, "average_incremental_accuracy"),
            "forgetting": mean_pm(runs_, "forgetting"),
            "parameters": f"{r.num_parameters:,}",
            "exemplars": r.extras.get("exemplars", 0),
            "memory (KiB)": f"{sum(r.memory_bytes.values()) / 1024:.1f}",
        })  # fmt: skip
    return rows


def claims(results: dict) -> Claims:
    rehearsal = [m for m in results if m not in NO_MEMORY]
    worst_rehearsal = min(rehearsal, key=lambda m: sum(values(results[m])))
    best_rehearsal = max(rehearsal, key=lambda m: sum(values(results[m])))
    above_ft = [difference(results[m], results["finetune"]) for m in rehearsal]
    below_joint = difference(results["joint"], results[best_rehearsal])
    ewc = difference(results["ewc"], results["finetune"])
    der_vs_replay = difference(results["der"], results["replay"])
    bytes_ratio = sum(results["der"][0].memory_bytes.values()) / sum(
        results["replay"][0].memory_bytes.values()
    )
    found = [
        Claim(
            "Every method that keeps exemplars ends clearly above fine-tuning",
            all(d.clear and d.mean > 0 for d in above_ft),
            f"the smallest gain is {METHODS[worst_rehearsal]}'s: "
            f"{difference(results[worst_rehearsal], results['finetune'])}",
        ),
        Claim(
            "EWC, which keeps no exemplars, ends near fine-tuning in the class-incremental "
            "setting (within 0.05)",
            abs(ewc.mean) < 0.05,
            f"EWC - fine-tuning {ewc}",
        ),
        Claim(
            "Joint training stays above every continual method",
            below_joint.mean > 0,
            f"joint - best continual ({METHODS[best_rehearsal]}) {below_joint}",
        ),
        Claim(
            "At the same number of exemplars DER is not clearly better than replay here, "
            "though it holds several times replay's memory (the comparison notebook 04 makes fair)",
            not (der_vs_replay.clear and der_vs_replay.mean > 0) and bytes_ratio > 2,
            f"DER - replay {der_vs_replay}; DER's memory is {bytes_ratio:.1f}x replay's",
        ),
    ]
    return Claims(found, seeds_in(results))
