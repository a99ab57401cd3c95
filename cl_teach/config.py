"""The run configuration: one frozen dataclass, so a run is a pure function of it.

Every field is also a command-line option (``cl_teach.cli`` builds the parser from
the field list), so any figure a notebook widget makes can be reproduced from a
terminal. Fields used by one method only are grouped and named as the paper names them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field


def _opt(help: str, **extra) -> dict:
    return {"help": help, **extra}


@dataclass(frozen=True)
class RunConfig:
    # what to run
    method: str = field(default="finetune", metadata=_opt("continual-learning method"))
    dataset: str = field(default="digits", metadata=_opt("dataset name"))
    scenario: str = field(
        default="B0Inc2", metadata=_opt("B<first task classes>Inc<classes per later task>")
    )
    backbone: str | None = field(
        default=None, metadata=_opt("mlp|cnn|cnn_narrow|resnet32|resnet18 (default: per dataset)")
    )
    seed: int = field(
        default=0, metadata=_opt("seed of initialisation, batch order and memory draws")
    )
    class_order_seed: int | None = field(
        default=0,
        metadata=_opt(
            "seed of the class order, the same stream for every --seed (none: natural order)"
        ),
    )
    train_per_class: int | None = field(
        default=None, metadata=_opt("keep only this many training images per class")
    )
    device: str = field(default="auto", metadata=_opt("auto|cpu|cuda"))
    eval: str = field(
        default="class",
        metadata=_opt("class: predict among all seen classes; task: task identity is given"),
    )
    # the shared training loop (the first task may have its own schedule, as in PyCIL)
    epochs: int = field(default=10, metadata=_opt("epochs per task"))
    lr: float = field(default=0.05, metadata=_opt("SGD learning rate"))
    momentum: float = field(default=0.9, metadata=_opt("SGD momentum"))
    weight_decay: float = field(default=5e-4, metadata=_opt("L2 weight decay"))
    milestones: tuple[int, ...] = field(
        default=(), metadata=_opt("epochs at which the learning rate is multiplied by --lr-decay")
    )
    lr_decay: float = field(default=0.1, metadata=_opt("learning-rate factor at milestones"))
    first_epochs: int | None = field(
        default=None, metadata=_opt("epochs of the first task (default: --epochs)")
    )
    first_lr: float | None = field(
        default=None, metadata=_opt("learning rate of the first task (default: --lr)")
    )
    first_milestones: tuple[int, ...] | None = field(
        default=None, metadata=_opt("milestones of the first task (default: --milestones)")
    )
    first_weight_decay: float | None = field(
        default=None, metadata=_opt("weight decay of the first task (default: --weight-decay)")
    )
    batch_size: int = field(default=32, metadata=_opt("mini-batch size"))
    amp: bool = field(
        default=False,
        metadata=_opt("bfloat16 autocast for the forward pass (long runs on a GPU)"),
    )
    # exemplar memory (rehearsal, DER, MEMO)
    budget: int = field(default=0, metadata=_opt("exemplar budget (total, or per class)"))
    per_class: bool = field(
        default=False, metadata=_opt("budget is per class, not a total shrunk over classes")
    )
    selection: str = field(default="herding", metadata=_opt("random|herding|reservoir"))
    memory_budget: int | None = field(
        default=None,
        metadata=_opt("total memory in bytes (model + exemplars); the exemplar count is derived"),
    )
    # EWC
    ewc_lambda: float = field(
        default=30.0,
        metadata=_opt(
            "EWC penalty strength (tuned on digits: stable over seeds 0-9 at 5 and 10 epochs; "
            "100 diverged at 5 epochs)"
        ),
    )
    # Dark Experience Replay (Buzzega et al. 2020)
    alpha: float = field(
        default=1.0,
        metadata=_opt("Dark ER: weight of the logit MSE (tuned on digits; seq-CIFAR-100 used 0.3)"),
    )
    beta: float = field(default=0.5, metadata=_opt("DER++: weight of the buffer CE"))
    # DER (Dynamically Expandable Representation) and MEMO
    freeze_old: bool = field(
        default=True,
        metadata=_opt(
            "DER/MEMO: let the old backbones train (default: frozen)", flag="--no-freeze"
        ),
    )
    aux_loss: bool = field(
        default=True, metadata=_opt("DER/MEMO: no auxiliary |new|+1 head", flag="--no-aux")
    )
    weight_align: bool = field(
        default=True, metadata=_opt("DER/MEMO: no weight aligning", flag="--no-weight-align")
    )
    train_base: bool = field(
        default=True,
        metadata=_opt(
            "MEMO: freeze the generalized blocks after the first task (default: train them "
            "in every task, --train-base)",
            flag="--freeze-base",
            on_flag="--train-base",
        ),
    )
    split: int | None = field(
        default=None, metadata=_opt("MEMO: number of leading blocks shared (generalized)")
    )

    def __post_init__(self):
        def bad(name, why):
            raise ValueError(f"{name}={getattr(self, name)!r}: {why}")

        for name in ("epochs", "batch_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                bad(name, "must be a positive whole number")
        for name in ("first_epochs", "train_per_class"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                bad(name, "must be a positive whole number")
        for name in (
            "lr",
            "momentum",
            "weight_decay",
            "lr_decay",
            "ewc_lambda",
            "alpha",
            "beta",
            "first_lr",
            "first_weight_decay",
        ):
            value = getattr(self, name)
            if value is not None and (not math.isfinite(value) or value < 0):
                bad(name, "must be a finite number >= 0")
        if self.lr == 0 or self.first_lr == 0:
            bad("lr" if self.lr == 0 else "first_lr", "must be > 0")
        if not isinstance(self.budget, int) or isinstance(self.budget, bool) or self.budget < 0:
            bad("budget", "must be a whole number of exemplars >= 0")
        if self.memory_budget is not None and self.memory_budget < 0:
            bad("memory_budget", "must be a number of bytes >= 0")
        if self.device not in ("auto", "cpu", "cuda"):
            bad("device", "choose auto, cpu or cuda")
        if self.eval not in ("class", "task"):
            bad("eval", "choose class (class-incremental) or task (task-incremental)")
        if self.selection not in ("random", "herding", "reservoir"):
            bad("selection", "choose random, herding or reservoir")
        if self.method != "memo" and (self.split is not None or not self.train_base):
            bad("method", "--split and --freeze-base are MEMO's switches; use --method memo")
        object.__setattr__(self, "milestones", tuple(int(m) for m in self.milestones))
        if self.first_milestones is not None:
            object.__setattr__(self, "first_milestones", tuple(map(int, self.first_milestones)))

    @property
    def step(self) -> int:
        """Classes per task after the first (the k of ``B<b>Inc<k>``)."""
        return int(self.scenario.split("Inc")[1])

    def num_classes(self) -> int:
        """The number of classes of the dataset."""
        from .data import dataset_info

        return dataset_info(self.dataset).num_classes

    def schedule(self, task: int) -> dict:
        """Task ``task``'s training schedule: epochs, lr, milestones, weight decay (the
        first task's own where given)."""
        later = {
            "epochs": self.epochs,
            "lr": self.lr,
            "milestones": self.milestones,
            "weight_decay": self.weight_decay,
        }
        if task > 0:
            return later
        first = {
            "epochs": self.first_epochs,
            "lr": self.first_lr,
            "milestones": self.first_milestones,
            "weight_decay": self.first_weight_decay,
        }
        return {k: later[k] if v is None else v for k, v in first.items()}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes) -> RunConfig:
        return dataclasses.replace(self, **changes)
