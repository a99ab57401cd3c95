"""The panel of notebook 04: MEMO against DER and replay at the same total memory."""

from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from .. import plots
from ..config import RunConfig
from ..data import dataset_info, parse_scenario
from ..equal_memory import final_parameters
from ..experiment import run
from ..memory import model_bytes
from ..methods.expandable import default_split
from ..models import make_backbone
from . import RunPanel, dropdown, slider

METHODS = ("memo", "der", "replay")


def pretrained_scenario(scenario: str, num_classes: int) -> str:
    """The same steps after a large first task of about half the classes ("pretrained"):
    B0Inc2 on 10 classes -> B6Inc2; B0Inc10 on 100 -> B50Inc10."""
    step = parse_scenario(scenario, num_classes)[-1]
    base = num_classes // 2
    while (num_classes - base) % step:
        base += 1
    return f"B{base}Inc{step}"


def der_memory(budget: int, dataset: str = "digits", scenario: str = "B0Inc2") -> int:
    """Total bytes of DER's final model plus ``budget`` exemplars: the memory to match."""
    cfg = RunConfig(method="der", dataset=dataset, scenario=scenario)
    return model_bytes(final_parameters(cfg)) + budget * dataset_info(dataset).image_bytes


def equal_memory_runs(
    memory: int,
    train_base: bool = True,
    pretrained: bool = False,
    split: int | None = None,
    epochs: int = 10,
    dataset: str = "digits",
    scenario: str = "B0Inc2",
    device: str = "auto",
    seed: int = 0,
    methods=METHODS,
) -> dict:
    """MEMO, DER and replay, each with the exemplars that fill ``memory`` bytes (cached;
    the MEMO-only switches stay out of the other methods' configs, so they share runs)."""
    if pretrained:
        scenario = pretrained_scenario(scenario, dataset_info(dataset).num_classes)
    cfg = RunConfig(
        dataset=dataset, scenario=scenario, epochs=epochs, device=device, seed=seed,
        memory_budget=memory,
    )  # fmt: skip
    memo = {"train_base": train_base, "split": split}
    return {
        m: run(cfg.replace(method=m, **(memo if m == "memo" else {})), progress=False)
        for m in methods
    }


def memory_grid(budgets, **kw) -> dict:
    """Final accuracy against total memory: the runs at DER's memory with each budget."""
    runs = [
        equal_memory_runs(
            der_memory(b, kw.get("dataset", "digits"), kw.get("scenario", "B0Inc2")), **kw
        )
        for b in budgets
    ]
    return {m: [r[m] for r in runs] for m in METHODS}


def pretrained_freeze_table(memory: int, **kw) -> dict:
    """MEMO's runs for (pretrained base?, freeze generalized blocks?)."""
    return {
        (pre, freeze): equal_memory_runs(memory, train_base=not freeze, pretrained=pre, **kw)[
            "memo"
        ]
        for pre in (False, True)
        for freeze in (False, True)
    }


def draw_table(table: dict, ax=None):
    """The 2x2 table of final accuracies as a heatmap (rows: pretrained, columns: freeze)."""
    acc = np.array([[table[(p, f)].final_accuracy for f in (False, True)] for p in (False, True)])
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
    sns.heatmap(
        acc, annot=True, fmt=".3f", cmap="viridis", ax=ax, cbar=False,
        xticklabels=["train generalized", "freeze generalized"],
        yticklabels=[
            f"from scratch ({table[(False, False)].scenario})",
            f"pretrained ({table[(True, False)].scenario})",
        ],
    )  # fmt: skip
    ax.set_title("MEMO final accuracy")
    return ax


def draw_memo(results: dict):
    fig, axes = plt.subplots(2, 2, figsize=(14, 8.5), layout="constrained")
    plots.per_class_heatmap(results["memo"], axes[0, 0], "MEMO: per-class accuracy")
    labels = {
        m: f"{m.upper() if m != 'replay' else m} ({r.budget} exemplars)" for m, r in results.items()
    }
    plots.accuracy_curves({labels[m]: r for m, r in results.items()}, axes[0, 1])
    plots.parameter_growth(
        {"MEMO": results["memo"], "DER": results["der"], "single network": results["replay"]},
        axes[1, 0],
    )
    ax = axes[1, 1]
    names = list(results)
    model = [results[m].memory_bytes["model"] / 1024 for m in names]
    stored = [results[m].memory_bytes["exemplars"] / 1024 for m in names]
    ax.bar(names, model, label="model (float32)", color="tab:blue")
    ax.bar(names, stored, bottom=model, label="exemplars (uint8)", color="tab:orange")
    for k, m in enumerate(names):
        ax.text(
            k,
            model[k] + stored[k],
            f"{results[m].extras['exemplars']} ex.",
            ha="center",
            va="bottom",
        )
    ax.axhline(
        results["der"].config["memory_budget"] / 1024, color="k", ls="--", lw=1, label="budget"
    )
    ax.set(ylabel="KiB", title="the same total memory, spent differently")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3)
    return fig


def memo_panel(
    memory_kib=135, epochs=10, dataset="digits", scenario="B0Inc2", device="auto"
) -> RunPanel:
    info = dataset_info(dataset)
    backbone = make_backbone(info.backbone, info.shape)
    names = backbone.block_names
    splits = [
        (f"{k}: share {', '.join(names[:k]) or 'nothing (DER)'}", k)
        for k in range(default_split(backbone) + 1)
    ]
    controls = {
        "freeze": W.Checkbox(value=False, description="freeze generalized blocks", indent=False),
        "pretrained": W.Checkbox(
            value=False, description="pretrained base (large first task)", indent=False
        ),
        "split": dropdown("split after", splits, default_split(backbone)),
        "memory_kib": slider("total memory (KiB)", memory_kib, 100, 400, 5),
    }

    def compute(freeze, pretrained, split, memory_kib):
        return equal_memory_runs(
            memory_kib * 1024, not freeze, pretrained, split, epochs, dataset, scenario, device
        )

    return RunPanel(controls, compute, draw_memo, "MEMO vs DER vs replay at the same total memory")
