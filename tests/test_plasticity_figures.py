"""Notebooks 05 and 06's figures are made for a projector: at most four panels, no text
under 14 pixels when the figure is shown 1280 pixels wide, and no 95% band outside the
range its values can take."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.text import Text

from cl_teach.lessons import plasticity, remedies
from cl_teach.plasticity import PlasticityConfig
from cl_teach.plasticity import plots as pplots
from cl_teach.plasticity.regression import RegressionConfig
from cl_teach.widgets import plasticity as panels

SHOWN_PX, MIN_PX = 1280, 14


@pytest.fixture(scope="module")
def runs():
    base = PlasticityConfig(tasks=5, epochs=1, device="cpu", optimizer="adam", lr=4e-3,
                            momentum=0.0)  # fmt: skip
    seeds = [0, 1]
    results = remedies.runs(base, seeds)
    grown = plasticity.growing(seeds, base=plasticity.GROWING.replace(epochs=1, tasks=2))
    return {
        "results": results,
        "smaller": plasticity.small_step(base, seeds),
        "grown": grown,
        "off": remedies.ablations(base, seeds),
        "sweep": remedies.free_lunch(base, seeds, results=results),
        "regressed": remedies.regression(seeds, RegressionConfig(steps=2_000, phase=500)),
    }


def figures(runs):
    yield "problem", panels.draw_problem(runs["results"])
    yield "layers", panels.draw_layers(runs["results"])
    yield "small step", panels.draw_small_step(runs["smaller"], 0.01)
    yield "growing", panels.draw_growing(runs["grown"])
    yield "remedies", panels.draw_remedies(runs["results"])
    yield "ablations", panels.draw_ablations(runs["off"])
    yield "free lunch", panels.draw_free_lunch(runs["sweep"])
    yield "regression", panels.draw_regression(runs["regressed"])


def test_every_figure_reads_on_a_projector(runs):
    for name, fig in figures(runs):
        width = fig.get_size_inches()[0]
        assert width <= pplots.WIDTH, name
        shown = [ax for ax in fig.axes if ax.get_visible()]
        assert 1 <= len(shown) <= 4, name
        fig.canvas.draw()
        for text in fig.findobj(Text):
            if text.get_visible() and text.get_text().strip():
                px = text.get_fontsize() * SHOWN_PX / (72 * width)
                assert px >= MIN_PX, f"{name}: {text.get_text()!r} at {px:.1f} px"
        for ax in shown:
            low, high = ax.get_ylim()
            for band in ax.findobj(PolyCollection):
                y = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
                assert low - 1e-9 <= y.min() and y.max() <= high + 1e-9, name
        plt.close(fig)


def test_accuracy_bands_stop_at_one():
    runs = [{"new_task_accuracy": [0.99, 1.0, 0.97], "method": "bp"},
            {"new_task_accuracy": [0.90, 1.0, 1.0], "method": "bp"}]  # fmt: skip
    ax = pplots.new_task_accuracy({"bp": runs})
    (band,) = ax.findobj(PolyCollection)
    assert band.get_paths()[0].vertices[:, 1].max() <= 1.0
    plt.close(ax.figure)
