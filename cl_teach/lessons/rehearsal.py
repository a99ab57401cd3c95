"""Notebook 02b: rehearsal under a memory budget. Replay with herding, random and reservoir
selection over budgets; Dark Experience Replay and DER++ against replay at equal samples
(as Buzzega et al. compare them) and at equal bytes (a Dark ER sample carries its logits)."""

from __future__ import annotations

from ..config import RunConfig
from ..data import dataset_info
from ..experiment import run_grid
from ..methods import method_class
from ..metrics import seed_summary
from . import SEEDS, Claim, Claims, difference, mean_pm, seed_list, seeds_in, values
from .regularization import clearly_above, new_classes, norm_ratio, old_classes

#: the offline setting of notebook 02b: digits, five tasks of two classes, a small MLP (64-64:
#: five times faster than 01's CNN, so every figure has 5 seeds and a panel answers in
#: seconds), 10 epochs per task, a total budget of 200 exemplars
SETTING = RunConfig(
    dataset="digits", scenario="B0Inc2", backbone="mlp", epochs=10, lr=0.05, budget=200
)
SELECTIONS = ("herding", "random", "reservoir")
DARK = ("dark_er", "dark_er_pp")
LABELS = {
    "herding": "replay, herding",
    "random": "replay, random",
    "reservoir": "ER (reservoir)",
    "dark_er": "Dark ER",
    "dark_er_pp": "DER++",
    "finetune": "fine-tuning",
}


def headline_budget(base: RunConfig) -> int:
    """The budget the methods are compared at: ``base``'s (the offline setting's if 0)."""
    return base.budget or SETTING.budget


