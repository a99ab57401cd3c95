"""Notebook 04: MEMO (Memory-efficient Expandable MOdel) against DER and replay at the same
total memory, from starved to ample; which blocks stay general; what freezing the
generalized blocks does.

The offline setting is notebook 03's (digits, the narrow CNN, 100 training images per
class, its training schedule) with a first task of four classes and three tasks of two,
so that the first task can serve as a pretraining (the freeze table).

- The memory curve (:func:`levels`): DER with 0, 1, 2, 5 and 10 times the setting's
  exemplar budget (digits: 0 to 10 exemplars per class); MEMO and replay at DER's total
  memory (model plus exemplars), each spending on exemplars what its own model leaves, as
  the MEMO paper's Figure 1 compares methods over a range of memory sizes.
- Which blocks are general: DER keeps the first task's backbone as it was; the newest
  backbone descends from it through every later task. Linear CKA between the two, block by
  block (``block_similarity`` of DER's runs), tells how far each block's features moved.
- Freezing the generalized blocks: MEMO measures how far the first task's features drift
  (``first_task_drift``); the freeze table runs MEMO with them trained or frozen after a
  first task trained in full (pretrained) or for one epoch only (not pretrained), and
  reads the accuracy on the classes after the first task, which both rows learn alike.
"""

from __future__ import annotations

import numpy as np

from ..config import RunConfig
from ..data import dataset_info, parse_scenario
from ..equal_memory import backbone_for, final_parameters
from ..experiment import run_grid
from ..memory import model_bytes
from ..methods.expandable import default_split
from . import (
    SEEDS,
    Claim,
    Claims,
    difference,
    mean_pm,
    over_seeds,
    pooled,
    seed_list,
    seeds_in,
    values,
)
from .der import SETTING as DER_SETTING

#: the offline setting of notebook 04: notebook 03's, with a first task of four classes;
#: its budget, 10 exemplars (one per class after the last task), is the starved memory
SETTING = DER_SETTING.replace(method="memo", scenario="B4Inc2", budget=10)

METHODS = ("MEMO", "DER", "replay")
#: DER's exemplar budget on the memory curve, as multiples of the setting's budget
MULTIPLES = (0, 1, 2, 5, 10)
#: exemplars per class (DER's, after the last task) at least where memory is ample
AMPLE = 5
#: the margins of the claims: MEMO's and replay's edge over DER where memory is starved (at
#: least), MEMO's at ample memory (a bound), the first task's feature drift with trained
#: generalized blocks (at least), and what freezing them may cost (at most)
LARGE_EDGE, SMALL_EDGE, DRIFT, FREEZE_COST = 0.3, 0.12, 0.5, 0.03

#: the memory-agnostic comparison of the CIL survey by MEMO's authors (Zhou et al., "Deep
#: Class-Incremental Learning: A Survey"): area under the accuracy-vs-memory curve on
#: CIFAR-100 B0Inc10, of the average incremental accuracy (AUC-A) and the last (AUC-L)
SURVEY_AUC = {
    "replay": (10.49, 8.02),
    "iCaRL": (10.81, 8.64),
    "DER": (10.74, 8.95),
    "MEMO": (10.85, 9.03),
    "FOSTER": (11.12, 9.03),
}


def starved(base: RunConfig) -> int:
    """DER's exemplar budget where memory is starved: the setting's (digits: 10, one
    exemplar per class after the last task)."""
    return base.budget or SETTING.budget


def levels(base: RunConfig) -> tuple[int, ...]:
    """DER's exemplar budgets on the memory curve: ``MULTIPLES`` of :func:`starved` (digits:
    0 to 100, from no exemplar to ten per class)."""
    return tuple(m * starved(base) for m in MULTIPLES)


def ample(budgets, classes: int) -> list[int]:
    """The DER budgets that leave at least ``AMPLE`` exemplars per class."""
    return [b for b in budgets if b / classes >= AMPLE]


def der_memory(cfg: RunConfig, budget: int) -> int:
    """Bytes of DER's final model on ``cfg``'s stream plus ``budget`` stored images."""
    der = cfg.replace(method="der", split=None, train_base=True)
    return model_bytes(final_parameters(der)) + budget * dataset_info(cfg.dataset).image_bytes


def equal_memory(base: RunConfig, budget: int) -> dict[str, RunConfig]:
    """DER with ``budget`` exemplars; MEMO and replay with DER's total memory."""
    der = base.replace(method="der", budget=budget, memory_budget=None, split=None,
                       train_base=True)  # fmt: skip
    memory = der_memory(der, budget)
    return {
        "MEMO": base.replace(method="memo", budget=0, memory_budget=memory),
        "DER": der,
        "replay": der.replace(method="replay", budget=0, memory_budget=memory),
    }


