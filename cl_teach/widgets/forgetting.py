"""The panel of notebook 01: fine-tuning vs joint training."""

from __future__ import annotations

import matplotlib.pyplot as plt

from .. import plots
from ..config import RunConfig
from ..experiment import run
from . import RunPanel, dropdown, log_slider, slider


def forgetting_runs(
    epochs: int,
    lr: float,
    classes_per_task: int,
    order_seed: int,
    dataset: str = "digits",
    device: str = "auto",
) -> dict:
    """Fine-tuning and joint training on the same stream (cached)."""
    cfg = RunConfig(
        dataset=dataset,
        scenario=f"B0Inc{classes_per_task}",
        epochs=epochs,
        lr=lr,
        class_order_seed=order_seed,
        device=device,
    )
    return {m: run(cfg.replace(method=m), progress=False) for m in ("finetune", "joint")}


def draw_forgetting(results: dict):
    fig, axes = plt.subplots(
        1, 3, figsize=(16, 4.2), layout="constrained", gridspec_kw={"width_ratios": [1.2, 1.2, 1]}
    )
    plots.per_class_heatmap(results["finetune"], axes[0], "fine-tuning: per-class accuracy")
    plots.per_class_heatmap(results["joint"], axes[1], "joint training: per-class accuracy")
    plots.accuracy_curves(results, axes[2])
    return fig


def forgetting_panel(
    epochs=10, lr=0.05, classes_per_task=2, order_seed=0, dataset="digits", device="auto"
) -> RunPanel:
    controls = {
        "epochs": slider("epochs per task", epochs, 1, 30),
        "lr": log_slider("learning rate", lr, -3, 0),
        "classes_per_task": dropdown("classes per task", [1, 2, 5], classes_per_task),
        "order_seed": slider("class-order seed", order_seed, 0, 9),
    }
    return RunPanel(
        controls,
        lambda **v: forgetting_runs(**v, dataset=dataset, device=device),
        draw_forgetting,
        "Fine-tuning vs joint training",
    )
