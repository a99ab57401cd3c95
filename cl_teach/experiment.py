"""``run(config) -> Result``: one class-incremental experiment, cached on disk."""

from __future__ import annotations

import functools
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from . import cache
from .config import RunConfig
from .data import Stream, load_dataset
from .equal_memory import exemplars_at
from .memory import model_bytes
from .methods import method_class
from .metrics import average_incremental_accuracy, backward_transfer, forgetting, per_class_accuracy
from .models import count_parameters
from .train import fit, resolve_device


@dataclass
class Result:
    """What a run measured. Per-class arrays are indexed by position in ``class_order``
    (column c is original class ``class_order[c]``); NaN means not seen yet."""

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
    memory_bytes: dict  # {"model": float32 parameters, "exemplars": raw uint8 images}
    budget: int
    selection: str
    classifier_norms: list[list[float]]  # L2 norm of each class's classifier row, per task
    seconds: float
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


def _one_thread_on_cpu(fn):
    """Run on one CPU thread: the small networks of the CPU defaults train fastest so (extra
    threads mostly wait for each other, and on a busy machine slow a run down many times),
    and the numbers then do not depend on how many cores the machine has."""

    @functools.wraps(fn)
    def wrapper(cfg: RunConfig, *args, **kwargs):
        if resolve_device(cfg.device).type != "cpu":
            return fn(cfg, *args, **kwargs)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn(cfg, *args, **kwargs)
        finally:
            torch.set_num_threads(threads)

    return wrapper


@_one_thread_on_cpu
def run(cfg: RunConfig, *, use_cache: bool = True, progress: bool = True) -> Result:
    """Train ``cfg.method`` through the stream and measure it after every task."""
    key = cfg.to_dict()
    if use_cache and (hit := cache.load("run", key)) is not None:
        result = Result.from_json(hit)
        result.cached = True
        return result
    start = time.perf_counter()
    if cfg.memory_budget is not None:  # exemplars: what the final model leaves of the bytes
        cfg = cfg.replace(budget=exemplars_at(cfg))
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device)
    stream = Stream(load_dataset(cfg.dataset), cfg.scenario, cfg.order_seed, device)
    method = method_class(cfg.method)(cfg, stream, device)
    generator = torch.Generator().manual_seed(cfg.seed)

    n_classes = stream.info.num_classes
    T = len(stream)
    R = np.full((T, T), np.nan)
    per_class = np.full((T, n_classes), np.nan)
    norms = np.full((T, n_classes), np.nan)
    task_acc, n_params = [], []
    epochs = [cfg.first_epochs or cfg.epochs] + [cfg.epochs] * (T - 1)
    bar = tqdm(
        total=sum(epochs),
        desc=f"{cfg.method} {cfg.scenario}",
        disable=not progress,
        unit="epoch",
        leave=False,
    )
    for task, n_epochs in zip(stream.tasks, epochs, strict=True):
        method.before_task(task)
        method.optimizer = method.make_optimizer()
        scheduler = torch.optim.lr_scheduler.MultiStepLR(
            method.optimizer, list(cfg.milestones), cfg.lr_decay
        )
        fit(
            method,
            method.train_data(task),
            epochs=n_epochs,
            batch_size=cfg.batch_size,
            generator=generator,
            scheduler=scheduler,
            augment=stream.info.augment,
            progress=bar,
        )
        method.after_task(task)

        i, seen = task.index, stream.seen_classes(task.index)
        pred, y = _predict(method, stream, seen, cfg.eval)
        per_class[i, :seen] = per_class_accuracy(pred, y, seen)
        for j in range(i + 1):
            mask = (y >= stream.tasks[j].classes.start) & (y < stream.tasks[j].classes.stop)
            R[i, j] = float((pred[mask] == y[mask]).mean())
        task_acc.append(float((pred == y).mean()))
        n_params.append(count_parameters(method.model))
        norms[i, :seen] = method.classifier_weight().detach().norm(dim=1).cpu().numpy()
    bar.close()

    result = Result(
        method=cfg.method,
        dataset=cfg.dataset,
        scenario=cfg.scenario,
        seed=cfg.seed,
        eval=cfg.eval,
        class_order=stream.class_order,
        classes_per_task=stream.classes_per_task,
        accuracy_matrix=R.tolist(),
        per_class_accuracy=per_class.tolist(),
        task_accuracy=task_acc,
        final_accuracy=task_acc[-1],
        average_incremental_accuracy=average_incremental_accuracy(task_acc),
        forgetting=forgetting(R),
        backward_transfer=backward_transfer(R),
        num_parameters=n_params[-1],
        num_parameters_per_task=n_params,
        memory_bytes={"model": model_bytes(n_params[-1]), "exemplars": method.exemplar_bytes()},
        budget=cfg.budget,
        selection=getattr(method, "selection", cfg.selection),  # Dark ER: always reservoir
        classifier_norms=norms.tolist(),
        seconds=time.perf_counter() - start,
        config=cfg.to_dict(),
        extras=method.extras(),
    )
    if use_cache:
        cache.save("run", key, result.to_json())
    return result


@torch.no_grad()
def _predict(method, stream: Stream, seen: int, mode: str, batch: int = 1024):
    """Predictions on the test data of all seen classes. ``mode="task"`` gives the task
    identity: each sample is classified among its own task's classes only."""
    test = stream.joint(len(stream) - 1, "test")
    test = test.subset(test.y < seen)
    logits = torch.cat(
        [method.logits(test.to_float(test.x[k : k + batch])) for k in range(0, len(test), batch)]
    )
    if mode == "task":
        mask = torch.full_like(logits, -math.inf)
        for task in stream.tasks:
            if task.classes.start >= seen:
                break
            rows = (test.y >= task.classes.start) & (test.y < task.classes.stop)
            mask[rows, task.classes.start : task.classes.stop] = 0
        logits = logits + mask
    return logits.argmax(1).cpu().numpy(), test.y.cpu().numpy()


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