def pretraining_scenario(base: RunConfig) -> str:
    """``base``'s scenario if its first task is larger than the later ones (B4Inc2), else
    the same steps after a first task of at most half the classes, as large as the steps
    allow: B0Inc2 on 10 classes -> B4Inc2; PyCIL's B0Inc10 on 100 -> B50Inc10."""
    n, step = base.num_classes(), base.step
    if parse_scenario(base.scenario, n)[0] > step:
        return base.scenario
    first = max((b for b in range(step, n // 2 + 1) if (n - b) % step == 0), default=0)
    return f"B{first}Inc{step}" if first else base.scenario


def table_configs(base: RunConfig, budget: int) -> dict[tuple[bool, bool], RunConfig]:
    """MEMO for (pretrained?, freeze the generalized blocks?) on the pretraining scenario,
    at the memory of DER with ``budget`` exemplars there. Not pretrained: the first task
    trains for one epoch."""
    memo = base.replace(method="memo", scenario=pretraining_scenario(base), budget=0)
    memo = memo.replace(memory_budget=der_memory(memo, budget))
    return {
        (pretrained, freeze): memo.replace(
            train_base=not freeze, **({} if pretrained else {"first_epochs": 1})
        )
        for pretrained in (True, False)
        for freeze in (False, True)
    }


def runs(base: RunConfig, seeds=SEEDS, progress=None) -> dict:
    """``{"curve": {DER budget: {method: runs}}, "table": {(pretrained, freeze): runs}}``
    over ``seeds`` (cached per seed; the table at the starved memory)."""
    flat = {
        (budget, method): cfg
        for budget in levels(base)
        for method, cfg in equal_memory(base, budget).items()
    }
    table = {("table", *k): cfg for k, cfg in table_configs(base, starved(base)).items()}
    done = run_grid({**flat, **table}, seed_list(seeds), progress=progress)
    curve = {b: {m: done[(b, m)] for m in METHODS} for b in levels(base)}
    return {"curve": curve, "table": {k[1:]: v for k, v in done.items() if k[0] == "table"}}


# --- what the claims measure ------------------------------------------------------------


def blocks(cfg: RunConfig) -> tuple[list[str], list[str]]:
    """The backbone's blocks that MEMO shares by default (its generalized blocks) and those
    it copies per task (specialized)."""
    backbone = backbone_for(cfg.backbone, dataset_info(cfg.dataset))
    k = default_split(backbone)
    return backbone.block_names[:k], backbone.block_names[k:]


def shared_blocks(cfg: RunConfig) -> list[str]:
    """The backbone's blocks that MEMO shares by default (its generalized blocks)."""
    return blocks(cfg)[0]


def similarity(r) -> dict[str, list[float]]:
    """Linear CKA between the first task's backbone and the newest, per block, after each
    task from the second on (a DER run)."""
    tasks = r.extras["block_similarity"]
    return {block: [t[block] for t in tasks] for block in tasks[0]} if tasks else {}


def shared_minus_specialized(r) -> float:
    """After the last task: mean CKA of the blocks MEMO shares minus of those it copies."""
    last = {block: v[-1] for block, v in similarity(r).items()}
    shared = shared_blocks(RunConfig(**r.config))
    return float(
        np.mean([v for b, v in last.items() if b in shared])
        - np.mean([v for b, v in last.items() if b not in shared])
    )


def last_cka(der_runs) -> dict[str, float]:
    """Mean over seeds of each block's CKA after the last task."""
    names = similarity(der_runs[0])
    return {b: float(np.mean([similarity(r)[b][-1] for r in der_runs])) for b in names}


def stream_accuracy(r) -> float:
    """Accuracy after the last task on the classes that came after the first task."""
    return float(np.nanmean(r.array("per_class_accuracy")[-1, r.classes_per_task[0] :]))


def drift(r) -> float:
    """How far the first task's features moved by the end of a MEMO run (relative L2)."""
    return float(r.extras["first_task_drift"][-1])


def memory_kib(runs) -> float:
    """A run's total memory (model and everything it stores) in KiB."""
    return sum(runs[0].memory_bytes.values()) / 1024


def claims(results: dict) -> Claims:
    curve, table = results["curve"], results["table"]
    budgets = sorted(curve)
    low, high = min(b for b in budgets if b > 0), budgets[-1]
    cfg = RunConfig(**curve[low]["DER"][0].config)
    many = ample(budgets, sum(curve[low]["DER"][0].classes_per_task))
    der = curve[high]["DER"]  # the DER with exemplars enough to learn every task
    cka = over_seeds(der, shared_minus_specialized)
    at_low = difference(curve[low]["MEMO"], curve[low]["DER"])
    at_ample = pooled(*((curve[k]["MEMO"], curve[k]["DER"]) for k in many))
    replay_wins = difference(curve[low]["replay"], curve[low]["DER"])
    trained, frozen = table[(True, False)], table[(True, True)]
    moved = over_seeds(trained, drift)
    pre = difference(frozen, trained, stream_accuracy)
    scratch = difference(table[(False, True)], table[(False, False)], stream_accuracy)
    shared, copied = blocks(cfg)

    def exemplars(b, m):
        return curve[b][m][0].extras["exemplars"]

    found = [
        Claim(
            f"Shallow blocks stay similar across tasks, deep ones do not: after the last task "
            f"the blocks MEMO shares ({', '.join(shared)}) are more similar (linear CKA) "
            f"between DER's first backbone and its newest than the blocks it copies "
            f"({', '.join(copied)}), by more than 0.3",
            cka.above(0.3),
            "CKA after the last task: "
            + ", ".join(f"{b} {v:.2f}" for b, v in last_cka(der).items())
            + f"; shared minus copied {cka}",
        ),
        Claim(
            f"Where memory is starved (DER can keep {low} exemplars, {exemplars(low, 'MEMO')} "
            f"for MEMO), MEMO's edge over DER is large: more than {LARGE_EDGE}",
            at_low.above(LARGE_EDGE),
            f"MEMO {mean_pm(curve[low]['MEMO'])}, DER {mean_pm(curve[low]['DER'])}; "
            f"difference {at_low}",
        ),
        Claim(
            "There a model is not worth its bytes in exemplars: replay, one network with "
            f"all the rest of the memory in {exemplars(low, 'replay')} exemplars, ends above "
            f"DER by more than {LARGE_EDGE} too",
            replay_wins.above(LARGE_EDGE),
            f"replay {mean_pm(curve[low]['replay'])}, DER {mean_pm(curve[low]['DER'])}; "
            f"difference {replay_wins}",
        ),
        Claim(
            f"Where memory is ample (DER keeps {AMPLE} or more exemplars per class: "
            f"{', '.join(map(str, many))}), the edge is gone: MEMO ends within {SMALL_EDGE} "
            "of DER",
            at_ample.within(SMALL_EDGE),
            "MEMO minus DER, "
            + ", ".join(f"{b}: {difference(curve[b]['MEMO'], curve[b]['DER'])}" for b in many)
            + f"; averaged over these memories {at_ample}",
        ),
        Claim(
            "Frozen old blocks do not keep an old task's features unless the generalized "
            f"blocks freeze too: trained, those move the first task's features by more than "
            f"{DRIFT:.0%} of their size; frozen, the features stay exactly as they were, in "
            "every seed",
            moved.above(DRIFT) and max(values(frozen, drift)) == 0,
            f"relative change of the first task's features after the last task: trained "
            f"{moved}; frozen, per seed {[round(drift(r), 6) for r in frozen]}",
        ),
        Claim(
            "After a pretrained first task, freezing the generalized blocks is at least as "
            f"good as training them, to within {FREEZE_COST}",
            pre.above(-FREEZE_COST),
            f"on the classes after the first task, freeze minus train {pre}",
        ),
        Claim(
            "Without pretraining (the first task trained for one epoch), training the "
            f"generalized blocks is not better than freezing them either, to within "
            f"{FREEZE_COST}",
            scratch.above(-FREEZE_COST),
            f"on the classes after the first task, freeze minus train {scratch}",
        ),
    ]
    return Claims(found, seeds_in(results))


def split_lines(base: RunConfig) -> str:
    """Where MEMO cuts this notebook's backbone and PyCIL's ResNet-32 (its default: all
    but the last stage shared)."""
    lines = []
    pycil = RunConfig(dataset="cifar100")
    for name, cfg in (("this notebook", base), ("PyCIL's CIFAR-100", pycil)):
        shared, copied = blocks(cfg)
        net = cfg.backbone or dataset_info(cfg.dataset).backbone
        lines.append(f"{name} ({net}): shared {', '.join(shared)}; per task {', '.join(copied)}")
    return "\n".join(lines)


def survey_table() -> str:
    """The survey's memory-agnostic AUC table (:data:`SURVEY_AUC`), lowest AUC-A first."""
    lines = [f"{'CIFAR-100 B0Inc10':18} {'AUC-A':>6} {'AUC-L':>6}"]
    for name, (auc_a, auc_l) in sorted(SURVEY_AUC.items(), key=lambda kv: kv[1]):
        lines.append(f"{name:18} {auc_a:6.2f} {auc_l:6.2f}")
    return "\n".join(lines)
