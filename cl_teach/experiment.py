"""``run(config) -> Result``: one class-incremental experiment; ``run_seeds(config, seeds)``:
the same over several seeds.

Seeds are cheap to add: they train side by side in one pass (:mod:`cl_teach.layers`).
Each seed's result is cached on disk on its own, so asking for more seeds reuses the ones
already run, and a seed gives the same numbers alone or beside others."""

from __future__ import annotations

import functools
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from . import cache, checkpoint
from .config import RunConfig
from .data import Stream, load_dataset
from .equal_memory import exemplars_at
from .layers import count_parameters
from .memory import model_bytes
from .methods import METHODS, method_class
from .metrics import average_incremental_accuracy, backward_transfer, forgetting, per_class_accuracy
from .train import device_kind, fit, reproducible, resolve_device

#: seeds trained side by side at most (more are run in groups of this size)
SEEDS_PER_PASS = 10


@dataclass
class Result:
    """What a run of one seed measured. Per-class arrays are indexed by position in
    ``class_order`` (column c is original class ``class_order[c]``); NaN: not seen yet."""

    method: str
    dataset: str
    scenario: str
    seed: int
    eval: str
    class_order: list[int]
    classes_per_task: list[int]
    accuracy_matrix: list[list[float]]  # R[i][j]: on task j after task i
    per_class_accuracy: list[list[float]]  # after task i, on class c
    task_accuracy: list[float]  # on all seen classes after each task
    final_accuracy: float
    average_incremental_accuracy: float
    forgetting: float
    backward_transfer: float
    num_parameters: int  # after the last task
    num_parameters_per_task: list[int]
    memory_bytes: dict  # {"model": float32 parameters, "exemplars": images (+ logits), ...}
    budget: int
    selection: str
    classifier_norms: list[list[float]]  # L2 norm of each class's classifier row, per task
    seconds: float  # wall time of the pass that trained this seed (and those beside it)
    config: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)
    cached: bool = False

    def to_json(self) -> dict:
        """A JSON-ready dict: NaN becomes null."""
        return _nan_to_none(asdict(self))

    @classmethod
    def from_json(cls, data: dict) -> Result:
        return cls(**_none_to_nan(data))

    def array(self, name: str) -> np.ndarray:
        return np.asarray(getattr(self, name), dtype=float)


def one_thread_on_cpu(fn):
    """Run on one CPU thread: the small networks of the CPU defaults train fastest so (extra
    threads mostly wait for each other, and on a busy machine slow a run down many times),
    and the numbers then do not depend on how many cores the machine has."""

    @functools.wraps(fn)
    def wrapper(cfg, *args, **kwargs):
        if resolve_device(cfg.device).type != "cpu":
            return fn(cfg, *args, **kwargs)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn(cfg, *args, **kwargs)
        finally:
            torch.set_num_threads(threads)

    return wrapper


def run(cfg: RunConfig, *, use_cache: bool = True, progress: bool = True) -> Result:
    """Train ``cfg.method`` through the stream with seed ``cfg.seed``; measure it after
    every task."""
    return run_seeds(cfg, [cfg.seed], use_cache=use_cache, progress=progress)[0]


@one_thread_on_cpu
def run_seeds(cfg: RunConfig, seeds, *, use_cache: bool = True, progress=True) -> list[Result]:
    """``run`` for each of ``seeds``: cached seeds are read, the others trained side by
    side (in groups of at most ``SEEDS_PER_PASS``). ``progress`` is a bool or a
    callback ``(runs done, epochs done, epochs in all)`` for a panel's progress bar."""
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("no seeds given: ask for at least one (--seeds 1)")
    results = {}
    for s in seeds:
        hit = cache.load("run", _key(cfg.replace(seed=s))) if use_cache else None
        if hit is not None:  # the same run; its config may differ in settings it never read
            hit = {**hit, "config": cfg.replace(seed=s).to_dict(), "cached": True}
            if "budget" not in method_class(cfg.method).options:
                hit["budget"] = cfg.budget
            results[s] = Result.from_json(hit)
    missing = [s for s in dict.fromkeys(seeds) if s not in results]
    if missing:
        cache.may_train(f"{cfg.method}, seeds {missing}")
    for k in range(0, len(missing), SEEDS_PER_PASS):
        group = missing[k : k + SEEDS_PER_PASS]
        saved = checkpoint.path("run", _key(cfg), group) if use_cache else None
        for result in _train(cfg, group, progress, saved):
            if use_cache:
                cache.save("run", _key(cfg.replace(seed=result.seed)), result.to_json())
            results[result.seed] = result
        checkpoint.remove(saved)
    return [results[s] for s in seeds]


