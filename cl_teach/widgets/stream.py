"""The panel of notebook 00: see the stream a scenario and a class order make."""

from __future__ import annotations

from .. import plots
from ..config import RunConfig
from ..data import Stream, load_dataset, parse_scenario
from . import RunPanel, dropdown, slider


def scenarios(base: RunConfig) -> list[str]:
    """``base``'s scenario and a few others that divide its dataset's classes."""
    classes = base.num_classes()
    candidates = [base.scenario, "B0Inc2", "B0Inc5", f"B{classes // 2}Inc{max(1, classes // 10)}",
                  f"B{classes // 2}Inc1", f"B0Inc{max(1, classes // 10)}"]  # fmt: skip
    valid = []
    for s in dict.fromkeys(candidates):
        try:
            parse_scenario(s, classes)
        except ValueError:
            continue
        valid.append(s)
    return valid


def stream_panel(base: RunConfig) -> RunPanel:
    """The scenario and class order of ``base``'s dataset; trains nothing."""
    order = base.class_order_seed
    controls = {
        "scenario": dropdown("scenario", scenarios(base), base.scenario),
        "order_seed": slider("class-order seed", order or 0, 0, max(9, order or 0)),
    }

    def compute(scenario, order_seed, progress=None):
        return Stream(load_dataset(base.dataset), scenario, order_seed)

    return RunPanel(
        controls,
        compute,
        lambda stream: plots.stream_picture(stream, per_class=2),
        "A class-incremental stream",
        seeds=None,
    )
