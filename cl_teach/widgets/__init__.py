"""ipywidgets panels: controls, a Run button, a status line and a plot area.

One module per notebook builds its panel on :class:`RunPanel`; tests drive a panel the
way a student does (set ``.value`` on a control, ``panel.button.click()``) and read
``panel.result`` and ``panel.figure``.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython.display import display


class RunPanel:
    """``compute(**values) -> result`` runs on a click; ``draw(result) -> Figure`` shows it.

    A failed run (bad input, a missing dataset) shows its message in the status line and
    keeps the last good result and plot.
    """

    def __init__(
        self, controls: dict[str, W.Widget], compute: Callable, draw: Callable, title: str = ""
    ):
        self.controls, self.compute, self.draw = controls, compute, draw
        self.button = W.Button(description="Run", button_style="primary", icon="play")
        self.status = W.HTML()
        self.output = W.Output()
        self.result = None
        self.figure = None
        self.error: str | None = None
        self.button.on_click(lambda _: self.run())
        header = [W.HTML(f"<b>{html.escape(title)}</b>")] if title else []
        boxes = [W.Box([w], layout=W.Layout(margin="0 12px 4px 0")) for w in controls.values()]
        self.widget = W.VBox(
            header
            + [
                W.HBox(boxes, layout=W.Layout(flex_flow="row wrap")),
                W.HBox([self.button, self.status]),
                self.output,
            ]
        )

    def values(self) -> dict:
        return {name: w.value for name, w in self.controls.items()}

    def run(self) -> None:
        self.button.disabled = True
        self.status.value = "running..."
        try:
            result = self.compute(**self.values())
            figure = self.draw(result)
        except (ValueError, FileNotFoundError) as err:
            self.error = str(err)
            self.status.value = f"<span style='color:#b00'>{html.escape(self.error)}</span>"
            return
        finally:
            self.button.disabled = False
        self.error, self.result, self.figure = None, result, figure
        self.status.value = "done"
        with self.output:
            self.output.clear_output(wait=True)
            display(figure)
        plt.close(figure)

    def _ipython_display_(self):
        display(self.widget)


def slider(description: str, value, lo, hi, step=1, **kw) -> W.Widget:
    """An int or float slider that only reports when released."""
    cls = W.IntSlider if isinstance(value, int) and isinstance(step, int) else W.FloatSlider
    return cls(
        value=value,
        min=lo,
        max=hi,
        step=step,
        description=description,
        continuous_update=False,
        style={"description_width": "initial"},
        **kw,
    )


def log_slider(description: str, value: float, lo_exp: float, hi_exp: float, **kw) -> W.Widget:
    return W.FloatLogSlider(
        value=value,
        base=10,
        min=lo_exp,
        max=hi_exp,
        step=0.25,
        description=description,
        continuous_update=False,
        style={"description_width": "initial"},
        **kw,
    )


def dropdown(description: str, options, value=None) -> W.Dropdown:
    return W.Dropdown(
        options=options,
        value=value,
        description=description,
        style={"description_width": "initial"},
    )
