"""The plasticity experiments: does a network that keeps learning still learn a new task
as well as a fresh one?

``run_plasticity(config)`` trains ``config.method`` through a task sequence
(:mod:`.tasks`) with seed ``config.seed`` and measures, after each task, the new task's
test accuracy and the diagnostics of :mod:`.diagnostics`. ``run_plasticity_seeds(config,
seeds)`` does so for several seeds: each seed's result is cached on its own (kind
``plasticity``), and the missing seeds train side by side in one pass, each with its own
permutations, initialisation, batch order and noise, so a seed gives the same numbers
alone or beside others.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import torch

from .. import cache, checkpoint
from ..data import ImageData, dataset_info
from ..experiment import SEEDS_PER_PASS, Progress, one_thread_on_cpu, run_grid
from ..train import SeedRandom, device_kind, fit, reproducible, resolve_device
from .backprop import Backprop, HeadReset
from .config import PlasticityConfig
from .continual_backprop import ContinualBackprop
from .diagnostics import diagnose
from .network import PlasticityNet, build_net
from .shrink_perturb import L2, ShrinkPerturb
from .tasks import PlasticityTask, number_of_tasks, task_sequence

LEARNERS = {
    "bp": Backprop,
    "retrain": Backprop,  # a fresh network (and learner) for every task
    "head_reset": HeadReset,
    "l2": L2,
    "snp": ShrinkPerturb,
    "cbp": ContinualBackprop,
}


def make_learner(cfg: PlasticityConfig, random: SeedRandom, device) -> Backprop:
    """``cfg.method``'s learner on a fresh network (one per seed of ``random``)."""
    model = build_net(cfg, random("init")).to(device)
    return LEARNERS[cfg.method](cfg, model, random)


def learn_tasks(
    cfg: PlasticityConfig, seeds, device, progress=None, start: int = 0, learner=None
) -> Iterator[tuple[int, PlasticityTask, Backprop]]:
    """Train the seeds' networks through the tasks; after each task yield its index, the
    task and the learner. Each task restarts the learning rate and its schedule. A resumed
    run starts at task ``start`` with the ``learner`` of its checkpoint."""
    random = SeedRandom(seeds) if learner is None else learner.random
    augment = dataset_info(cfg.dataset).augment
    for t, task in enumerate(task_sequence(cfg, random, device, start), start):
        if learner is None or cfg.method == "retrain":
            learner = make_learner(cfg, random, device)
        learner.start_task(t)
        learner.model.classes = task.classes
        fit(
            learner,
            task.train,
            random,
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            lr=cfg.lr,
            milestones=cfg.milestones,
            lr_decay=cfg.lr_decay,
            augment=augment,
            amp=cfg.amp,
            progress=progress,
            where=f"task {t + 1}, ",
        )
        yield t, task, learner


@torch.no_grad()
def accuracy(model: PlasticityNet, data: ImageData, seeds: int, batch: int = 1024) -> list[float]:
    """Each seed's accuracy on ``data`` (shared or per seed), in eval mode."""
    model.eval()
    correct = 0
    for k in range(0, len(data), batch):
        x = data.to_float(data.x[:, k : k + batch]).expand(seeds, -1, -1, -1, -1)
        correct = correct + (model(x)["logits"].argmax(-1) == data.y[:, k : k + batch]).sum(1)
    return (correct / len(data)).tolist()


def run_plasticity(cfg: PlasticityConfig, *, use_cache: bool = True, progress=False) -> dict:
    """The result of seed ``cfg.seed`` (see :func:`run_plasticity_seeds`)."""
    return run_plasticity_seeds(cfg, [cfg.seed], use_cache=use_cache, progress=progress)[0]


