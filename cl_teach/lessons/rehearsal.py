"""Notebook 02b: rehearsal under a memory budget. Replay with herding, random and reservoir
selection over budgets; Dark Experience Replay and DER++ against replay at equal samples
(as Buzzega et al. compare them) and at equal bytes (a Dark ER sample carries its logits),
on the digits and in one pass over MNIST images, where the logits pay."""

from __future__ import annotations

from ..config import RunConfig
from ..data import dataset_info
from ..experiment import run_grid
from ..methods import method_class
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
)
from .regularization import new_classes, norm_ratio, old_classes

#: the offline setting of notebook 02b: digits, five tasks of two classes, a small MLP (64-64:
#: five times faster than 01's CNN, so every figure has 5 seeds and a panel answers in
#: seconds), 10 epochs per task at lr 0.01, a total budget of 200 exemplars
SETTING = RunConfig(
    dataset="digits", scenario="B0Inc2", backbone="mlp", epochs=10, lr=0.01, budget=200
)
#: where stored logits pay: each image seen once (one epoch per task), as in the paper's
#: seq-MNIST (mammoth's settings: batch 10, SGD at lr 0.03 without momentum, an MLP), on
#: the 5,000 MNIST images shipped offline, with a small buffer of 50 samples
ONE_PASS = RunConfig(
    dataset="mnist5k", scenario="B0Inc2", backbone="mlp", epochs=1, lr=0.03, momentum=0.0,
    batch_size=10, budget=50,
)  # fmt: skip
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

#: Buzzega et al., NeurIPS 2020, Table 2: Seq-CIFAR-10, class-incremental (5 tasks of 2
#: classes, ResNet-18, 50 epochs per task, equal samples): final accuracy (%) by buffer size
PAPER_SEQ_CIFAR10 = {
    200: {"ER": 44.79, "Dark ER": 61.93, "DER++": 64.88},
    500: {"ER": 57.74, "Dark ER": 70.51, "DER++": 72.70},
}

#: the margins of the claims (a bound is "the whole 95% interval inside +-x")
SAME_CHOICE = 0.04  # herding vs random at the full budget
LEVEL_BYTES = 0.05  # Dark ER and DER++ vs ER with their bytes, on the digits
MOST_OF_THE_WAY = 0.7  # the share of the gap a tenth of the budget closes


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


def logit_share(base: RunConfig) -> float:
    """What a row of logits adds to a stored image, as a share of the image's bytes."""
    info = dataset_info(base.dataset)
    return (method_class("dark_er").bytes_per_sample(info) - info.image_bytes) / info.image_bytes


def comparison_configs(base: RunConfig) -> dict[str, RunConfig]:
    """Dark ER and DER++ against ER (reservoir replay) at ``base``'s budget, ER also at Dark
    ER's bytes, and fine-tuning as the floor; labels "method budget" (see :func:`nest`)."""
    base = base.replace(per_class=False, memory_budget=None)
    b, eq = headline_budget(base), equal_bytes(base)
    out = {"finetune": base.replace(method="finetune", budget=0)}
    for k in (b, eq):
        out[f"reservoir {k}"] = base.replace(method="replay", selection="reservoir", budget=k)
    for m in DARK:
        out[f"{m} {b}"] = base.replace(method=m, selection="reservoir", budget=b)
    return out


def configs(base: RunConfig) -> dict[str, RunConfig]:
    """The runs of the notebook's main experiment, by label: replay with each selection at
    each budget, and :func:`comparison_configs`. ``base``'s stream, schedule, alpha and
    beta; a total budget (no ``per_class``)."""
    base = base.replace(per_class=False, memory_budget=None)
    out = {
        f"{sel} {k}": base.replace(method="replay", selection=sel, budget=k)
        for sel in SELECTIONS
        for k in budgets(base)
    }
    return {**out, **comparison_configs(base)}


def runs(base: RunConfig, seeds=SEEDS, progress=None) -> dict:
    """Every run of :func:`configs` over ``seeds``: ``{"finetune": [Result per seed],
    selection or method: {budget: [Result per seed]}}``."""
    return nest(run_grid(configs(base), seed_list(seeds), progress=progress))


def one_pass(base: RunConfig = SETTING, seeds=SEEDS, progress=None) -> dict:
    """The comparison of :func:`comparison_configs` in the :data:`ONE_PASS` setting on
    ``base``'s device, nested as :func:`runs`."""
    cfg = ONE_PASS.replace(device=base.device)
    return nest(run_grid(comparison_configs(cfg), seed_list(seeds), progress=progress))


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


# --- what the claims measure ------------------------------------------------------------


