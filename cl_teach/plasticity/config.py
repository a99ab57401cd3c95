"""The configuration of a plasticity experiment: one frozen dataclass, every field also an
option of ``python -m cl_teach plasticity``.

Every method shares ``weight_decay`` (the paper's CIFAR-100 runs all use 5e-4). The ``l2``
method adds ``l2_weight_decay`` on top of it, and Shrink & Perturb is ``l2`` plus noise, so
the two differ in the noise alone (as the reference code's permuted-MNIST ``l2`` and
``snp`` configurations).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

METHODS = ("bp", "retrain", "head_reset", "l2", "snp", "cbp")
#: settings that only some methods read, and those methods
OWNERS = {
    "l2_weight_decay": ("l2", "snp"),
    "snp_form": ("snp",),
    "noise_std": ("snp",),
    "shrink": ("snp",),
    "replacement_rate": ("cbp",),
    "replacement": ("cbp",),
    "maturity": ("cbp",),
    "decay": ("cbp",),
}
BACKBONES = ("mlp", "cnn", "resnet18")


def _opt(help: str) -> dict:
    return {"help": help}


@dataclass(frozen=True)
class PlasticityConfig:
    method: str = field(
        default="bp",
        metadata=_opt(
            "bp: backprop carried across tasks; retrain: a fresh network per task; "
            "head_reset: bp with the output layer re-initialised per task; "
            "l2: bp with extra weight decay; snp: Shrink & Perturb (l2 + noise); "
            "cbp: continual backprop"
        ),
    )
    setting: str = field(
        default="permuted",
        metadata=_opt("permuted: pixels permuted per task; incremental: classes added"),
    )
    dataset: str = field(default="digits", metadata=_opt("dataset name"))
    tasks: int | None = field(
        default=None, metadata=_opt("number of tasks (default: 30 permuted, all incremental)")
    )
    train_per_class: int | None = field(
        default=None,
        metadata=_opt("keep only this many training images per class (a short trial)"),
    )
    shuffle_labels: bool = field(
        default=False,
        metadata=_opt("permuted: also shuffle the labels per task (the paper keeps them)"),
    )
    label_noise: float = field(
        default=0.0,
        metadata=_opt(
            "permuted: fraction of each task's training labels replaced by a random class "
            "(a harder task; test labels stay clean)"
        ),
    )
    classes_per_task: int = field(
        default=2, metadata=_opt("incremental: classes of the first task and of each later one")
    )
    class_order_seed: int = field(
        default=0, metadata=_opt("incremental: seed of the class order (shared by every seed)")
    )
    backbone: str = field(default="mlp", metadata=_opt("mlp|cnn|resnet18 (CIFAR stem)"))
    width: int = field(default=32, metadata=_opt("mlp: units per hidden layer; cnn: channels"))
    depth: int = field(default=3, metadata=_opt("mlp: number of hidden layers"))
    optimizer: str = field(default="sgd", metadata=_opt("sgd|adam"))
    lr: float = field(default=0.05, metadata=_opt("learning rate"))
    momentum: float = field(default=0.9, metadata=_opt("SGD momentum"))
    weight_decay: float = field(default=0.0, metadata=_opt("L2 weight decay of every method"))
    epochs: int = field(default=5, metadata=_opt("epochs per task"))
    milestones: tuple[int, ...] = field(
        default=(), metadata=_opt("epochs of each task at which the lr is multiplied by --lr-decay")
    )
    lr_decay: float = field(default=0.2, metadata=_opt("learning-rate factor at milestones"))
    batch_size: int = field(default=64, metadata=_opt("mini-batch size"))
    amp: bool = field(
        default=False,
        metadata=_opt("bfloat16 autocast for the forward pass (long runs on a GPU)"),
    )
    seed: int = field(
        default=0, metadata=_opt("seed of permutations, initialisation, batch order and noise")
    )
    device: str = field(default="auto", metadata=_opt("auto|cpu|cuda"))
    threshold: float = field(default=0.01, metadata=_opt("dormant if active on < this fraction"))
    probe_size: int = field(default=1000, metadata=_opt("probe inputs for the diagnostics"))
    # L2 and Shrink & Perturb
    l2_weight_decay: float = field(
        default=1e-2, metadata=_opt("l2, snp: weight decay added to --weight-decay")
    )
    snp_form: str = field(
        default="step",
        metadata=_opt(
            "step: noise after every step (Dohare et al.); "
            "boundary: shrink + noise at task boundaries (Ash & Adams)"
        ),
    )
    noise_std: float = field(default=1e-3, metadata=_opt("Shrink & Perturb: noise scale sigma"))
    shrink: float = field(default=0.5, metadata=_opt("Shrink & Perturb (boundary form): lambda"))
    # continual backprop
    replacement_rate: float = field(
        default=3e-3,
        metadata=_opt("continual backprop: fraction of mature units replaced per step"),
    )
    replacement: str = field(
        default="utility",
        metadata=_opt("continual backprop: which mature units go: utility (the lowest) or random"),
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
            "backbone": BACKBONES,
            "optimizer": ("sgd", "adam"),
            "device": ("auto", "cpu", "cuda"),
            "snp_form": ("step", "boundary"),
            "replacement": ("utility", "random"),
        }
        for name, options in choices.items():
            if getattr(self, name) not in options:
                bad(name, f"choose one of {', '.join(options)}")
        for name in ("epochs", "batch_size", "width", "depth", "probe_size", "classes_per_task"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                bad(name, "must be a positive whole number")
        for name in ("tasks", "train_per_class"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                bad(name, "must be a positive whole number")
        if not isinstance(self.maturity, int) or self.maturity < 0:
            bad("maturity", "must be a whole number of steps >= 0")
        for name in ("lr", "momentum", "weight_decay", "lr_decay", "noise_std", "l2_weight_decay"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                bad(name, "must be a finite number >= 0")
        if self.lr == 0:
            bad("lr", "must be > 0")
        if not 0 <= self.label_noise < 1:
            bad("label_noise", "must be a fraction in [0, 1)")
        if self.label_noise and self.setting != "permuted":
            bad("label_noise", "label noise is a setting of the permuted tasks only")
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

    def relevant(self) -> dict:
        """:meth:`to_dict` without the settings of other methods (continual backprop's
        rate for backprop, say), which do not change this method's run."""
        return {k: v for k, v in self.to_dict().items() if self.method in OWNERS.get(k, METHODS)}

    def replace(self, **changes) -> PlasticityConfig:
        return dataclasses.replace(self, **changes)
