"""Every notebook as a student meets it: opened in JupyterLab, run, and its panel used.

For each notebook in notebooks/: open it, Run All Cells from the menu, wait until every
cell has run, and check that no cell shows an error and every widget rendered; save a
screenshot to screenshots/. Then, in the notebook's main panel (the cell that starts with
``# NBVAL_IGNORE_OUTPUT`` and calls ``panel.run()``), change the first control, click
Run, and check that the status reads "done" again, the plot changed, and the kernel
is alive and idle.

Run with:  python3 tasks.py browser   (or: .venv/bin/python -m pytest -m browser tests)
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
SCREENSHOTS = ROOT / "screenshots"

RUN_ALL_TIMEOUT_S = 900  # a first run trains from scratch; later runs hit data/cache
PANEL_RUN_TIMEOUT_S = 600  # a changed control trains afresh
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_ERRORS = ("Error displaying widget", "model not found")

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
PANEL_ANSWERED = """([cell, before]) => {
  const status = cell.querySelector('.widget-button + .widget-html .widget-html-content');
  const img = cell.querySelector('.widget-output img');
  return status?.textContent.trim() === 'done' && img !== null && img.src !== before;
}"""


def code_cells(notebook: dict) -> list[dict]:
    return [c for c in notebook["cells"] if c["cell_type"] == "code"]


def main_panel_index(path: Path) -> int:
    """Index (among all cells) of the first cell that builds, runs and shows a panel."""
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith("# NBVAL_IGNORE_OUTPUT"):
            if "panel.run()" in source:
                return i
    pytest.fail(
        f"{path.name} has no main panel cell (a code cell starting with "
        "'# NBVAL_IGNORE_OUTPUT' that calls panel.run() and ends with 'panel')",
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


def change_control(control) -> str:
    """Change a slider, dropdown, toggle button or checkbox the way a student would."""
    kind = control.get_attribute("class")
    label = " ".join(control.locator("label").all_text_contents()).strip("\u200b ")
    if "widget-slider" in kind:
        readout = control.locator(".widget-readout")
        before = readout.text_content()
        handle = control.locator(".noUi-handle").first
        handle.focus()
        handle.press("ArrowRight")
        if readout.text_content() == before:  # already at its maximum
            handle.press("ArrowLeft")
        after = readout.text_content()
    elif "widget-dropdown" in kind:
        select = control.locator("select")
        options = select.locator("option").all_text_contents()
        before = select.evaluate("s => s.options[s.selectedIndex].text")
        after = options[(options.index(before) + 1) % len(options)]
        select.select_option(label=after)
    elif "widget-toggle-button" in kind or "widget-checkbox" in kind:
        box = control.locator("input, button").first
        before = str(box.evaluate("b => b.checked ?? b.classList.contains('mod-active')"))
        box.click()
        after = str(box.evaluate("b => b.checked ?? b.classList.contains('mod-active')"))
    else:
        pytest.fail(f"the panel's first control is of a kind this test cannot change: {kind}")
    assert after != before, f"control {label!r} did not change (still {before!r})"
    return f"{label}: {before} -> {after}"


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

        # 2. The main panel: change its first control, click Run, see a new plot.
        cell = page.locator(".jp-Notebook .jp-Cell").nth(panel_index)
        cell.scroll_into_view_if_needed()
        run_button = cell.locator("button.widget-button", has_text=re.compile(r"^\s*Run\s*$"))
        status = cell.locator(".widget-button + .widget-html .widget-html-content")
        plot = cell.locator(".widget-output img")
        assert run_button.count() == 1, f"{name}: the panel cell has no Run button"
        assert status.text_content().strip() == "done", (
            f"{name}: the panel's status reads {status.text_content()!r} after Run All"
        )
        assert plot.count() == 1, f"{name}: the panel shows {plot.count()} plots, not 1"
        before = plot.get_attribute("src")
        controls = cell.locator(".widget-hbox").first.locator(
            ".widget-slider, .widget-dropdown, .widget-toggle-button, .widget-checkbox"
        )
        assert controls.count(), f"{name}: the panel has no slider, dropdown or toggle"
        change = change_control(controls.first)

        started = time.monotonic()
        run_button.click()
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

        state = wait_for_kernel(lab, name, timeout=60)
        assert state == "idle", f"{name}: the kernel is {state!r} after the panel ran"
    except BaseException:
        with contextlib.suppress(Exception):  # a picture of the failure, if the page allows
            screenshot_whole_notebook(page, failed_screenshot)
        raise
    finally:
        page.close()
        shut_down_kernels(lab)