def counts(r) -> list[int]:
    """Exemplars of each seen class at the end of a run (none without a memory)."""
    seen = sum(r.classes_per_task)
    return r.extras.get("exemplars_per_class", [0] * seen)[:seen]


def fewest_per_class(r) -> int:
    """The fewest exemplars any seen class holds at the end of a run."""
    return min(counts(r))


def recovered(floor, mid, top) -> Difference:
    """Per seed, the share of the gap from ``floor``'s final accuracy to ``top``'s that
    ``mid`` closes (three lists of runs, paired by seed), over seeds."""
    share = []
    for f, m, t in zip(floor, mid, top, strict=True):
        span = t.final_accuracy - f.final_accuracy
        share.append((m.final_accuracy - f.final_accuracy) / span if span else float("nan"))
    return Difference.of(share)


def new_minus_old(r) -> float:
    """After the last task: accuracy on the newest classes minus on the older ones."""
    return new_classes(r) - old_classes(r)


def logits_vs_er(results: dict) -> dict[str, Difference]:
    """Dark ER and DER++ minus ER at the same number of samples, and minus ER holding the
    same bytes in plain images (a comparison of :func:`comparison_configs`)."""
    b = max(results["dark_er"])
    er = results["reservoir"]
    eq = max(er)
    return {
        f"{LABELS[m]} {kind}": difference(results[m][b], er[k])
        for kind, k in (("samples", b), ("bytes", eq))
        for m in DARK
    }


def _kb(runs) -> float:
    return runs[0].memory_bytes["exemplars"] / 1000


