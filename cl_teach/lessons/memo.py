"""Notebook 04: MEMO (Memory-efficient Expandable MOdel) against DER and replay at the same
total memory, which blocks stay general, and when to freeze the generalized blocks.

The offline setting is notebook 03's (digits, the narrow CNN, 100 training images per
class, its training schedule) with a first task of four classes and three tasks of two,
so that the first task can serve as a pretraining (section 5). A narrow-CNN model costs
about 96 digit images, so even replay's single network cannot store the whole training
set at the memories compared here.

- Which blocks are general: DER keeps the first task's backbone as it was; the newest
  backbone descends from it through every later task. Linear CKA between the two, block by
  block (``block_similarity`` of DER's runs), tells how far each block's features moved.
- The memory curve: DER with ``levels(base)`` exemplars; MEMO and replay at DER's total
  memory (model plus exemplars), each spending on exemplars what its model leaves.
- Freeze the generalized blocks? The same stream, whose first task of about half the
  classes at most (``pretraining_scenario``) is trained in full (pretrained) or for one
  epoch only (not pretrained); MEMO trains (``train_base``) or freezes its generalized
  blocks after that first task. Accuracy is read on the classes after the first task,
  which both rows learn alike.
"""

from __future__ import annotations

import numpy as np

from ..config import RunConfig
from ..data import dataset_info, parse_scenario
from ..equal_memory import backbone_for, final_parameters
from ..experiment import run_grid
from ..memory import model_bytes
from ..methods.expandable import default_split
from . import SEEDS, Claim, Claims, Difference, difference, mean_pm, seed_list, seeds_in, values
from .der import SETTING as DER_SETTING
from .der import TRAIN_PER_CLASS

#: the offline setting of notebook 04: notebook 03's, with a first task of four classes;
#: the memory is DER's with 10 exemplars (and with 50)
SETTING = DER_SETTING.replace(method="memo", scenario="B4Inc2", budget=10)

METHODS = ("MEMO", "DER", "replay")

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


def levels(base: RunConfig) -> tuple[int, int]:
    """DER's exemplar budgets on the memory curve: the setting's budget and five times it
    (digits: 10 and 50; PyCIL's 2000: 2000, MEMO's paper setting, and 10,000)."""
    budget = base.budget or 10
    return (budget, 5 * budget)


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
    over ``seeds`` (cached per seed)."""
    flat = {
        (budget, method): cfg
        for budget in levels(base)
        for method, cfg in equal_memory(base, budget).items()
    }
    table = {("table", *k): cfg for k, cfg in table_configs(base, levels(base)[0]).items()}
    done = run_grid({**flat, **table}, seed_list(seeds), progress=progress)
    curve = {b: {m: done[(b, m)] for m in METHODS} for b in levels(base)}
    return {"curve": curve, "table": {k[1:]: v for k, v in done.items() if k[0] == "table"}}


# --- what the claims measure ------------------------------------------------------------


def shared_blocks(cfg: RunConfig) -> list[str]:
    """The backbone's blocks that MEMO shares by default (its generalized blocks)."""
    backbone = backbone_for(cfg.backbone, dataset_info(cfg.dataset))
    return backbone.block_names[: default_split(backbone)]


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


def stream_accuracy(r) -> float:
    """Accuracy after the last task on the classes that came after the first task."""
    return float(np.nanmean(r.array("per_class_accuracy")[-1, r.classes_per_task[0] :]))


def stored_share(r) -> float:
    """The exemplars a run keeps, as a share of the stream's training images."""
    cfg = RunConfig(**r.config)
    per_class = min(cfg.train_per_class or np.inf, TRAIN_PER_CLASS[cfg.dataset])
    return r.extras["exemplars"] / (per_class * dataset_info(cfg.dataset).num_classes)


def _within(d: Difference) -> str:
    return "within the seeds' spread" if not d.clear else ("ahead" if d.mean > 0 else "behind")


def claims(results: dict) -> Claims:
    curve, table = results["curve"], results["table"]
    low, high = sorted(curve)
    der = curve[high]["DER"]  # the DER with exemplars enough to learn every task
    cka = Difference.of(values(der, shared_minus_specialized))
    last = {b: float(np.mean([similarity(r)[b][-1] for r in der])) for b in similarity(der[0])}
    at_low = difference(curve[low]["MEMO"], curve[low]["DER"])
    at_high = difference(curve[high]["MEMO"], curve[high]["DER"])
    vs_replay = [difference(curve[b]["MEMO"], curve[b]["replay"]) for b in (low, high)]
    share = max(values(curve[high]["replay"], stored_share))
    pre = difference(table[(True, True)], table[(True, False)], stream_accuracy)
    scratch = difference(table[(False, True)], table[(False, False)], stream_accuracy)
    found = [
        Claim(
            "Shallow blocks stay similar across tasks, deep ones do not: after the last task "
            "the blocks MEMO shares are far more similar (linear CKA) between the first "
            "backbone and the newest than the blocks it copies",
            cka.clear and cka.mean > 0,
            "CKA after the last task: "
            + ", ".join(f"{b} {v:.2f}" for b, v in last.items())
            + f"; shared minus copied {cka}",
        ),
        Claim(
            "At equal total memory MEMO beats DER where memory is scarce",
            at_low.clear and at_low.mean > 0,
            f"DER with {low} exemplars: MEMO {mean_pm(curve[low]['MEMO'])} "
            f"({curve[low]['MEMO'][0].extras['exemplars']} exemplars), DER "
            f"{mean_pm(curve[low]['DER'])}; "
            f"difference {at_low}",
        ),
        Claim(
            "and is not worse where memory is ample",
            not (at_high.clear and at_high.mean < 0),
            f"DER with {high} exemplars: MEMO {mean_pm(curve[high]['MEMO'])} "
            f"({curve[high]['MEMO'][0].extras['exemplars']} exemplars), DER "
            f"{mean_pm(curve[high]['DER'])}; "
            f"difference {at_high} ({_within(at_high)})",
        ),
        Claim(
            "MEMO does not beat replay here: one network with many exemplars does as well at "
            "both memories, without storing the whole training set",
            not any(d.clear and d.mean > 0 for d in vs_replay) and share < 0.5,
            f"replay {mean_pm(curve[low]['replay'])} and {mean_pm(curve[high]['replay'])} "
            f"({curve[low]['replay'][0].extras['exemplars']} and "
            f"{curve[high]['replay'][0].extras['exemplars']} "
            f"exemplars); MEMO minus replay {vs_replay[0]} and {vs_replay[1]}; replay keeps "
            f"at most {share:.0%} of the training images",
        ),
        Claim(
            "After a pretrained first task, freezing the generalized blocks is at least as "
            "good as training them",
            pre.mean >= 0,
            f"freeze minus train {pre} (on the classes after the first task; {_within(pre)})",
        ),
        Claim(
            "Without pretraining (first task trained for one epoch), training the generalized "
            "blocks is not better than freezing them either",
            not (scratch.clear and scratch.mean < 0),
            f"freeze minus train {scratch} ({_within(scratch)})",
        ),
    ]
    return Claims(found, seeds_in(results))