def run_grid(configs: dict, seeds, *, progress=None, run=None) -> dict[str, list]:
    """Every config of ``configs`` over ``seeds`` (cached per seed): ``{label: [result per
    seed]}``, each config run by ``run`` (default ``run_seeds``). ``progress(run, runs,
    epochs done, epochs)`` is told where training is."""
    run = run or run_seeds
    out = {}
    for k, (label, cfg) in enumerate(configs.items()):
        report = progress and functools.partial(progress, k, len(configs))
        out[label] = run(cfg, seeds, progress=report or False)
    if progress:
        progress(len(configs), len(configs), 0, 0)
    return out


def _key(cfg: RunConfig) -> dict:
    """What a run's result depends on: its config without the settings only other methods
    read (fine-tuning's result does not change with EWC's lambda), and the device kind."""
    others = {o for m in METHODS.values() for o in m.options} - set(
        method_class(cfg.method).options
    )
    key = {k: v for k, v in cfg.to_dict().items() if k not in others}
    return {**key, "device": device_kind(cfg.device)}


def _train(cfg: RunConfig, seeds: list[int], progress, saved=None) -> list[Result]:
    """Train ``seeds`` side by side through the stream; with ``saved`` (a checkpoint path),
    save the state after every task but the last and resume from it if it exists."""
    start = time.perf_counter()
    if cfg.memory_budget is not None:  # exemplars: what the final model leaves of the bytes
        cfg = cfg.replace(budget=exemplars_at(cfg))
    device = resolve_device(cfg.device)
    reproducible(device)
    dataset = load_dataset(cfg.dataset)
    stream = Stream(dataset, cfg.scenario, cfg.class_order_seed, device, cfg.train_per_class)
    S, T, n_classes = len(seeds), len(stream), stream.info.num_classes
    schedules = [cfg.schedule(t) for t in range(T)]
    bar = Progress(progress, sum(s["epochs"] for s in schedules), f"{cfg.method} {cfg.scenario}")

    state = checkpoint.load(saved) or {
        "done": 0,  # tasks finished
        "method": method_class(cfg.method)(cfg, stream, device, seeds),
        "R": np.full((S, T, T), np.nan),
        "per_class": np.full((S, T, n_classes), np.nan),
        "norms": np.full((S, T, n_classes), np.nan),
        "task_acc": np.zeros((S, T)),
        "n_params": [],
        "seconds": 0.0,  # spent before this resumption
    }
    method, R, per_class, norms = (state[k] for k in ("method", "R", "per_class", "norms"))
    task_acc, n_params, done = state["task_acc"], state["n_params"], state["done"]
    if done:  # resumed: the data is not in the checkpoint
        method.stream, method.task = stream, stream.tasks[done - 1]
        bar.update(sum(s["epochs"] for s in schedules[:done]))
    for task, schedule in zip(stream.tasks[done:], schedules[done:], strict=True):
        method.before_task(task)
        method.optimizer = method.make_optimizer(schedule["weight_decay"])
        fit(
            method,
            method.train_data(task),
            method.random,
            epochs=schedule["epochs"],
            lr=schedule["lr"],
            milestones=schedule["milestones"],
            lr_decay=cfg.lr_decay,
            batch_size=cfg.batch_size,
            augment=stream.info.augment,
            amp=cfg.amp,
            progress=bar,
            where=f"task {task.index + 1}, ",
        )
        method.after_task(task)

        i, seen = task.index, stream.seen_classes(task.index)
        pred, y = _predict(method, stream, seen, cfg.eval)
        for s in range(S):
            per_class[s, i, :seen] = per_class_accuracy(pred[s], y, seen)
            for j in range(i + 1):
                mask = (y >= stream.tasks[j].classes.start) & (y < stream.tasks[j].classes.stop)
                R[s, i, j] = float((pred[s, mask] == y[mask]).mean())
            task_acc[s, i] = float((pred[s] == y).mean())
        n_params.append(count_parameters(method.model))
        norms[:, i, :seen] = method.classifier_weight().detach().norm(dim=-1).cpu().numpy()
        if i < T - 1:
            seconds = state["seconds"] + time.perf_counter() - start
            checkpoint.save(saved, {**state, "done": i + 1, "seconds": seconds})
    bar.close()

    seconds = state["seconds"] + time.perf_counter() - start
    return [
        Result(
            method=cfg.method,
            dataset=cfg.dataset,
            scenario=cfg.scenario,
            seed=seed,
            eval=cfg.eval,
            class_order=stream.class_order,
            classes_per_task=stream.classes_per_task,
            accuracy_matrix=R[s].tolist(),
            per_class_accuracy=per_class[s].tolist(),
            task_accuracy=task_acc[s].tolist(),
            final_accuracy=float(task_acc[s, -1]),
            average_incremental_accuracy=average_incremental_accuracy(task_acc[s]),
            forgetting=forgetting(R[s]),
            backward_transfer=backward_transfer(R[s]),
            num_parameters=n_params[-1],
            num_parameters_per_task=n_params,
            memory_bytes={"model": model_bytes(n_params[-1]), **method.stored_bytes()},
            budget=cfg.budget,
            selection=getattr(method, "selection", cfg.selection),  # Dark ER: always reservoir
            classifier_norms=norms[s].tolist(),
            seconds=seconds,
            config=cfg.replace(seed=seed).to_dict(),
            extras=method.extras(s),
        )
        for s, seed in enumerate(seeds)
    ]


