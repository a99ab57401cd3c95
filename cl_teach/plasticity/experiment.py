"""The plasticity experiments: does a network that keeps learning still learn a new task
as well as a fresh one?

Two task sequences (Dohare et al., Nature 2024):

- ``permuted``: every task is the digits (or any dataset) with its own fixed pixel
  permutation and its own shuffling of the labels, so every task is new and equally
  hard. The continuing network (``bp``) is compared with a fresh one (``retrain``).
- ``incremental``: the paper's class-incremental setting where all data of the seen
  classes stays available (no forgetting problem): start with ``classes_per_task``
  classes, add as many per task, use only the seen classes' logits (CIFAR-100: 5 + 5,
  for a GPU).

``run_plasticity(config) -> dict`` trains task after task and measures, after each task,
the new task's test accuracy and the diagnostics of :mod:`.diagnostics`. Results are
cached on disk (kind ``plasticity``).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from .. import cache
from ..data import ImageData, Stream, load_dataset
from ..experiment import _one_thread_on_cpu
from ..models import make_backbone
from ..train import Learner, fit, resolve_device
from .diagnostics import diagnose

METHODS = ("bp", "retrain", "head_reset", "snp", "cbp")


def _opt(help: str) -> dict:
    return {"help": help}


@dataclass(frozen=True)
class PlasticityConfig:
    method: str = field(
        default="bp",
        metadata=_opt(
            "bp: backprop carried across tasks; retrain: a fresh network per task; "
            "head_reset: bp with the output layer re-initialised per task; "
            "snp: Shrink & Perturb; cbp: continual backprop"
        ),
    )
    setting: str = field(
        default="permuted",
        metadata=_opt("permuted: pixels and labels shuffled per task; incremental: classes added"),
    )
    dataset: str = field(default="digits", metadata=_opt("dataset name"))
    tasks: int | None = field(
        default=None, metadata=_opt("number of tasks (default: 30 permuted, all incremental)")
    )
    classes_per_task: int = field(
        default=2, metadata=_opt("incremental: classes of the first task and of each later one")
    )
    backbone: str = field(default="mlp", metadata=_opt("mlp|cnn"))
    width: int = field(default=32, metadata=_opt("units per hidden layer (cnn: base channels)"))
    depth: int = field(default=3, metadata=_opt("mlp: number of hidden layers"))
    optimizer: str = field(default="sgd", metadata=_opt("sgd|adam"))
    lr: float = field(default=0.03, metadata=_opt("learning rate"))
    momentum: float = field(default=0.9, metadata=_opt("SGD momentum"))
    weight_decay: float = field(default=0.0, metadata=_opt("L2 weight decay"))
    epochs: int = field(default=5, metadata=_opt("epochs per task"))
    milestones: tuple[int, ...] = field(
        default=(), metadata=_opt("epochs of each task at which the lr is multiplied by --lr-decay")
    )
    lr_decay: float = field(default=0.2, metadata=_opt("learning-rate factor at milestones"))
    batch_size: int = field(default=64, metadata=_opt("mini-batch size"))
    seed: int = field(default=0, metadata=_opt("seed for tasks, initialisation and batch order"))
    device: str = field(default="auto", metadata=_opt("auto|cpu|cuda"))
    threshold: float = field(default=0.01, metadata=_opt("dormant if active on < this fraction"))
    probe_size: int = field(default=1000, metadata=_opt("probe inputs for the diagnostics"))
    # Shrink & Perturb
    snp_form: str = field(
        default="step",
        metadata=_opt(
            "step: weight decay + noise after every step (Dohare et al.); "
            "boundary: shrink + noise at task boundaries (Ash & Adams)"
        ),
    )
    noise_std: float = field(default=1e-3, metadata=_opt("Shrink & Perturb: noise scale sigma"))
    snp_weight_decay: float = field(
        default=1e-2, metadata=_opt("Shrink & Perturb (step form): L2 weight decay")
    )
    shrink: float = field(default=0.5, metadata=_opt("Shrink & Perturb (boundary form): lambda"))
    # continual backprop
    replacement_rate: float = field(
        default=3e-3,
        metadata=_opt("continual backprop: fraction of mature units replaced per step"),
    )
    maturity: int = field(
        default=100, metadata=_opt("continual backprop: steps a new unit is immune")
    )
    decay: float = field(default=0.99, metadata=_opt("continual backprop: utility decay eta"))

    def __post_init__(self):
        def bad(name, why):
            raise ValueError(f"{name}={getattr(self, name)!r}: {why}")

        choices = {
            "method": METHODS,
            "setting": ("permuted", "incremental"),
            "backbone": ("mlp", "cnn"),
            "optimizer": ("sgd", "adam"),
            "device": ("auto", "cpu", "cuda"),
            "snp_form": ("step", "boundary"),
        }
        for name, options in choices.items():
            if getattr(self, name) not in options:
                bad(name, f"choose one of {', '.join(options)}")
        for name in ("epochs", "batch_size", "width", "depth", "probe_size", "classes_per_task"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                bad(name, "must be a positive whole number")
        if self.tasks is not None and (not isinstance(self.tasks, int) or self.tasks < 1):
            bad("tasks", "must be a positive whole number")
        if not isinstance(self.maturity, int) or self.maturity < 0:
            bad("maturity", "must be a whole number of steps >= 0")
        for name in ("lr", "momentum", "weight_decay", "lr_decay", "noise_std", "snp_weight_decay"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                bad(name, "must be a finite number >= 0")
        if self.lr == 0:
            bad("lr", "must be > 0")
        if not 0 <= self.replacement_rate <= 1:
            bad("replacement_rate", "must be a fraction between 0 and 1")
        if not 0 <= self.decay < 1:
            bad("decay", "must be in [0, 1)")
        if not 0 < self.shrink <= 1:
            bad("shrink", "must be in (0, 1]")
        if not 0 < self.threshold < 1:
            bad("threshold", "must be a fraction strictly between 0 and 1")
        object.__setattr__(self, "milestones", tuple(int(m) for m in self.milestones))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes) -> PlasticityConfig:
        return dataclasses.replace(self, **changes)


# --- the task sequences ---------------------------------------------------------------


@dataclass(frozen=True)
class PlasticityTask:
    train: ImageData
    test: ImageData
    classes: int  # logits in use: the seen classes


def task_sequence(cfg: PlasticityConfig, device: torch.device) -> list[PlasticityTask]:
    data = load_dataset(cfg.dataset)
    n_classes = data.info.num_classes
    if cfg.setting == "incremental":
        cpt = cfg.classes_per_task
        stream = Stream(
            data, f"B{cpt}Inc{cpt}" if cpt < n_classes else f"B0Inc{cpt}", cfg.seed, device
        )
        if cfg.tasks is not None and cfg.tasks > len(stream):
            raise ValueError(f"tasks={cfg.tasks}: the stream has only {len(stream)} tasks")
        return [
            PlasticityTask(stream.joint(t), stream.joint(t, "test"), stream.seen_classes(t))
            for t in range(cfg.tasks or len(stream))
        ]
    g = torch.Generator().manual_seed(cfg.seed)
    pixels = math.prod(data.info.shape[1:])
    tasks = []
    for _ in range(cfg.tasks or 30):
        perm, relabel = torch.randperm(pixels, generator=g), torch.randperm(n_classes, generator=g)

        def shuffled(d: ImageData, perm=perm, relabel=relabel) -> ImageData:
            x = d.x.flatten(2)[:, :, perm].reshape(d.x.shape)
            return ImageData(x.to(device), relabel[d.y].to(device), d.mean, d.std)

        tasks.append(PlasticityTask(shuffled(data.train), shuffled(data.test), n_classes))
    return tasks


# --- the network and the plain learner -------------------------------------------------


class PlasticityNet(nn.Module):
    """A backbone and one output layer over all classes, of which only the first
    ``classes`` logits are used (the seen classes, as in the paper)."""

    def __init__(self, backbone: nn.Module, num_classes: int):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(backbone.out_dim, num_classes)
        self.classes = num_classes

    def forward(self, x):
        features = self.backbone(x)
        return {"features": features, "logits": self.head(features)[:, : self.classes]}


def build_net(cfg: PlasticityConfig) -> PlasticityNet:
    info = load_dataset(cfg.dataset).info
    kwargs = {"hidden": (cfg.width,) * cfg.depth} if cfg.backbone == "mlp" else {"width": cfg.width}
    return PlasticityNet(make_backbone(cfg.backbone, info.shape, **kwargs), info.num_classes)


def make_optimizer(cfg: PlasticityConfig, params, weight_decay: float) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=weight_decay)


class Backprop(Learner):
    """Plain backprop, carried from task to task (the optimizer too)."""

    def __init__(self, cfg: PlasticityConfig, model: PlasticityNet, weight_decay=None):
        self.cfg, self.model = cfg, model
        wd = cfg.weight_decay if weight_decay is None else weight_decay
        self.optimizer = make_optimizer(cfg, model.parameters(), wd)
        self.units_replaced = 0

    def start_task(self, index: int) -> None:
        """Before task ``index`` (0 = the first); plain backprop does nothing here."""


class HeadReset(Backprop):
    """Backprop whose output layer is re-initialised (and its optimizer state dropped)
    at every task boundary: the cheapest reset, a point of reference."""

    def start_task(self, index: int) -> None:
        if index > 0:
            self.model.head.reset_parameters()
            for p in self.model.head.parameters():
                self.optimizer.state.pop(p, None)


def make_learner(cfg: PlasticityConfig, model: PlasticityNet) -> Backprop:
    if cfg.method == "snp":
        from .shrink_perturb import ShrinkPerturb

        return ShrinkPerturb(cfg, model)
    if cfg.method == "cbp":
        from .continual_backprop import ContinualBackprop

        return ContinualBackprop(cfg, model)
    return HeadReset(cfg, model) if cfg.method == "head_reset" else Backprop(cfg, model)


# --- the experiment ---------------------------------------------------------------------


@torch.no_grad()
def accuracy(model: PlasticityNet, data: ImageData, batch: int = 1024) -> float:
    model.eval()
    correct = sum(
        int(
            (
                model(data.to_float(data.x[k : k + batch]))["logits"].argmax(1)
                == data.y[k : k + batch]
            ).sum()
        )
        for k in range(0, len(data), batch)
    )
    return correct / len(data)


def learn_task(learner: Backprop, task: PlasticityTask, index: int, generator, augment=False):
    """Task ``index`` for a learner: its task-boundary hook, the learning rate (and its
    schedule) restarted, then the shared loop :func:`cl_teach.train.fit`."""
    cfg = learner.cfg
    learner.start_task(index)
    learner.model.classes = task.classes
    for group in learner.optimizer.param_groups:
        group["lr"] = cfg.lr
    scheduler = None
    if cfg.milestones:
        scheduler = torch.optim.lr_scheduler.MultiStepLR(
            learner.optimizer, list(cfg.milestones), cfg.lr_decay
        )
    fit(
        learner,
        task.train,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        generator=generator,
        scheduler=scheduler,
        augment=augment,
    )


@_one_thread_on_cpu
def run_plasticity(cfg: PlasticityConfig, *, use_cache: bool = True) -> dict:
    """Train ``cfg.method`` through the task sequence; after each task, its test accuracy
    and the diagnostics on a probe batch of its training data."""
    if use_cache and (hit := cache.load("plasticity", cfg.to_dict())) is not None:
        return {**hit, "cached": True}
    payload = _train(cfg, resolve_device(cfg.device))
    if use_cache:
        cache.save("plasticity", cfg.to_dict(), payload)
    return {**payload, "cached": False}


def _train(cfg: PlasticityConfig, device: torch.device) -> dict:
    start = time.perf_counter()
    torch.manual_seed(cfg.seed)
    tasks = task_sequence(cfg, device)
    augment = load_dataset(cfg.dataset).info.augment
    generator = torch.Generator().manual_seed(cfg.seed)
    learner = make_learner(cfg, build_net(cfg).to(device))
    keys = (
        "dormant_fraction",
        "dormant_fraction_per_layer",
        "dormant_mask",
        "effective_rank",
        "stable_rank",
        "weight_magnitude",
    )
    out = {k: [] for k in ("new_task_accuracy", "units_replaced_per_task", *keys)}
    for t, task in enumerate(tasks):
        if cfg.method == "retrain" and t > 0:
            learner = make_learner(cfg, build_net(cfg).to(device))
        replaced_before = learner.units_replaced
        learn_task(learner, task, t, generator, augment)
        out["new_task_accuracy"].append(accuracy(learner.model, task.test))
        out["units_replaced_per_task"].append(learner.units_replaced - replaced_before)
        probe = task.train.x[: cfg.probe_size]
        diag = diagnose(learner.model, task.train.to_float(probe), cfg.threshold)
        for k in keys:
            out[k].append(diag[k])
    return {
        "method": cfg.method,
        "tasks": len(tasks),
        **out,
        "units_replaced": sum(out["units_replaced_per_task"]),
        "seconds": time.perf_counter() - start,
        "config": cfg.to_dict(),
    }


def last_fifth(values: list[float]) -> float:
    """Mean over the last fifth of the tasks (at least one)."""
    k = max(1, len(values) // 5)
    return sum(values[-k:]) / k