@one_thread_on_cpu
def run_plasticity_seeds(
    cfg: PlasticityConfig, seeds, *, use_cache: bool = True, progress=False
) -> list[dict]:
    """One result per seed: cached seeds are read (a run is shared by configs that differ
    only in other methods' settings), the others trained side by side (in groups of at most
    ``SEEDS_PER_PASS``). ``progress``: a bool (a progress bar over epochs) or a callback
    ``(epochs done, epochs in all)``."""
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("no seeds given: ask for at least one (--seeds 1)")
    results = {}
    for s in seeds:
        hit = cache.load("plasticity", _key(cfg.replace(seed=s))) if use_cache else None
        if hit is not None:
            results[s] = {**hit, "config": cfg.replace(seed=s).to_dict(), "cached": True}
    missing = [s for s in dict.fromkeys(seeds) if s not in results]
    if missing:
        cache.may_train(f"{cfg.method}, seeds {missing}")
    for k in range(0, len(missing), SEEDS_PER_PASS):
        group = missing[k : k + SEEDS_PER_PASS]
        saved = checkpoint.path("plasticity", _key(cfg), group) if use_cache else None
        for result in _train(cfg, group, progress, saved):
            if use_cache:
                cache.save("plasticity", _key(cfg.replace(seed=result["seed"])), result)
            results[result["seed"]] = {**result, "cached": False}
        checkpoint.remove(saved)
    return [results[s] for s in seeds]


def run_plasticity_grid(configs: dict[str, PlasticityConfig], seeds, *, progress=None):
    """``run_grid`` of plasticity runs: ``{label: [result per seed]}``."""
    return run_grid(configs, seeds, progress=progress, run=run_plasticity_seeds)


def _key(cfg: PlasticityConfig) -> dict:
    """The cache key: the settings that change the run, and the device kind."""
    return {**cfg.relevant(), "device": device_kind(cfg.device)}


MEASURES = (
    "new_task_accuracy",
    "units_replaced_per_task",
    "dormant_fraction",
    "dormant_fraction_per_site",
    "dormant_mask",
    "effective_rank",
    "stable_rank",
    "weight_magnitude",
)


def _train(cfg: PlasticityConfig, seeds: list[int], progress, saved=None) -> list[dict]:
    """Train ``seeds`` side by side through the tasks; with ``saved`` (a checkpoint path),
    save the state after every task but the last and resume from it if it exists."""
    start = time.perf_counter()
    device, S, T = resolve_device(cfg.device), len(seeds), number_of_tasks(cfg)
    reproducible(device)
    bar = Progress(progress, cfg.epochs * T, f"{cfg.method} {cfg.setting}")
    state = checkpoint.load(saved) or {
        "done": 0,  # tasks finished
        "learner": None,
        "out": [{k: [] for k in MEASURES} for _ in seeds],  # measured so far
        "replaced_before": [0] * S,
        "seconds": 0.0,  # spent before this resumption
    }
    bar.update(cfg.epochs * state["done"])
    out, replaced_before = state["out"], state["replaced_before"]
    tasks = learn_tasks(cfg, seeds, device, bar, state["done"], state["learner"])
    for t, task, learner in tasks:
        probe = task.train.to_float(task.train.x[:, : cfg.probe_size]).expand(S, -1, -1, -1, -1)
        measured = zip(
            accuracy(learner.model, task.test, S),
            diagnose(learner.model, probe, cfg.threshold),
            learner.units_replaced,
            out,
            strict=True,
        )
        for s, (acc, diagnostics, units, o) in enumerate(measured):
            o["new_task_accuracy"].append(acc)
            o["units_replaced_per_task"].append(units - replaced_before[s])
            replaced_before[s] = units
            for k, v in diagnostics.items():
                o[k].append(v)
        if t < T - 1:
            seconds = state["seconds"] + time.perf_counter() - start
            checkpoint.save(saved, {**state, "done": t + 1, "learner": learner, "seconds": seconds})
    bar.close()
    seconds = state["seconds"] + time.perf_counter() - start
    units = [learner.unit_state(s) for s in range(S)]
    return [
        {
            "method": cfg.method,
            "seed": seed,
            "tasks": len(o["new_task_accuracy"]),
            **o,
            "units_replaced": sum(o["units_replaced_per_task"]),
            "last_fifth_accuracy": last_fifth(o["new_task_accuracy"]),
            "final_dormant_fraction": o["dormant_fraction"][-1],
            "unit_state": state,
            "seconds": seconds,
            "config": cfg.replace(seed=seed).to_dict(),
        }
        for seed, o, state in zip(seeds, out, units, strict=True)
    ]


def last_fifth(values: list[float]) -> float:
    """Mean over the last fifth of the tasks (at least one)."""
    k = max(1, len(values) // 5)
    return sum(values[-k:]) / k
