"""The read-only copy (``python3 tasks.py html``) as a reader opens it: from files, offline.

Makes the pages that are out of date (scripts/export_html.py; fresh pages are reused) and
checks that every page has inline figures, a picture of its panel and the widget state.
Then opens html/index.html from a file:// URL in Chromium with every web request blocked
(no CDN: what a reader without internet sees), checks that it lists every notebook with
its line from README.md, clicks through to one notebook and checks that its figures are
inline images and that its panel shows its last figure: the same picture that the
stored widget state holds.

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
MIN_FIGURES = 5  # its inline figures (6 today: five plots and the panel's picture)
EXPORT_TIMEOUT_S = 1800  # every notebook from a cold cache, one after another

# Every inline figure of the page, as the browser decoded it.
FIGURES = """() => [...document.querySelectorAll('img[src^="data:image/"]')]
  .map(img => ({width: img.naturalWidth, shown: img.getBoundingClientRect().width}))"""

# The images of the Output widgets in the page's stored widget state.
STORED_FIGURES = """() => {
  const tag = document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
  if (!tag) return null;
  return Object.values(JSON.parse(tag.textContent).state)
    .filter(model => model.model_name === 'OutputModel')
    .flatMap(model => model.state.outputs)
    .map(output => output.data?.['image/png']?.replace(/\\s/g, ''))
    .filter(Boolean);
}"""


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
def test_every_page_has_inline_figures_and_its_panel_picture(exported):
    for notebook in NOTEBOOKS:
        page = (exported / f"{notebook.stem}.html").read_text(encoding="utf-8")
        figures = page.count('src="data:image/')
        assert figures >= 2, f"{notebook.stem}.html has {figures} inline figures, not even 2"
        assert 'class="cl-teach-static"' in page, f"{notebook.stem}.html: no panel picture"
        assert "application/vnd.jupyter.widget-state+json" in page, (
            f"{notebook.stem}.html holds no widget state"
        )


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

        # The panel: its widget cannot draw offline, the picture of its last figure can.
        panel = page.locator(".jp-CodeCell", has_text="panel.run()").first
        picture = panel.locator(".cl-teach-static img")
        assert picture.count() == 1, f"{OPENED}.html: the panel has no picture of its figure"
        assert picture.is_visible(), f"{OPENED}.html: the panel's picture is hidden"
        assert picture.bounding_box()["width"] >= 300, f"{OPENED}.html: the picture is tiny"
        stored = page.evaluate(STORED_FIGURES)
        assert stored, f"{OPENED}.html holds no widget state with a figure"
        shown = picture.get_attribute("src").removeprefix("data:image/png;base64,")
        assert shown in stored, (
            f"{OPENED}.html: the panel's picture is none of the figures in its widget state"
        )
        caption = panel.locator(".cl-teach-static figcaption").text_content()
        assert re.search(r"\w+ = \w+", caption), f"the caption names no setting: {caption!r}"
        panel.screenshot(path=SCREENSHOTS / f"html-{OPENED}-panel.png")

        # Online the ipywidgets script draws the widget (adding a .widget-subarea), and the
        # picture must step aside so the figure is not shown twice.
        panel.locator(".jupyter-widgets.jp-OutputArea-output").first.evaluate(
            "el => el.appendChild(Object.assign(document.createElement('div'),"
            " {className: 'widget-subarea'}))"
        )
        assert picture.is_hidden(), "the picture stays visible beside a drawn widget"
    finally:
        page.close()
