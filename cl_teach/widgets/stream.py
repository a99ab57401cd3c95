"""The panel of notebook 00: see the stream a scenario and a class order make."""

from __future__ import annotations

from .. import plots
from ..data import Stream, load_dataset
from . import RunPanel, dropdown, slider


def stream_panel(dataset: str = "digits") -> RunPanel:
    controls = {
        "scenario": dropdown("scenario", ["B0Inc2", "B0Inc5", "B4Inc2", "B5Inc1"], "B0Inc2"),
        "order_seed": slider("class-order seed", 0, 0, 9),
    }
    return RunPanel(
        controls,
        lambda scenario, order_seed, progress: Stream(load_dataset(dataset), scenario, order_seed),
        lambda stream: plots.stream_picture(stream, per_class=2),
        "A class-incremental stream",
        seeds=None,
    )
