"""Every notebook as a student meets it: opened in JupyterLab, run, and its panel used.

For each notebook in notebooks/: open it, Run All Cells from the menu, wait until every
cell has run, and check that no cell shows an error and every widget rendered; save a
screenshot to screenshots/. Then use the notebook's main panel (the cell that starts with
``# NBVAL_IGNORE_OUTPUT`` and builds a ``..._panel(...)``) with the mouse, as a person does.
After Run All the panel shows its controls and waits, with no plot (the figures above it
show its starting setting); then:

- every control's description is shown whole (not cut off with an ellipsis);
- every slider shows a track at least 200 px long, inside the cell;
- drag the first slider's handle with the mouse and see its number change;
- pick another option of the first dropdown;
- click Run: mid-run, a picture of the panel with its progress bar lands in
  screenshots/<notebook>-panel-running.png; then the status reads "done", a plot shows,
  the dragged slider still shows its new number, and the kernel is alive and idle. A
  picture of the panel after the run lands in screenshots/<notebook>-panel.png.

A panel without a slider (or a dropdown) skips that step with a ``PartSkipped`` warning
that says so; a panel with neither flips its first checkbox or toggle instead, so that
Run has something new to show.

Run with:  python3 tasks.py browser   (or: .venv/bin/python -m pytest -m browser tests)
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import warnings
from pathlib import Path

import pytest
from playwright.sync_api import expect

from cl_teach.widgets import RunPanel

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
SCREENSHOTS = ROOT / "screenshots"

RUN_ALL_TIMEOUT_S = 900  # a first run trains from scratch; later runs hit data/cache
PANEL_RUN_TIMEOUT_S = 600  # a changed control trains afresh
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_ERRORS = ("Error displaying widget", "model not found")
TRACK_MIN_PX = 200  # a slider track shorter than this is hard to use with a mouse

# Cell prompts read "[ ]:" (not run), "[*]:" (queued or running) or "[3]:" (done). Run
# All is over when nothing is queued, the kernel is idle, and either every code cell has
# run or an error stopped the rest (which the checks below then report).
RUN_ALL_OVER = """() => {
  const status = document.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status;
  if (status === 'dead') return 'dead';
  const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .map(p => p.textContent.trim());
  if (status !== 'idle' || prompts.some(p => p.includes('*'))) return false;
  const stderr = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]';
  if (prompts.every(p => /^\\[\\d+\\]:$/.test(p)) || document.querySelector(stderr)) return 'over';
  return false;
}"""

# The panel has answered the click when its status reads "done" and its plot differs
# from the one before the click.
#: the status line shows an epoch (training, its progress bar moving) or the run has ended
PANEL_TRAINING_OR_ENDED = """([cell, before]) => {
  const status = cell.querySelector('.widget-button ~ .widget-html .widget-html-content');
  const img = cell.querySelector('.widget-output img');
  const text = status?.textContent ?? '';
  return /epoch \\d+ of \\d+|interrupted|[Ee]rror/.test(text) ||
    (text.trim() === 'done' && img !== null && img.src !== before);
}"""
PANEL_ANSWERED = """([cell, before]) => {
  const status = cell.querySelector('.widget-button ~ .widget-html .widget-html-content');
  const img = cell.querySelector('.widget-output img');
  return status?.textContent.trim() === 'done' && img !== null && img.src !== before;
}"""


def code_cells(notebook: dict) -> list[dict]:
    return [c for c in notebook["cells"] if c["cell_type"] == "code"]


def main_panel_index(path: Path) -> int:
    """Index (among all cells) of the first cell that builds and shows a panel."""
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith("# NBVAL_IGNORE_OUTPUT"):
            if re.search(r"\w+_panel\(", source):
                return i
    pytest.fail(
        f"{path.name} has no main panel cell (a code cell starting with "
        "'# NBVAL_IGNORE_OUTPUT' that builds a panel, e.g. der_panel(BASE, SEEDS))",
        pytrace=False,
    )


def open_notebook(page, lab, name: str) -> None:
    """Open a notebook and wait for its kernel: the toolbar says "idle" before a kernel
    exists, and Run All then would ask which kernel to start."""
    page.goto(lab.page_url(name))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    wait_for_kernel(lab, name, timeout=120)
    page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=60_000)


def run_all_cells(page) -> str:
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    return page.wait_for_function(
        RUN_ALL_OVER, timeout=RUN_ALL_TIMEOUT_S * 1000, polling=500
    ).json_value()


def save(page, lab, name: str) -> dict:
    """Save the notebook from the browser and read back what was saved."""
    page.get_by_role("menuitem", name="File", exact=True).click()
    page.get_by_role("menuitem", name=re.compile(r"^Save Notebook(?! As)")).click()
    page.wait_for_selector(".lm-TabBar-tab.jp-mod-dirty", state="detached", timeout=30_000)
    return json.loads((lab.root / name).read_text())


def error_outputs(notebook: dict) -> list[str]:
    found = []
    for n, cell in enumerate(code_cells(notebook), 1):
        for out in cell.get("outputs", []):
            if out["output_type"] == "error":
                found.append(f"code cell {n}: {out['ename']}: {out['evalue']}")
    return found


def tracebacks_on_screen(page) -> list[str]:
    stderr = page.locator(
        '.jp-Notebook .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
    ).all_text_contents()
    return [text for text in stderr if "Traceback" in text or re.search(r"\w+Error\b", text)]


def widget_errors_on_screen(page) -> list[str]:
    text = " ".join(page.locator(".jp-Notebook .jp-OutputArea-output").all_text_contents())
    return [message for message in WIDGET_ERRORS if message in text]


def widget_views(notebook: dict) -> int:
    return sum(
        WIDGET_VIEW in out.get("data", {})
        for cell in code_cells(notebook)
        for out in cell.get("outputs", [])
    )


def rendered_widget_views(page) -> int:
    return page.locator(
        ".jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output > .jupyter-widgets"
    ).count()


def screenshot_whole_notebook(page, path: Path) -> None:
    """Make the window as tall as the notebook, so one picture shows every cell."""
    open_sidebar_tab = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    if open_sidebar_tab.count():
        open_sidebar_tab.click()  # fold the file browser away
    scroller = page.locator(".jp-NotebookPanel .jp-WindowedPanel-outer")
    height = scroller.evaluate("s => s.scrollHeight")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(height + 200, 16_000)})
    scroller.evaluate("s => { s.scrollTop = 0; }")
    page.wait_for_timeout(1000)  # let JupyterLab lay the taller window out
    path.parent.mkdir(exist_ok=True)
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size(size)


def screenshot_panel(page, cell, path: Path) -> None:
    """A picture of the panel (the cell's output) in a window tall enough for all of it:
    JupyterLab's status bar would otherwise cover its bottom."""
    output, size = cell.locator(".jp-Cell-outputArea"), page.viewport_size
    height = round(output.bounding_box()["height"]) + 300
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    output.screenshot(path=path)
    page.set_viewport_size(size)


class PartSkipped(UserWarning):
    """A step of the panel check that this notebook's panel offers no control for."""


def skip_part(name: str, reason: str) -> None:
    print(f"{name}: skipped: {reason}")
    warnings.warn(f"{name}: {reason}", PartSkipped, stacklevel=2)


def label_of(control) -> str:
    return " ".join(control.locator("label").all_text_contents()).strip("\u200b ")


def check_slider_tracks(name: str, cell, sliders) -> None:
    """Every slider shows its track (noUiSlider's ``.noUi-target`` in ipywidgets 8), at
    least TRACK_MIN_PX long and inside the cell (not cut off at its right edge)."""
    cell_box = cell.bounding_box()
    for slider in sliders.all():
        label = label_of(slider)
        track = slider.locator(".noUi-target")
        assert track.count() == 1, f"{name}: slider {label!r} has no track (.noUi-target)"
        track.scroll_into_view_if_needed()
        box = track.bounding_box()
        assert track.is_visible() and box, f"{name}: the track of slider {label!r} is hidden"
        assert box["width"] >= TRACK_MIN_PX, (
            f"{name}: the track of slider {label!r} is {box['width']:.0f} px long, less than "
            f"{TRACK_MIN_PX} px (is its description squeezing it? see cl_teach/widgets)"
        )
        assert box["x"] + box["width"] <= cell_box["x"] + cell_box["width"], (
            f"{name}: the track of slider {label!r} runs past the cell's right edge"
        )


#: the descriptions of a cell's controls that do not fit their box (cut off with "...")
CUT_LABELS = """(cell) => Array.from(cell.querySelectorAll('.jp-OutputArea label'))
  .filter((el) => el.offsetParent !== null && el.clientWidth > 0)
  .filter((el) => el.scrollWidth > el.clientWidth + 1)
  .map((el) => el.textContent.trim())"""


def check_labels(name: str, cell) -> None:
    """Every control's description is shown whole, not cut off (ipywidgets cuts a long one
    with an ellipsis at its row's fixed width)."""
    cut = cell.evaluate(CUT_LABELS)
    assert not cut, f"{name}: descriptions cut off: {cut} (see cl_teach/widgets: _row, checkbox)"


def drag_slider(page, slider) -> str:
    """Drag the handle a quarter of the track with the mouse (left when there is room:
    smaller settings train faster) and check that the number beside it changed."""
    label, readout = label_of(slider), slider.locator(".widget-readout")
    handle = slider.locator(".noUi-handle")
    handle.hover()  # scrolls it into view; the mouse now rests on it
    track, knob = slider.locator(".noUi-target").bounding_box(), handle.bounding_box()
    x, y = knob["x"] + knob["width"] / 2, knob["y"] + knob["height"] / 2
    quarter = track["width"] / 4
    to_x = x - quarter if x - quarter >= track["x"] else x + quarter
    before = readout.text_content()
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(to_x, y, steps=10)
    page.mouse.up()
    expect(
        readout, f"dragging slider {label!r} from x={x:.0f} to x={to_x:.0f} left it at {before}"
    ).not_to_have_text(before, timeout=5_000)
    return f"{label}: {before} -> {readout.text_content()}"


def pick_other_option(dropdown) -> str:
    """Choose the option after the selected one (the first after the last)."""
    label, select = label_of(dropdown), dropdown.locator("select")
    options = select.locator("option").all_text_contents()
    before = select.evaluate("s => s.options[s.selectedIndex].text")
    after = options[(options.index(before) + 1) % len(options)]
    select.select_option(label=after)
    shown = select.evaluate("s => s.options[s.selectedIndex].text")
    assert shown == after, f"dropdown {label!r} shows {shown!r} after choosing {after!r}"
    return f"{label}: {before} -> {after}"


def flip_toggle(control) -> str:
    """Click a checkbox or a toggle button and check that it flipped."""
    label, box = label_of(control), control.locator("input, button").first
    state = "b => b.checked ?? b.classList.contains('mod-active')"
    before = box.evaluate(state)
    box.click()
    assert box.evaluate(state) != before, f"{label!r} did not change on a click"
    return f"{label}: {before} -> {not before}"


def wait_for_kernel(lab, name: str, timeout: float) -> str:
    """The state of the notebook's kernel once it is no longer starting or busy."""
    deadline = time.monotonic() + timeout
    while True:
        sessions = [s for s in lab.api("/api/sessions") if s["path"] == name]
        state = sessions[0]["kernel"]["execution_state"] if sessions else "no kernel"
        if state not in ("no kernel", "starting", "busy") or time.monotonic() > deadline:
            return state
        time.sleep(0.5)


def shut_down_kernels(lab) -> None:
    for session in lab.api("/api/sessions"):
        lab.api(f"/api/sessions/{session['id']}", method="DELETE")


@pytest.mark.browser
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_its_panel_answers(path, lab, browser_context):
    name = path.name
    panel_index = main_panel_index(path)
    failed_screenshot = SCREENSHOTS / f"{path.stem}-FAILED.png"
    failed_screenshot.unlink(missing_ok=True)
    page = browser_context.new_page()
    try:
        # 1. Run All, as a student does, and look at what the notebook shows.
        started = time.monotonic()
        open_notebook(page, lab, name)
        assert run_all_cells(page) != "dead", f"{name}: the kernel died during Run All"
        print(f"{name}: open + Run All {time.monotonic() - started:.0f} s")
        assert not tracebacks_on_screen(page), f"{name} shows errors: {tracebacks_on_screen(page)}"
        saved = save(page, lab, name)
        assert not error_outputs(saved), f"{name}: cells raised: {error_outputs(saved)}"
        not_run = [n for n, c in enumerate(code_cells(saved), 1) if c["execution_count"] is None]
        assert not not_run, f"{name}: code cells {not_run} did not run"
        assert not widget_errors_on_screen(page), (
            f"{name} shows {widget_errors_on_screen(page)}: is the ipywidgets extension "
            "(@jupyter-widgets/jupyterlab-manager) installed and enabled?"
        )
        expected, rendered = widget_views(saved), rendered_widget_views(page)
        assert expected >= 1, f"{name}: no cell displayed a widget"
        assert rendered == expected, (
            f"{name}: {expected} widget outputs but {rendered} rendered as widgets: is the "
            "ipywidgets extension (@jupyter-widgets/jupyterlab-manager) installed and enabled?"
        )
        screenshot_whole_notebook(page, SCREENSHOTS / f"{path.stem}.png")

        # 2. The main panel, used with the mouse: sliders, a drag, a dropdown, Run.
        cell = page.locator(".jp-Notebook .jp-Cell").nth(panel_index)
        cell.scroll_into_view_if_needed()
        run_button = cell.locator("button.widget-button", has_text=re.compile(r"^\s*Run\s*$"))
        status = cell.locator(".widget-button ~ .widget-html .widget-html-content")
        plot = cell.locator(".widget-output img")
        assert run_button.count() == 1, f"{name}: the panel cell has no Run button"
        assert status.text_content().strip() == RunPanel.WAITING, (
            f"{name}: the panel's status reads {status.text_content()!r} after Run All"
        )
        assert plot.count() == 0, f"{name}: the panel shows a plot before Run"
        before = None

        sliders, dropdowns = cell.locator(".widget-slider"), cell.locator(".widget-dropdown")
        check_labels(name, cell)
        changes, dragged = [], None
        if sliders.count():
            check_slider_tracks(name, cell, sliders)
            changes.append(drag_slider(page, sliders.first))
            dragged = sliders.first.locator(".widget-readout").text_content()
        else:
            skip_part(name, "the panel has no slider: no track check and no drag")
        if dropdowns.count():
            changes.append(pick_other_option(dropdowns.first))
        else:
            skip_part(name, "the panel has no dropdown: no option is picked")
        if not changes:  # something must change, or Run would show the same plot
            toggles = cell.locator(".widget-checkbox, .widget-toggle-button")
            assert toggles.count(), f"{name}: the panel has no slider, dropdown or toggle"
            changes.append(flip_toggle(toggles.first))
        change = "; ".join(changes)

        started = time.monotonic()
        run_button.click()
        page.wait_for_function(
            PANEL_TRAINING_OR_ENDED, arg=[cell.element_handle(), before],
            timeout=PANEL_RUN_TIMEOUT_S * 1000, polling=100,
        )  # fmt: skip
        if "epoch" in status.text_content():  # mid-run: the progress bar and the epoch
            screenshot_panel(page, cell, SCREENSHOTS / f"{path.stem}-panel-running.png")
        else:
            skip_part(name, "the run ended before its progress could be seen")
        try:
            page.wait_for_function(
                PANEL_ANSWERED,
                arg=[cell.element_handle(), before],
                timeout=PANEL_RUN_TIMEOUT_S * 1000,
                polling=250,
            )
        except Exception as err:  # playwright's TimeoutError, with what the panel shows
            changed = plot.count() == 1 and plot.get_attribute("src") != before
            raise AssertionError(
                f"{name}: after '{change}' and Run, the status reads {status.text_content()!r} "
                f"and the plot {'changed' if changed else 'did not change'}"
            ) from err
        print(f"{name}: Run after '{change}' {time.monotonic() - started:.0f} s")
        assert not widget_errors_on_screen(page), f"{name}: {widget_errors_on_screen(page)}"
        if dragged is not None:  # the kernel kept the dragged value (it would reset a bad one)
            shown = sliders.first.locator(".widget-readout").text_content()
            assert shown == dragged, (
                f"{name}: the dragged slider went back from {dragged} to {shown}"
            )
        screenshot_panel(page, cell, SCREENSHOTS / f"{path.stem}-panel.png")

        state = wait_for_kernel(lab, name, timeout=60)
        assert state == "idle", f"{name}: the kernel is {state!r} after the panel ran"
    except BaseException:
        with contextlib.suppress(Exception):  # a picture of the failure, if the page allows
            screenshot_whole_notebook(page, failed_screenshot)
        raise
    finally:
        page.close()
        shut_down_kernels(lab)
