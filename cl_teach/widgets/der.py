"""The panel of notebook 03: DER (Dynamically Expandable Representation) against replay."""

from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt

from .. import plots
from ..config import RunConfig
from ..experiment import run
from . import RunPanel, slider


def der_runs(
    freeze_old: bool = True,
    budget: int = 200,
    aux_loss: bool = True,
    weight_align: bool = True,
    epochs: int = 10,
    dataset: str = "digits",
    scenario: str = "B0Inc2",
    device: str = "auto",
    seed: int = 0,
) -> dict:
    """DER with the given switches and replay with the same exemplar budget (cached)."""
    cfg = RunConfig(
        dataset=dataset, scenario=scenario, epochs=epochs, budget=budget, device=device, seed=seed
    )
    der = cfg.replace(
        method="der", freeze_old=freeze_old, aux_loss=aux_loss, weight_align=weight_align
    )
    return {
        "der": run(der, progress=False),
        "replay": run(cfg.replace(method="replay"), progress=False),
    }


def draw_der(results: dict):
    der, replay = results["der"], results["replay"]
    fig, axes = plt.subplots(2, 2, figsize=(14, 8.5), layout="constrained")
    plots.per_class_heatmap(der, axes[0, 0], "DER: per-class accuracy")
    plots.accuracy_curves({"DER": der, f"replay ({replay.budget} exemplars)": replay}, axes[0, 1])
    plots.parameter_growth({"DER": der, "single network (replay)": replay}, axes[1, 0])
    aligned = der.config["weight_align"]
    plots.norms_before_after(
        der,
        axes[1, 1],
        title="classifier norms after the last task" + ("" if aligned else " (aligning off)"),
    )
    return fig


def der_panel(
    budget=200, epochs=10, dataset="digits", scenario="B0Inc2", device="auto"
) -> RunPanel:
    def check(description, value):
        return W.Checkbox(value=value, description=description, indent=False)

    controls = {
        "freeze_old": check("freeze old backbones", True),
        "budget": slider("exemplar budget (total)", budget, 0, 1000, 50),
        "aux_loss": check("auxiliary loss", True),
        "weight_align": check("weight aligning", True),
    }
    return RunPanel(
        controls,
        lambda **v: der_runs(**v, epochs=epochs, dataset=dataset, scenario=scenario, device=device),
        draw_der,
        "DER: one backbone per task",
    )
