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


# Sliders and dropdowns share one row layout: the description in a column wide enough for
# its text, then a track (or a list) long enough to use with a mouse. ipywidgets' own row is
# 300 px in all, so a long description left a slider's track a few pixels, or none.
CHAR_PX = 8  # one character of a description at JupyterLab's 13 px font, with room to spare
LABEL_MIN_PX = 110  # short descriptions share this width, so the rows line up
TRACK_PX = 240  # a slider's track (the browser tests ask for at least 200 px)
SLIDER_PX = TRACK_PX + 88  # with the track's margins (12 px) and the number after it (76 px)
SELECT_PX = 200  # a dropdown's list


def _row(description: str, body_px: int) -> dict:
    """``style`` and ``layout`` of a control: a label column for ``description``, then
    ``body_px`` for the track or list. The minimum width keeps a wrapping panel from
    squeezing the control."""
    label_px = max(LABEL_MIN_PX, CHAR_PX * len(description))
    width = f"{label_px + 8 + body_px}px"  # 8 px: the margin right of the label
    return {
        "style": {"description_width": f"{label_px}px"},
        "layout": W.Layout(width=width, min_width=width),
    }


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
        **_row(description, SLIDER_PX),
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
        **_row(description, SLIDER_PX),
        **kw,
    )


def choice_slider(description: str, options, value, **kw) -> W.SelectionSlider:
    """A slider over a list of ``options`` (``(label, value)`` pairs or plain values)."""
    return W.SelectionSlider(
        options=options,
        value=value,
        description=description,
        continuous_update=False,
        **_row(description, SLIDER_PX),
        **kw,
    )


def dropdown(description: str, options, value=None) -> W.Dropdown:
    return W.Dropdown(
        options=options, value=value, description=description, **_row(description, SELECT_PX)
    )
