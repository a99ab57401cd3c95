"""ipywidgets panels: controls, a seeds control, a Run button, a progress bar, a status
line and a plot area.

One module per notebook builds its panel on :class:`RunPanel`; tests drive a panel the
way a student does (set ``.value`` on a control, ``panel.button.click()``) and read
``panel.result`` and ``panel.figure``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython.display import display

SEED_CHOICES = (1, 3, 5, 10)


class RunPanel:
    """``compute(**values, progress=...) -> result`` runs on a click (``values`` hold
    ``seeds`` too unless ``seeds=None``: a panel that trains nothing); ``draw(result) ->
    Figure`` shows it. ``progress(run, runs, epochs done, epochs)`` moves the panel's
    progress bar while runs train.

    A panel shows its controls and waits for Run (the notebook's figures above already
    show its starting setting). A failed run (bad input, a missing dataset, a diverging
    run) or an interrupted one (Kernel > Interrupt) shows its message in the status line
    and keeps the last good result and plot; nothing of an unfinished run is cached.
    """

    WAITING = "change a control, then press Run (a setting already run answers at once)"

    def __init__(self, controls: dict[str, W.Widget], compute: Callable, draw: Callable,
                 title: str = "", seeds: int | None = 5):  # fmt: skip
        self.controls = dict(controls)
        if seeds is not None:
            self.controls["seeds"] = dropdown("seeds", sorted({*SEED_CHOICES, seeds}), seeds)
        self.compute, self.draw = compute, draw
        self.button = W.Button(description="Run", button_style="primary", icon="play")
        self.bar = W.IntProgress(value=0, min=0, max=1, layout=W.Layout(width="220px"))
        self.status = W.HTML(self.WAITING)
        self.output = W.Output()
        self.result = None
        self.figure = None
        self.error: str | None = None
        self.button.on_click(lambda _: self.run())
        header = [W.HTML(f"<b>{html.escape(title)}</b>")] if title else []
        boxes = [W.Box([w], layout=W.Layout(margin="0 12px 4px 0")) for w in self.controls.values()]
        self.widget = W.VBox(
            header
            + [
                W.HBox(boxes, layout=W.Layout(flex_flow="row wrap")),
                W.HBox([self.button, self.bar, self.status]),
                self.output,
            ]
        )

    def values(self) -> dict:
        return {name: w.value for name, w in self.controls.items()}

    def progress(self, run: int, runs: int, done: int, total: int) -> None:
        """Runs done of all runs, and the epochs of the run in progress."""
        self.bar.max = 100 * max(runs, 1)
        self.bar.value = 100 * run + (100 * done // total if total else 0)
        self.status.value = f"run {min(run + 1, runs)} of {runs}" + (
            f", epoch {done} of {total}" if total else ""
        )

    def run(self) -> None:
        self.button.disabled = True
        self.bar.value, self.status.value = 0, "starting..."
        try:
            result = self.compute(**self.values(), progress=self.progress)
            figure = self.draw(result)
        except (ValueError, FileNotFoundError) as err:
            return self._fail(str(err))
        except KeyboardInterrupt:
            return self._fail("interrupted: the last figure stays; nothing unfinished was cached")
        finally:
            self.button.disabled = False
        self.error, self.result, self.figure = None, result, figure
        self.bar.value = self.bar.max
        self.status.value = "done"
        with self.output:
            self.output.clear_output(wait=True)
            display(figure)
        plt.close(figure)

    def _fail(self, message: str) -> None:
        self.error = message
        self.status.value = f"<span style='color:#b00'>{html.escape(message)}</span>"

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


def log_slider(description: str, value: float, lo_exp=None, hi_exp=None, **kw) -> W.Widget:
    """A log-scale slider over powers of 10 from ``lo_exp`` to ``hi_exp``, widened to hold
    ``value`` (never clamped); without them, two decades under ``value`` to one over. A
    ``value`` of 0 starts the slider at 1."""
    value = value or 1.0
    exponent = math.log10(value)
    lo = math.floor(exponent) - 2 if lo_exp is None else min(lo_exp, math.floor(exponent))
    hi = math.ceil(exponent) + 1 if hi_exp is None else max(hi_exp, math.ceil(exponent))
    return W.FloatLogSlider(
        value=value,
        base=10,
        min=lo,
        max=hi,
        step=0.25,
        description=description,
        continuous_update=False,
        **_row(description, SLIDER_PX),
        **kw,
    )


def log_value(value: float, start: float) -> float:
    """A log slider's value to 4 significant digits (177.82794... -> 177.8), or ``start``
    exactly while the slider still shows it, so that moving back finds the cached run."""
    return start if value == start else float(f"{value:.4g}")


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


def checkbox(description: str, value: bool) -> W.Checkbox:
    """A checkbox wide enough for its whole description (ipywidgets cuts it at 300 px)."""
    width = f"{CHAR_PX * len(description) + 40}px"  # 40 px: the box and its margin
    return W.Checkbox(value=value, description=description, indent=False,
                      layout=W.Layout(width=width, min_width=width))  # fmt: skip


def dropdown(description: str, options, value=None) -> W.Dropdown:
    return W.Dropdown(
        options=options, value=value, description=description, **_row(description, SELECT_PX)
    )