def budgets(base: RunConfig) -> tuple[int, ...]:
    """The budgets of the accuracy-vs-budget figure: a tenth, a quarter and all of the
    headline budget."""
    b = headline_budget(base)
    return tuple(sorted({max(1, b // 10), max(1, b // 4), b}))


def equal_bytes(base: RunConfig, budget: int | None = None, method: str = "dark_er") -> int:
    """How many plain exemplars fit in the bytes of ``budget`` samples of ``method`` (a Dark
    ER sample is its image plus 4 bytes per class of logits)."""
    info = dataset_info(base.dataset)
    b = headline_budget(base) if budget is None else budget
    return b * method_class(method).bytes_per_sample(info) // info.image_bytes


def configs(base: RunConfig) -> dict[str, RunConfig]:
    """The runs of the notebook, by label: fine-tuning; replay with each selection at each
    budget; ER at Dark ER's bytes; Dark ER and DER++ at the headline budget. ``base``'s
    stream, schedule, alpha and beta; a total budget (no ``per_class``)."""
    base = base.replace(per_class=False, memory_budget=None)
    b, eq = headline_budget(base), equal_bytes(base)
    out = {"finetune": base.replace(method="finetune", budget=0)}
    for sel in SELECTIONS:
        for k in budgets(base):
            out[f"{sel} {k}"] = base.replace(method="replay", selection=sel, budget=k)
    out[f"reservoir {eq}"] = base.replace(method="replay", selection="reservoir", budget=eq)
    for m in DARK:
        out[f"{m} {b}"] = base.replace(method=m, selection="reservoir", budget=b)
    return out


def runs(base: RunConfig, seeds=SEEDS, progress=None) -> dict:
    """Every run of :func:`configs` over ``seeds``: ``{"finetune": [Result per seed],
    selection or method: {budget: [Result per seed]}}``."""
    return nest(run_grid(configs(base), seed_list(seeds), progress=progress))


def nest(flat: dict) -> dict:
    """``{"finetune": runs, "herding 20": runs, ...}`` -> ``{"finetune": runs, "herding":
    {20: runs, ...}, ...}``."""
    out: dict = {}
    for label, results in flat.items():
        name, _, budget = label.rpartition(" ")
        if name:
            out.setdefault(name, {})[int(budget)] = results
        else:
            out[label] = results
    return out


def counts(r) -> list[int]:
    """Exemplars of each seen class at the end of a run (none without a memory)."""
    seen = sum(r.classes_per_task)
    return r.extras.get("exemplars_per_class", [0] * seen)[:seen]


def fewest_per_class(r) -> int:
    """The fewest exemplars any seen class holds at the end of a run."""
    return min(counts(r))


def recovered(floor, mid, top) -> list[float]:
    """Per seed, the fraction of the gap from ``floor``'s final accuracy to ``top``'s that
    ``mid`` closes (three lists of runs, paired by seed)."""
    out = []
    for f, m, t in zip(floor, mid, top, strict=True):
        span = t.final_accuracy - f.final_accuracy
        out.append((m.final_accuracy - f.final_accuracy) / span if span else float("nan"))
    return out


def claims(results: dict) -> Claims:
    ft, h, rnd, er = (results[k] for k in ("finetune", "herding", "random", "reservoir"))
    small, b, eq = min(h), max(h), max(er)
    dark, dpp = results["dark_er"][b], results["dark_er_pp"][b]
    classes = sum(ft[0].classes_per_task)
    rise, gap = difference(h[b], h[small]), seed_summary(recovered(ft, h[small], h[b]))
    vs_random, vs_reservoir = difference(h[small], rnd[small]), difference(h[small], er[small])
    late = difference(h[b], rnd[b])
    bias = difference(h[b], ft, norm_ratio)
    same_samples = [difference(x, er[b]) for x in (dark, dpp)]
    same_bytes = [difference(x, er[eq]) for x in (dark, dpp)]
    kb = [r[0].memory_bytes["exemplars"] / 1000 for r in (er[b], dark, er[eq])]
    image = dataset_info(ft[0].dataset).image_bytes
    found = [
        Claim(
            f"Replay rises with the budget: herding replay with {b} exemplars ends clearly "
            f"above {small} (by more than 0.05)",
            rise.clear and rise.mean > 0.05,
            f"{b}: {mean_pm(h[b])}, {small}: {mean_pm(h[small])}; difference {rise}",
        ),
        Claim(
            f"A tenth of the budget recovers most of the way: herding replay with {small} "
            f"exemplars closes more than half of the gap between fine-tuning and {b}",
            gap["n"] > 1 and gap["mean"] - gap["ci95"] > 0.5,
            f"fraction of the gap closed {gap['mean']:.3f} +- {gap['ci95']:.3f}",
        ),
        Claim(
            f"At {small} exemplars herding beats random and reservoir selection clearly",
            all(d.clear and d.mean > 0 for d in (vs_random, vs_reservoir)),
            f"herding {mean_pm(h[small])}, random {mean_pm(rnd[small])}, reservoir "
            f"{mean_pm(er[small])}; herding minus random {vs_random}, minus reservoir "
            f"{vs_reservoir}",
        ),
        Claim(
            f"The reservoir balances nothing: at {small} it leaves some class without any "
            f"exemplar (in at least one seed), where herding and random keep "
            f"{small // classes} of every class",
            min(values(er[small], fewest_per_class)) == 0
            and all(fewest_per_class(r) == small // classes for r in h[small] + rnd[small]),
            f"fewest exemplars of a class under reservoir, per seed: "
            f"{[fewest_per_class(r) for r in er[small]]}",
        ),
        Claim(
            f"At {b} the reservoir keeps every class near its share of {b // classes}: "
            "between half and twice it, in every seed",
            all(b // classes / 2 <= c <= 2 * b // classes for r in er[b] for c in counts(r)),
            f"exemplars per class, per seed: {[counts(r) for r in er[b]]}",
        ),
        Claim(
            f"At {b} exemplars herding no longer beats random (no clear lead)",
            not (late.clear and late.mean > 0),
            f"herding {mean_pm(h[b])}, random {mean_pm(rnd[b])}: {late}",
        ),
        Claim(
            f"With {small} exemplars the old classes fade while the newest stay: old classes "
            "end clearly below the newest (by more than 0.1)",
            clearly_above(h[small], lambda r: new_classes(r) - old_classes(r), 0.1),
            f"old classes {mean_pm(h[small], old_classes)}, newest "
            f"{mean_pm(h[small], new_classes)}",
        ),
        Claim(
            f"Rehearsal removes the bias toward new classes: with replay ({b}, herding) the "
            "newest rows are no longer longer than the old ones (ratio below 1 in every "
            "seed), clearly unlike fine-tuning",
            max(values(h[b], norm_ratio)) < 1 and bias.clear and bias.mean < 0,
            f"new/old row norm ratio: replay {mean_pm(h[b], norm_ratio)}, fine-tuning "
            f"{mean_pm(ft, norm_ratio)}",
        ),
        Claim(
            f"Equal samples are not equal bytes: {b} Dark ER samples take {kb[1]:g} kB, "
            f"{b} images {kb[0]:g} kB; ER with {eq} images takes Dark ER's bytes (up to one "
            "image)",
            0 <= kb[1] - kb[2] < image / 1000 and kb[1] > kb[0],
            f"a Dark ER sample: {image} bytes of image + {4 * classes} bytes of logits",
        ),
        Claim(
            f"At equal samples ({b} each) the stored logits add little here: Dark ER and "
            "DER++ end within 0.03 of ER",
            all(abs(d.mean) < 0.03 for d in same_samples),
            f"ER {mean_pm(er[b])}, Dark ER {mean_pm(dark)}, DER++ {mean_pm(dpp)}; minus ER: "
            f"{same_samples[0]}, {same_samples[1]}",
        ),
        Claim(
            f"At equal bytes ({kb[1]:g} kB, so ER keeps {eq} images) neither Dark ER nor "
            "DER++ beats ER clearly",
            not any(d.clear and d.mean > 0 for d in same_bytes),
            f"ER {mean_pm(er[eq])}; Dark ER minus ER {same_bytes[0]}, DER++ minus ER "
            f"{same_bytes[1]}",
        ),
    ]
    return Claims(found, seeds_in(results))
