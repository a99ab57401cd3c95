"""Notebook 07: every method on one stream with one exemplar budget, side by side."""

from __future__ import annotations

from ..config import RunConfig
from ..experiment import run_grid
from . import SEEDS, Claim, Claims, difference, mean_pm, seed_list, seeds_in

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


def kib(r, kind: str | None = None) -> float:
    """What a run keeps between tasks, in KiB: all of it, or one kind of ``memory_bytes``
    (``model``, ``exemplars``, ``past_data``, ``fisher_and_anchor``)."""
    kept = r.memory_bytes
    return (sum(kept.values()) if kind is None else kept.get(kind, 0)) / 1024


def table(results: dict) -> list[dict]:
    """One row per method: accuracy, forgetting, parameters, exemplars, and every byte it
    keeps between tasks (the model, the exemplars, and what else: joint training's past
    data, EWC's Fisher and anchor)."""
    rows = []
    for m, runs_ in results.items():
        r = runs_[0]
        other = kib(r) - kib(r, "model") - kib(r, "exemplars")
        rows.append({
            "method": METHODS[m],
            "final accuracy": mean_pm(runs_),
            "forgetting": mean_pm(runs_, "forgetting"),
            "parameters": f"{r.num_parameters:,}",
            "exemplars": r.extras.get("exemplars", 0),
            "model (KiB)": f"{kib(r, 'model'):.1f}",
            "exemplars (KiB)": f"{kib(r, 'exemplars'):.1f}",
            "other (KiB)": f"{other:.1f}" if other else "-",
            "all kept (KiB)": f"{kib(r):.1f}",
        })  # fmt: skip
    return rows


def claims(results: dict) -> Claims:
    rehearsal = [m for m in results if m not in NO_MEMORY]
    continual = [m for m in results if m != "joint"]
    above_ft = {m: difference(results[m], results["finetune"]) for m in rehearsal}
    weakest = min(rehearsal, key=lambda m: above_ft[m].low)
    below_joint = {m: difference(results["joint"], results[m]) for m in continual}
    closest = min(continual, key=lambda m: below_joint[m].low)
    ewc = difference(results["ewc"], results["finetune"])
    der_vs_replay = difference(results["der"], results["replay"])
    bytes_ratio = kib(results["der"][0]) / kib(results["replay"][0])
    found = [
        Claim(
            "Every method that keeps exemplars ends clearly above fine-tuning, by more than 0.3",
            all(d.above(0.3) for d in above_ft.values()),
            f"the smallest gain is {METHODS[weakest]}'s: {above_ft[weakest]}",
        ),
        Claim(
            "EWC, which keeps no exemplars, ends near fine-tuning class-incrementally: no "
            "difference larger than 0.05 (at 95%)",
            ewc.within(0.05),
            f"EWC minus fine-tuning {ewc}",
        ),
        Claim(
            "Joint training stays clearly above every continual method",
            all(d.above(0) for d in below_joint.values()),
            f"joint minus the closest ({METHODS[closest]}) {below_joint[closest]}",
        ),
        Claim(
            "At the same number of exemplars DER is level with replay here (no difference "
            "larger than 0.03 at 95%), though it keeps more than twice replay's memory: the "
            "comparison notebook 04 makes at equal memory",
            der_vs_replay.within(0.03) and bytes_ratio > 2,
            f"DER minus replay {der_vs_replay}; DER keeps {bytes_ratio:.1f}x replay's bytes",
        ),
    ]
    return Claims(found, seeds_in(results))