class Progress:
    """A tqdm bar over epochs (``progress=True``), nothing (False), or a callback."""

    def __init__(self, progress, total: int, desc: str):
        self.callback = progress if callable(progress) else None
        self.total, self.done = total, 0
        self.bar = tqdm(
            total=total, desc=desc, unit="epoch", leave=False, disable=progress is not True
        )

    def update(self, n: int) -> None:
        self.done += n
        self.bar.update(n)
        if self.callback:
            self.callback(self.done, self.total)

    def close(self) -> None:
        self.bar.close()


@torch.no_grad()
def _predict(method, stream: Stream, seen: int, mode: str, batch: int = 1024):
    """Each seed's predictions on the test data of all seen classes: (S, n) and the labels
    (n,). ``mode="task"`` gives the task identity: each sample is classified among its own
    task's classes only."""
    test = stream.joint(len(stream) - 1, "test")
    test = test.subset(test.y[0] < seen)
    S = len(method.seeds)
    logits = torch.cat(
        [
            method.logits(test.to_float(test.x[:, k : k + batch]).expand(S, -1, -1, -1, -1))
            for k in range(0, len(test), batch)
        ],
        1,
    )
    y = test.y[0]
    if mode == "task":
        mask = torch.full_like(logits[0], -math.inf)
        for task in stream.tasks:
            if task.classes.start >= seen:
                break
            rows = (y >= task.classes.start) & (y < task.classes.stop)
            mask[rows, task.classes.start : task.classes.stop] = 0
        logits = logits + mask
    return logits.argmax(-1).cpu().numpy(), y.cpu().numpy()


def _nan_to_none(obj):
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    return obj


def _none_to_nan(obj):
    if obj is None:
        return math.nan
    if isinstance(obj, dict):
        return {k: (v if k in ("config", "extras") else _none_to_nan(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_none_to_nan(v) for v in obj]
    return obj
