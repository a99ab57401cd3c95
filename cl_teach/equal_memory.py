"""Memory accounting and the comparison at equal memory (MEMO, Zhou et al., ICLR 2023).

A float32 parameter costs 4 bytes, a stored exemplar its raw uint8 image (CIFAR 3x32x32 =
3072 bytes, digits 1x8x8 = 64 bytes). One CIFAR ResNet-32 (463,504 parameters) costs as
much as 463,504 x 4 / 3072 = 603 exemplars: the paper's title. A method that grows its
network must be compared with one that does not at the same *total* memory, model plus
exemplars: the smaller model gets the bytes it saves as extra exemplars.

Two accountings, both computed without any data (only shapes, class counts and
parameter counts):

- :func:`memory_table` (``python -m cl_teach memory``) counts the backbones only, as the
  paper does (the classifiers are listed apart);
- :func:`exemplars_at` (``run --memory-budget``) counts everything the final model holds
  (backbones and classifier) and what each stored sample costs for the method (Dark ER's
  samples carry their logits), so a run's ``memory_bytes`` adds up to at most its budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .config import RunConfig
from .data import DATASETS, DatasetInfo, parse_scenario
from .memory import model_bytes
from .methods import method_class
from .methods.der import DER
from .methods.expandable import ExpandableNet, split_backbone
from .models import IncrementalNet, count_parameters, make_backbone, one_seed

# image shapes for accounting only (nothing to download or train): MEMO's ImageNet figures
ACCOUNTING_DATASETS = {"imagenet100": DatasetInfo("imagenet100", 100, (3, 224, 224), "resnet18")}


def accounting_info(dataset: str) -> DatasetInfo:
    infos = {**DATASETS, **ACCOUNTING_DATASETS}
    if dataset not in infos:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(infos)}")
    return infos[dataset]


def backbone_for(name: str | None, info: DatasetInfo):
    """The backbone a run would build (ResNet-18 gets the ImageNet stem on large images)."""
    name = name or info.backbone
    extra = {"stem": "imagenet"} if name == "resnet18" and info.shape[1] >= 64 else {}
    return make_backbone(name, info.shape, **extra)


@dataclass(frozen=True)
class MemoryConfig:
    """The options of ``python -m cl_teach memory`` (defaults: the paper's example)."""

    dataset: str = field(default="cifar100", metadata={"help": "dataset (shape, classes)"})
    scenario: str = field(default="B0Inc10", metadata={"help": "B<base>Inc<step>"})
    backbone: str | None = field(default=None, metadata={"help": "default: per dataset"})
    budget: int = field(default=2000, metadata={"help": "DER's exemplar budget (total)"})
    split: int | None = field(
        default=None, metadata={"help": "MEMO: number of leading blocks shared"}
    )


def memory_table(cfg: MemoryConfig) -> dict:
    """Parameters of the backbone, of MEMO's split and of DER and MEMO after the last task
    (backbones only, as in the paper), and the exemplar counts that give MEMO and a
    single-network replay the total memory of DER with ``cfg.budget`` exemplars."""
    info = accounting_info(cfg.dataset)
    tasks = len(parse_scenario(cfg.scenario, info.num_classes))
    if isinstance(cfg.budget, bool) or not isinstance(cfg.budget, int) or cfg.budget < 0:
        raise ValueError(f"budget={cfg.budget!r}: must be a whole number of exemplars >= 0")
    net = backbone_for(cfg.backbone, info)
    shared, per_task = split_backbone(net, cfg.split)
    generalized, specialized = count_parameters(shared), count_parameters(per_task)
    one = generalized + specialized
    der, memo = tasks * one, generalized + tasks * specialized
    image = info.image_bytes
    total = model_bytes(der) + cfg.budget * image  # DER's total memory, in bytes

    def classifier(features: int) -> int:
        return features * info.num_classes + info.num_classes

    return {
        "dataset": info.name,
        "scenario": cfg.scenario,
        "backbone": cfg.backbone or info.backbone,
        "tasks": tasks,
        "image_bytes": image,
        "budget": cfg.budget,
        "split": len(shared),
        "backbone_parameters": one,
        "generalized_parameters": generalized,
        "specialized_parameters": specialized,
        "exemplars_per_model": model_bytes(one) // image,  # whole exemplars that fit
        "exemplars_per_model_exact": model_bytes(one) / image,
        "der_parameters": der,
        "memo_parameters": memo,
        "replay_parameters": one,
        "der_total_bytes": total,
        "memo_exemplars": (total - model_bytes(memo)) // image,
        "replay_exemplars": (total - model_bytes(one)) // image,
        "classifier_parameters": {
            "der": classifier(tasks * net.out_dim),
            "memo": classifier(tasks * net.out_dim),
            "replay": classifier(net.out_dim),
        },
    }


def final_parameters(cfg: RunConfig) -> int:
    """Parameters of ``cfg.method``'s model after the last task (backbones and classifier,
    no auxiliary head), grown exactly as a run grows it, without data."""
    info = accounting_info(cfg.dataset)
    cls = method_class(cfg.method)
    backbone = make_backbone(cfg.backbone or info.backbone, info.shape)
    if issubclass(cls, DER):
        net = ExpandableNet(backbone, cls.split_of(cfg), auxiliary=False)
    else:
        net = IncrementalNet(backbone)
    for n_new in parse_scenario(cfg.scenario, info.num_classes):
        net.add_classes(n_new, one_seed())
    return count_parameters(net)


def exemplars_at(cfg: RunConfig) -> int:
    """The exemplar budget that fills ``cfg.memory_budget`` bytes once the final model of
    ``cfg.method`` is stored. A budget too small for the model alone is a ValueError."""
    if cfg.budget or cfg.per_class:
        raise ValueError(
            "give either --budget (exemplars) or --memory-budget (bytes), not both; "
            "a memory budget sets a total exemplar budget (no --per-class)"
        )
    model = model_bytes(final_parameters(cfg))
    if cfg.memory_budget < model:
        raise ValueError(
            f"memory_budget={cfg.memory_budget:,} bytes is less than the final {cfg.method} "
            f"model alone ({model:,} bytes)"
        )
    sample = method_class(cfg.method).bytes_per_sample(accounting_info(cfg.dataset))
    return (cfg.memory_budget - model) // sample