def claims(results: dict, passed_once: dict) -> Claims:
    """The claims of notebook 02b from the digits runs (:func:`runs`) and the runs in one
    pass (:func:`one_pass`)."""
    ft, h, rnd, er = (results[k] for k in ("finetune", "herding", "random", "reservoir"))
    small, b, eq = min(h), max(h), max(er)
    dark = results["dark_er"][b]
    classes = sum(ft[0].classes_per_task)
    rise, gap = difference(h[b], h[small]), recovered(ft, h[small], h[b])
    vs_random, vs_reservoir = difference(h[small], rnd[small]), difference(h[small], er[small])
    late = difference(h[b], rnd[b])
    fade = over_seeds(h[small], new_minus_old)
    ratio, bias = over_seeds(h[b], norm_ratio), difference(h[b], ft, norm_ratio)
    kb = [_kb(r) for r in (er[b], dark, er[eq])]
    image = dataset_info(ft[0].dataset).image_bytes
    digits, once = logits_vs_er(results), logits_vs_er(passed_once)
    b1, eq1 = max(passed_once["dark_er"]), max(passed_once["reservoir"])
    er1 = passed_once["reservoir"]
    share = logit_share(RunConfig(**passed_once["finetune"][0].config))
    found = [
        Claim(
            f"Replay rises with the budget: herding replay with {b} exemplars ends clearly "
            f"above {small}",
            rise.above(0),
            f"{b}: {mean_pm(h[b])}, {small}: {mean_pm(h[small])}; difference {rise}",
        ),
        Claim(
            f"A tenth of the budget goes most of the way: with {small} exemplars herding "
            f"replay closes more than {MOST_OF_THE_WAY:.0%} of the gap between fine-tuning "
            f"and {b} exemplars",
            gap.above(MOST_OF_THE_WAY),
            f"fine-tuning {mean_pm(ft)}; share of the gap closed {gap}",
        ),
        Claim(
            f"With few exemplars the choice matters: at {small} herding ends clearly above "
            "random and reservoir selection",
            vs_random.above(0) and vs_reservoir.above(0),
            f"herding {mean_pm(h[small])}, random {mean_pm(rnd[small])}, reservoir "
            f"{mean_pm(er[small])}; herding minus random {vs_random}, minus reservoir "
            f"{vs_reservoir}",
        ),
        Claim(
            f"The reservoir balances nothing: at {small} it leaves some class without any "
            f"exemplar (in at least one seed), where herding and random keep "
            f"{small // classes} of every class",
            min(fewest_per_class(r) for r in er[small]) == 0
            and all(fewest_per_class(r) == small // classes for r in h[small] + rnd[small]),
            f"fewest exemplars of a class under reservoir, per seed: "
            f"{[fewest_per_class(r) for r in er[small]]}",
        ),
        Claim(
            f"Yet at {b} chance alone keeps every class in the reservoir: none empty, none "
            f"above twice its share of {b // classes}, in every seed",
            all(0 < c <= 2 * b // classes for r in er[b] for c in counts(r)),
            f"fewest and most exemplars of a class, per seed: "
            f"{[(min(counts(r)), max(counts(r))) for r in er[b]]}",
        ),
        Claim(
            f"At {b} exemplars the choice no longer matters: herding and random end within "
            f"{SAME_CHOICE} of each other",
            late.within(SAME_CHOICE),
            f"herding {mean_pm(h[b])}, random {mean_pm(rnd[b])}; herding minus random {late}",
        ),
        Claim(
            f"With {small} exemplars the old classes fade while the newest stay: the newest "
            "end clearly above the old ones, by more than 0.1",
            fade.above(0.1),
            f"old classes {mean_pm(h[small], old_classes)}, newest "
            f"{mean_pm(h[small], new_classes)}; newest minus old {fade}",
        ),
        Claim(
            f"Rehearsal removes the bias toward new classes: with replay ({b}, herding) the "
            "newest classifier rows end clearly shorter than the old ones (new/old norm ratio "
            "below 1), clearly unlike fine-tuning's",
            ratio.below(1) and bias.below(0),
            f"new/old row norm ratio: replay {ratio}, fine-tuning {mean_pm(ft, norm_ratio)}; "
            f"replay minus fine-tuning {bias}",
        ),
        Claim(
            f"Equal samples are not equal bytes: {b} Dark ER samples take {kb[1]:g} kB, "
            f"{b} images {kb[0]:g} kB; ER with {eq} images takes Dark ER's bytes (up to one "
            "image)",
            0 <= kb[1] - kb[2] < image / 1000 and kb[1] > kb[0],
            f"a Dark ER sample: {image} bytes of image + {4 * classes} bytes of logits",
        ),
        Claim(
            f"On the digits the logits buy little at equal bytes: given Dark ER's "
            f"{kb[1]:g} kB as {eq} plain images, ER ends within {LEVEL_BYTES} of Dark ER and "
            "of DER++",
            all(digits[f"{LABELS[m]} bytes"].within(LEVEL_BYTES) for m in DARK),
            f"ER with {eq} images {mean_pm(er[eq])}; "
            + "; ".join(f"{k} minus ER: {d}" for k, d in digits.items() if k.endswith("bytes")),
        ),
        Claim(
            f"In one pass over MNIST images ({b1} samples) the logits pay: Dark ER and DER++ "
            "end clearly above ER with the same number of samples",
            all(once[f"{LABELS[m]} samples"].above(0) for m in DARK),
            f"ER {mean_pm(er1[b1])}, Dark ER {mean_pm(passed_once['dark_er'][b1])}, DER++ "
            f"{mean_pm(passed_once['dark_er_pp'][b1])}; minus ER: "
            + ", ".join(str(once[f"{LABELS[m]} samples"]) for m in DARK),
        ),
        Claim(
            f"and still clearly above ER given their bytes ({eq1} images: a row of logits is "
            f"{share:.0%} of an MNIST image, against {logit_share(SETTING):.0%} of a digit)",
            all(once[f"{LABELS[m]} bytes"].above(0) for m in DARK),
            f"ER with {eq1} images {mean_pm(er1[eq1])}; minus ER: "
            + ", ".join(str(once[f"{LABELS[m]} bytes"]) for m in DARK),
        ),
    ]
    return Claims(found, seeds_in(results))


def paper_table() -> str:
    """Buzzega et al.'s Seq-CIFAR-10 numbers (:data:`PAPER_SEQ_CIFAR10`) as text."""
    lines = [f"{'buffer':>7}" + "".join(f"{m:>9}" for m in PAPER_SEQ_CIFAR10[200])]
    for size, row in PAPER_SEQ_CIFAR10.items():
        lines.append(f"{size:>7}" + "".join(f"{v:>9.2f}" for v in row.values()))
    return "\n".join(lines)


def gain_table(results: dict, passed_once: dict) -> str:
    """Dark ER and DER++ minus ER on the digits and in one pass, at equal samples and at
    equal bytes, mean and 95% interval."""
    rows = {"digits, 10 epochs per task": results, "MNIST, one pass": passed_once}
    lines = [f"{'':40}{'Dark ER':>18}{'DER++':>18}"]
    for name, res in rows.items():
        d = logits_vs_er(res)
        for kind in ("samples", "bytes"):
            cells = "".join(
                f"{f'{x.mean:+.3f} +- {x.ci95:.3f}':>18}"
                for x in (d[f"{LABELS[m]} {kind}"] for m in DARK)
            )
            lines.append(f"{name + ', equal ' + kind:40}{cells}")
    return "\n".join(lines)
