"""Notebook 06: remedies for loss of plasticity. Continual backprop, Shrink & Perturb beside
its control (L2 alone), backprop and a fresh network on the same tasks; what too high a
replacement rate costs, in a wider and a narrower network."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..plasticity import PlasticityConfig, run_plasticity_grid
from ..plasticity.continual_backprop import unit_layers
from ..plasticity.network import build_net
from ..plasticity.tasks import number_of_tasks, task_sequence
from ..presets import load
from ..train import SeedRandom
from . import SEEDS, Claim, Claims, Difference, difference, mean_pm, seed_list, seeds_in, values
from .plasticity import SETTING as SETTING  # notebook 06 runs on notebook 05's setting
from .plasticity import final_dormant, last_fifth

METHODS = ("bp", "l2", "snp", "cbp", "head_reset", "retrain")
#: the rate of the free-lunch sweep beside the setting's: this many times higher
HIGH = 10
#: CIFAR-100 training images per class in the paper's runs (50 of 500 held out)
PAPER_TRAIN_PER_CLASS = 450


def runs(base: PlasticityConfig, seeds=SEEDS, progress=None) -> dict:
    """Backprop, L2, Shrink & Perturb, continual backprop, the head reset (notebook 05's
    control) and a fresh network on ``base``'s tasks: ``{method: [result per seed]}``. With
    no extra weight decay (the paper's CIFAR-100 values) L2 is backprop itself, and its runs
    are backprop's."""
    methods = [m for m in METHODS if m != "l2" or base.l2_weight_decay > 0]
    out = run_plasticity_grid(
        {m: base.replace(method=m) for m in methods}, seed_list(seeds), progress=progress
    )
    out.setdefault("l2", out["bp"])
    return {m: out[m] for m in METHODS}


def rates(base: PlasticityConfig) -> tuple[float, float]:
    """The setting's replacement rate (1e-3 if it has none) and ``HIGH`` times it."""
    rate = base.replacement_rate or 1e-3
    return rate, min(1.0, HIGH * rate)


def widths(base: PlasticityConfig) -> dict[str, int]:
    """The networks of the free-lunch sweep, by name: the setting's width and half of it
    (the MLP's units per layer, the CNN's channels); ResNet-18 has one width."""
    if base.backbone == "resnet18" or base.width < 2:
        return {base.backbone: base.width}
    unit = "units" if base.backbone == "mlp" else "channels"
    return {f"{w} {unit}": w for w in (base.width, base.width // 2)}


def free_lunch(base: PlasticityConfig, seeds=SEEDS, progress=None) -> dict:
    """The first fifth of ``base``'s tasks, in each network of :func:`widths`: a fresh
    network, backprop, and continual backprop at both :func:`rates`. ``{network: {label:
    runs}}``, labels ``retrain``, ``bp`` and the rates."""
    short = base.replace(tasks=max(1, number_of_tasks(base) // 5))
    configs = {}
    for net, w in widths(base).items():
        cfg = short.replace(width=w)
        configs[(net, "retrain")] = cfg.replace(method="retrain")
        configs[(net, "bp")] = cfg.replace(method="bp")
        for r in rates(base):
            configs[(net, r)] = cfg.replace(method="cbp", replacement_rate=r)
    grid = run_plasticity_grid(configs, seed_list(seeds), progress=progress)
    return {net: {label: grid[(n, label)] for n, label in grid if n == net} for net in widths(base)}


def steps_per_task(cfg: PlasticityConfig) -> int:
    """Optimizer steps in ``cfg``'s first task: batches per epoch times epochs."""
    first = next(task_sequence(cfg, SeedRandom([cfg.seed]), torch.device("cpu")))
    return math.ceil(len(first.train) / cfg.batch_size) * cfg.epochs


def replaceable_units(cfg: PlasticityConfig) -> int:
    """The hidden units continual backprop may replace in ``cfg``'s network."""
    net = build_net(cfg, SeedRandom([cfg.seed])("init"))
    return sum(layer.units for layer in unit_layers(net))


def mean_accuracy(r: dict) -> float:
    """Mean new-task accuracy over all tasks of a run."""
    return float(np.mean(r["new_task_accuracy"]))


def cost(sweep_at_width: dict, label) -> object:
    """A fresh network's mean accuracy minus that of ``label``'s runs (paired by seed)."""
    return difference(sweep_at_width["retrain"], sweep_at_width[label], mean_accuracy)


def hidden_units(r: dict) -> int:
    """The units continual backprop can replace (from its state at the end of the run)."""
    return sum(len(layer["utility"]) for layer in r["unit_state"])


def replaced_fraction_per_task(r: dict) -> float:
    """Units continual backprop replaced per task, as a fraction of its replaceable units."""
    return float(np.mean(r["units_replaced_per_task"])) / hidden_units(r)


def paper_replaced_fraction() -> tuple[float, float]:
    """The fraction of its units the paper's continual backprop replaces in the first and in
    the last task: rate x steps per task (its ResGnT replaces rate x units of a layer at
    every step once a unit is mature)."""
    cfg = load("dohare-cifar100-cbp")["config"]
    steps = [
        math.ceil(PAPER_TRAIN_PER_CLASS * cfg["classes_per_task"] * t / cfg["batch_size"])
        * cfg["epochs"]
        for t in (1, cfg["tasks"])
    ]
    return cfg["replacement_rate"] * steps[0], cfg["replacement_rate"] * steps[1]


def claims(results: dict, sweep: dict) -> Claims:
    """The claims of notebook 06 over the runs of :func:`runs` and :func:`free_lunch`."""
    bp, fresh, l2, snp, cbp = (results[m] for m in ("bp", "retrain", "l2", "snp", "cbp"))
    cfg = cbp[0]["config"]
    gain, vs_fresh = difference(cbp, bp, last_fifth), difference(cbp, fresh, last_fifth)
    calmer = difference(cbp, bp, final_dormant)
    l2_gain, noise = difference(l2, bp, last_fifth), difference(snp, l2, last_fifth)
    level = difference(cbp, snp, last_fifth)
    ours = values(cbp, replaced_fraction_per_task)
    first, last = paper_replaced_fraction()
    paper_rate = load("dohare-cifar100-cbp")["config"]["replacement_rate"]
    control = difference(cbp, results["head_reset"], last_fifth)
    low, high = rates(PlasticityConfig(**cfg))
    wide, *narrow = sweep
    found = [
        Claim(
            f"Continual backprop at rate {low:g} keeps the network plastic: it learns the last "
            "fifth of the tasks better than backprop on every seed, within 0.03 of a fresh "
            "network, with far fewer dormant units than backprop",
            gain.clear and min(gain.per_seed) > 0 and abs(vs_fresh.mean) < 0.03 and calmer.clear,
            f"last fifth: continual backprop {mean_pm(cbp, last_fifth)}, backprop "
            f"{mean_pm(bp, last_fifth)}, fresh network {mean_pm(fresh, last_fifth)}; minus "
            f"backprop {gain}, minus fresh {vs_fresh}; dormant at the end "
            f"{mean_pm(cbp, final_dormant)} against backprop's {mean_pm(bp, final_dormant)}",
        ),
        Claim(
            f"Per step the rate here is {low / paper_rate:.0f} times the paper's CIFAR-100 rate "
            f"({paper_rate:g}), yet per task it replaces a fraction of its units within the "
            f"paper's range ({first:.0%} of the units in the first task, {last:.0%} in the "
            "last: the paper's tasks last many more steps)",
            first <= min(ours) and max(ours) <= last,
            f"replaced per task: {mean_pm(cbp, replaced_fraction_per_task)} of its "
            f"{hidden_units(cbp[0])} units ({np.mean(values(cbp, 'units_replaced')):.0f} units "
            f"in {cbp[0]['tasks']} tasks)",
        ),
        Claim(
            "Continual backprop does not beat the cheap control of notebook 05: the head reset "
            "learns the last fifth at least as well",
            control.mean <= 0,
            f"continual backprop minus the head reset, last fifth: {control}",
        ),
        Claim(
            "L2 alone (the weight decay, no noise) keeps most of the plasticity: it learns the "
            "last fifth better than backprop on every seed",
            l2_gain.clear and min(l2_gain.per_seed) > 0,
            f"last fifth: L2 {mean_pm(l2, last_fifth)}, backprop {mean_pm(bp, last_fifth)}, "
            f"difference {l2_gain}",
        ),
        Claim(
            "Shrink & Perturb's noise adds nothing clear beyond L2: Shrink & Perturb minus L2 "
            "is within the seeds' spread (its 95% interval includes 0)",
            not noise.clear,
            f"last fifth: Shrink & Perturb {mean_pm(snp, last_fifth)}, L2 "
            f"{mean_pm(l2, last_fifth)}, difference {noise}",
        ),
        Claim(
            "Continual backprop and Shrink & Perturb end level here (within 0.02), where the "
            "paper puts continual backprop 1.5 points ahead",
            abs(level.mean) < 0.02,
            f"continual backprop minus Shrink & Perturb, last fifth: {level}",
        ),
        Claim(
            f"No free lunch: at {HIGH} times the rate ({high:g}) continual backprop learns the "
            "first fifth of the tasks clearly worse than a fresh network",
            cost(sweep[wide], high).clear and cost(sweep[wide], high).mean > 0,
            f"{wide}: a fresh network minus continual backprop over the first fifth, at "
            f"{low:g}: {cost(sweep[wide], low)}; at {high:g}: {cost(sweep[wide], high)}",
        ),
    ]
    if narrow:
        (w,) = narrow
        more = {
            r: Difference.of(np.subtract(cost(sweep[w], r).per_seed, cost(sweep[wide], r).per_seed))
            for r in (low, high)
        }
        found.append(
            Claim(
                f"The less spare capacity, the smaller the free lunch: in the network of {w} per "
                f"layer (not {wide}), continual backprop falls further below a fresh network: "
                f"clearly at {high:g}, and on average at {low:g} too",
                more[high].clear and more[high].mean > 0 and more[low].mean > 0,
                "; ".join(
                    f"rate {r:g}: fresh minus continual backprop, {wide} "
                    f"{cost(sweep[wide], r).mean:+.3f}, {w} {cost(sweep[w], r).mean:+.3f}, "
                    f"the difference {more[r]}"
                    for r in (low, high)
                ),
            )
        )
    return Claims(found, seeds_in(results))
