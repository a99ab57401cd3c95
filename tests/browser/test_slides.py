"""The lecture decks (``python3 tasks.py slides``) as a lecturer opens them: from files,
offline. Makes every deck (from the same runs as the HTML copy), opens each from a
file:// URL in Chromium with every web request blocked, waits for reveal.js, steps through
the slides with the arrow keys and checks that the slide changes and shows a figure where
one is due; a picture of the first slides lands in screenshots/.

Run with:  python3 tasks.py browser   (or: .venv/bin/python -m pytest -m browser tests)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cl_teach.course import LECTURES

ROOT = Path(__file__).resolve().parents[2]
SLIDES = ROOT / "slides"
SCREENSHOTS = ROOT / "screenshots"
STEPS = 6  # slides stepped through in each deck


@pytest.fixture(scope="module")
def decks():
    subprocess.run(["bash", str(ROOT / "scripts" / "install_reveal.sh")], check=True)
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "export_slides.py")],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, f"tasks.py slides failed:\n{result.stdout}\n{result.stderr}"
    return [SLIDES / f"lecture-{k}.html" for k in range(1, len(LECTURES) + 1)]


@pytest.mark.browser
@pytest.mark.parametrize("number", range(1, len(LECTURES) + 1))
def test_a_deck_opens_offline_and_steps_through(decks, browser_context, number):
    page = browser_context.new_page()
    page.route(re.compile(r"^https?://"), lambda route: route.abort())  # offline
    try:
        page.goto(decks[number - 1].as_uri())
        page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
        total = page.evaluate("() => Reveal.getTotalSlides()")
        assert total >= 10, f"lecture {number}: only {total} slides"
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"slides-{number}-title.png")
        seen, figures = [], 0
        for step in range(STEPS):
            page.keyboard.press("ArrowRight")
            page.wait_for_timeout(900)
            seen.append(page.evaluate("() => Reveal.getIndices().h"))
            while page.evaluate("() => Reveal.availableRoutes().down"):
                page.keyboard.press("ArrowDown")
                page.wait_for_timeout(900)
                figures += page.locator("section.present img[src^='data:image/']").count()
            if step == 1:
                page.screenshot(path=SCREENSHOTS / f"slides-{number}-step.png")
        assert seen == list(range(1, STEPS + 1)), f"lecture {number}: slides visited {seen}"
        assert figures >= 1, f"lecture {number}: no figure in its first {STEPS} slides"
    finally:
        page.close()
