"""The panel of notebook 01: fine-tuning vs joint training."""

from __future__ import annotations

import matplotlib.pyplot as plt

from .. import plots
from ..config import RunConfig
from ..lessons import forgetting
from . import RunPanel, dropdown, log_slider, slider


def draw_forgetting(results: dict):
    """Per-class accuracy after each task of fine-tuning and of joint training (heatmaps),
    and both methods' accuracy on all seen classes after each task."""
    fig, axes = plt.subplots(
        1, 3, figsize=(12.8, 4.4), layout="constrained", gridspec_kw={"width_ratios": [1, 1.2, 1]}
    )
    plots.per_class_heatmap(results["finetune"], axes[0], "fine-tuning", cbar=False)
    plots.per_class_heatmap(results["joint"], axes[1], "joint training")
    axes[1].set_yticks([])
    plots.accuracy_curves(results, axes[2], "all seen classes")
    return fig


def forgetting_panel(base: RunConfig, seeds: int = 5) -> RunPanel:
    """Epochs, learning rate, classes per task and class order of ``base``'s stream; the
    ranges include ``base``'s values."""
    classes = base.num_classes()
    steps = sorted({s for s in (1, 2, 5, 10, 20) if classes % s == 0} | {base.step})
    controls = {
        "epochs": slider("epochs per task", base.epochs, 1, max(30, base.epochs)),
        "lr": log_slider("learning rate", base.lr, -4, 0),
        "classes_per_task": dropdown("classes per task", steps, base.step),
        "order_seed": slider(
            "class-order seed", base.class_order_seed, 0, max(9, base.class_order_seed)
        ),  # fmt: skip
    }

    def compute(epochs, lr, classes_per_task, order_seed, seeds, progress=None):
        scenario = base.scenario if classes_per_task == base.step else f"B0Inc{classes_per_task}"
        cfg = base.replace(epochs=epochs, lr=lr, scenario=scenario, class_order_seed=order_seed)
        return forgetting.runs(cfg, seeds, progress)

    return RunPanel(controls, compute, draw_forgetting, "Fine-tuning vs joint training", seeds)
