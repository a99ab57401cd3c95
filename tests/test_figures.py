"""The notebooks' figures read on a projector: every text at least 14 px when the figure
is shown 1280 px wide, at most four panels (``plots.too_small``), on tiny runs."""

import matplotlib.pyplot as plt
import pytest

from cl_teach import plots
from cl_teach.data import Stream, load_dataset
from cl_teach.lessons import der, forgetting, regularization, summary
from cl_teach.models import make_backbone
from cl_teach.widgets import der as der_widgets
from cl_teach.widgets import forgetting as forgetting_widgets
from cl_teach.widgets import regularization as regularization_widgets
from cl_teach.widgets import summary as summary_widgets

TINY = {"epochs": 1, "train_per_class": 5}
SEEDS = [0, 1]


def test_the_check_finds_small_text_and_too_many_panels():
    fig, axes = plt.subplots(1, 5, figsize=(12.8, 3))
    for ax in axes:
        ax.plot([0, 1])
    axes[0].set_title("tiny", fontsize=6)
    found = plots.too_small(fig)
    assert any("'tiny'" in f for f in found) and any("5 panels" in f for f in found)
    plt.close(fig)


@pytest.fixture(scope="module")
def figures():
    made = {}
    ft = forgetting.runs(forgetting.SETTING.replace(**TINY), SEEDS)
    made["01 forgetting"] = forgetting_widgets.draw_forgetting(ft)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), layout="constrained")
    plots.accuracy_matrix(ft["finetune"], axes[0], "fine-tuning: R[i, j]")
    plots.accuracy_matrix(ft["joint"], axes[1], "joint: R[i, j]")
    made["01 matrices"] = fig
    reg = regularization.runs(regularization.SETTING.replace(**TINY), SEEDS)
    made["02a bias"] = regularization_widgets.draw_bias(reg)
    made["02a ewc bias"] = regularization_widgets.draw_bias(reg, ("ewc",))
    made["02a evaluations"] = regularization_widgets.draw_regularization(reg)
    made["02a panel"] = regularization_widgets.draw_panel({"task": reg["task"]})
    d = der.runs(der.SETTING.replace(**TINY), SEEDS)
    made["03 variants"] = der_widgets.draw_variants(d)
    made["03 aligning"] = der_widgets.draw_aligning(d)
    made["03 panel"] = der_widgets.draw_der({"DER": d["DER"], "replay": d["replay"]})
    fig, axes = plt.subplots(1, 2, figsize=(12.8, 4.4), layout="constrained")
    plots.per_class_heatmap(d["DER"], axes[0], "DER, 20 exemplars")
    plots.per_class_heatmap(d["no exemplars"], axes[1], "DER without exemplars")
    made["03 heatmaps"] = fig
    blocks = make_backbone("cnn_narrow", (1, 8, 8)).block_names
    fig, axes = plt.subplots(1, 3, figsize=(12.8, 3.6), layout="constrained",
                             gridspec_kw={"width_ratios": [1.6, 2.3, 3]})  # fmt: skip
    for t, ax in enumerate(axes, 1):
        plots.network_diagram(t, None, blocks, ax=ax, title=f"after task {t}")
    made["03 diagram"] = fig
    s = summary.runs(summary.SETTING.replace(**TINY), SEEDS)
    made["07 summary"] = summary_widgets.draw_summary(s)
    made["00 stream"] = plots.stream_picture(Stream(load_dataset("digits"), "B0Inc2", 0), 2)
    yield made
    plt.close("all")


def test_every_figure_reads_on_a_projector(figures):
    bad = {name: found for name, fig in figures.items() if (found := plots.too_small(fig))}
    assert not bad, "\n".join(f"{name}: {', '.join(found[:4])}" for name, found in bad.items())
