"""The read-only copy (``python3 tasks.py html``) as a reader opens it: from files, offline.

Makes the pages that are out of date (scripts/export_html.py; fresh pages are reused) and
checks that every page has inline figures, a note on its panel and the widget state, and
that no notebook shows the same figure twice. Then opens html/index.html from a file://
URL in Chromium with every web request blocked (no CDN: what a reader without internet
sees), checks that it lists every notebook with its line from README.md, clicks through to
one notebook and checks that its figures are inline images and that its panel, which
waits for Run in JupyterLab, shows a note with its settings.

Run with:  python3 tasks.py browser   (or: .venv/bin/python -m pytest -m browser tests)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "html"
SCREENSHOTS = ROOT / "screenshots"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
OPENED = "04_memo"  # the page opened in Chromium: the most figures, and a panel
MIN_FIGURES = 4  # its inline figures
EXPORT_TIMEOUT_S = 1800  # every notebook from a cold cache, one after another
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

# Every inline figure of the page, as the browser decoded it.
FIGURES = """() => [...document.querySelectorAll('img[src^="data:image/"]')]
  .map(img => ({width: img.naturalWidth, shown: img.getBoundingClientRect().width}))"""


def readme_line(name: str) -> str:
    """The notebook's line in README.md's table, as plain text."""
    for row in (ROOT / "README.md").read_text().splitlines():
        if row.startswith(f"| [`{name}`]"):
            return row.split(") | ", 1)[1].rstrip(" |").replace("\\|", "|").replace("`", "")
    pytest.fail(f"README.md's notebook table has no row for {name}", pytrace=False)


@pytest.fixture(scope="module")
def exported():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "export_html.py")],
        capture_output=True,
        text=True,
        timeout=EXPORT_TIMEOUT_S,
    )
    print(result.stdout)
    assert result.returncode == 0, f"tasks.py html failed:\n{result.stdout}\n{result.stderr}"
    return HTML


@pytest.mark.browser
def test_every_page_has_inline_figures_and_its_panel_note(exported):
    for notebook in NOTEBOOKS:
        page = (exported / f"{notebook.stem}.html").read_text(encoding="utf-8")
        figures = page.count('src="data:image/')
        assert figures >= 1, f"{notebook.stem}.html has no inline figure"
        assert 'class="cl-teach-static"' in page, f"{notebook.stem}.html: no note on its panel"
        assert "application/vnd.jupyter.widget-state+json" in page, (
            f"{notebook.stem}.html holds no widget state"
        )


@pytest.mark.browser
def test_no_notebook_shows_the_same_figure_twice(exported):
    """Run All draws each figure once: a panel waits for Run instead of redrawing the figure
    above it (compared byte for byte, in the runs the pages were made from: the cells'
    outputs and the panels' stored outputs)."""
    import nbformat

    for notebook in NOTEBOOKS:
        nb = nbformat.read(exported / ".executed" / notebook.name, as_version=4)
        state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
        outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
        outputs += [o for m in state.values() for o in m["state"].get("outputs", [])]
        figures = ["".join(o["data"]["image/png"].split()) for o in outputs
                   if "image/png" in o.get("data", {})]  # fmt: skip
        twice = len(figures) - len(set(figures))
        assert not twice, f"{notebook.stem} shows {twice} figure(s) twice"


@pytest.mark.browser
def test_the_read_only_copy_shows_its_figures_offline(exported, browser_context):
    page = browser_context.new_page()
    page.route(re.compile(r"^https?://"), lambda route: route.abort())  # offline
    try:
        page.goto((exported / "index.html").as_uri())
        items = page.locator("li")
        assert items.count() == len(NOTEBOOKS), (
            f"index.html lists {items.count()} notebooks, notebooks/ has {len(NOTEBOOKS)}"
        )
        for item, notebook in zip(items.all(), NOTEBOOKS, strict=True):
            text = " ".join(item.text_content().split())
            assert text.startswith(notebook.stem), f"index.html: {text!r} is not {notebook.stem}"
            assert readme_line(notebook.name) in text, (
                f"index.html: the line of {notebook.stem} is not README's: {text!r}"
            )
            href = item.locator("a").get_attribute("href")
            assert (exported / href).is_file(), f"index.html links {href}, which is missing"

        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "html-index.png")
        page.get_by_role("link", name=OPENED, exact=True).click()
        page.wait_for_url(f"**/{OPENED}.html")
        figures = page.evaluate(FIGURES)
        assert len(figures) >= MIN_FIGURES, (
            f"{OPENED}.html has {len(figures)} inline figures, fewer than {MIN_FIGURES}"
        )
        broken = [n for n, f in enumerate(figures) if not f["width"] or not f["shown"]]
        assert not broken, f"{OPENED}.html: inline figures {broken} do not show"

        # The panel: its widget cannot draw offline; a note names its settings.
        panel = page.locator(".jp-CodeCell", has_text="_panel(BASE").first
        note = panel.locator(".cl-teach-static")
        assert note.count() == 1, f"{OPENED}.html: the panel has no note"
        assert note.is_visible(), f"{OPENED}.html: the panel's note is hidden"
        assert re.search(r"\w+ = \w+", note.text_content()), (
            f"the note names no setting: {note.text_content()!r}"
        )
        panel.screenshot(path=SCREENSHOTS / f"html-{OPENED}-panel.png")

        # Online the ipywidgets script draws the widget (adding a .widget-subarea), and the
        # note must step aside.
        panel.locator(".jupyter-widgets.jp-OutputArea-output").first.evaluate(
            "el => el.appendChild(Object.assign(document.createElement('div'),"
            " {className: 'widget-subarea'}))"
        )
        assert note.is_hidden(), "the note stays visible beside a drawn widget"
    finally:
        page.close()
