"""One reveal.js deck per lecture, from the notebooks (python3 tasks.py slides [1 2 3]).

A deck is nbconvert's slides exporter over the lecture's notebooks (cl_teach/course.py),
each run top to bottom (the runs of ``tasks.py html``, reused while up to date), one after
another, with the figures the runs drew. The cells are tagged for slides here, from the
notebooks' structure: a notebook's title and each ``##`` section start a slide, a ``###``
heading, a figure or the claims box a sub-slide (down arrow), and code is hidden. Left
out: the parameters cell and other code without a figure, the collapsed sections, the
exercises' solutions, "Going further", the references, and the live panel, which becomes
a slide that names the lecture's clicks: teach from the deck, switch to the notebook tab
for a click.

The decks open offline from file:// (``scripts/install_reveal.sh`` keeps reveal.js,
require.js and jQuery in slides/vendor); formulas need MathJax from its CDN (offline they
stay TeX). slides/index.html lists the decks.
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

from export_html import ROOT, executed  # the same runs as the HTML copy

from cl_teach.course import LECTURES, notebook_path

OUT = ROOT / "slides"
SKIPPED = ("Exercises", "Going further", "References", "Stored paper-scale")
DETAILS = re.compile(r"<details>.*?</details>\n?", re.S)
PATCHES = {  # nbconvert's template, made to work offline
    # its CDN scripts -> the copies in slides/vendor
    r"https://cdnjs\.cloudflare\.com/ajax/libs/require\.js/[^\"']+": "vendor/require.js",
    r"https://cdnjs\.cloudflare\.com/ajax/libs/jquery/[^\"']+": "vendor/jquery.min.js",
    # MathJax may be missing offline: re-render formulas only where it loaded
    r"if\(MathJax\.Hub": "if(window.MathJax && MathJax.Hub",
    # the deck's Reveal object, for the console (and the browser test)
    r"function\(Reveal, RevealNotes\)\{": "function(Reveal, RevealNotes){ window.Reveal = Reveal;",
}


def shows_something(cell) -> bool:
    """A code cell whose output belongs on a slide: a figure, a table or the claims box (not
    a collapsed section, not a widget)."""
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "image/png" in data:
            return True
        html = "".join(data.get("text/html", ""))
        if html and not html.lstrip().startswith(("<details", "<style")):
            return True
        if "text/markdown" in data:
            return True
    return False


def slide_cells(nb, clicks) -> list:
    """The notebook's cells for a deck, each with its slide type (see the module docstring)."""
    cells, section = [], ""
    for k, cell in enumerate(nb.cells):
        cell = copy.deepcopy(cell)
        text = "".join(cell.source)
        if cell.cell_type == "markdown":
            heading = re.match(r"## (.*)", text)
            section = heading[1] if heading else section
            if section.startswith(SKIPPED):
                continue
            if "Try it live" in section:
                if heading:
                    live = "\n".join(f"- {c.what}: set it, press **Run**" for c in clicks)
                    cell.source = f"## {heading[1]}\n\nSwitch to the notebook's panel.\n\n{live}"
                    cell.metadata["slideshow"] = {"slide_type": "slide"}
                    cells.append(cell)
                continue
            cell.source = DETAILS.sub("", text).strip()
            if not cell.source:
                continue
            kind = "slide" if k == 0 or heading else "subslide" if text.startswith("###") else "-"
        elif section.startswith(SKIPPED) or "Try it live" in section:
            continue
        elif "parameters" in cell.metadata.get("tags", []) or not shows_something(cell):
            continue
        else:
            kind = "subslide"
        cell.metadata["slideshow"] = {"slide_type": kind}
        cells.append(cell)
    return cells


def deck(number: int) -> Path:
    import nbformat
    from nbconvert import SlidesExporter

    lecture = LECTURES[number - 1]
    cells = []
    for stop in lecture.stops:
        nb = executed(notebook_path(stop.notebook))
        for k, cell in enumerate(slide_cells(nb, stop.clicks)):
            cell.id = f"{stop.notebook}-{k}"  # unique across the lecture's notebooks
            cells.append(cell)
    merged = nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)
    exporter = SlidesExporter(reveal_url_prefix="vendor/reveal.js", exclude_input=True,
                              embed_images=True)  # fmt: skip
    body, _ = exporter.from_notebook_node(merged, resources={"metadata": {"name": lecture.title}})
    for pattern, replacement in PATCHES.items():
        body, found = re.subn(pattern, replacement, body)
        if not found:
            raise RuntimeError(f"nbconvert's slides template changed: no {pattern!r} in it")
    path = OUT / f"lecture-{number}.html"
    path.write_text(body, encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {lecture.title}, {len(cells)} cells", flush=True)
    return path


def write_index() -> None:
    items = "\n".join(
        f'<li><a href="lecture-{k}.html">Lecture {k}: {lecture.title}</a> (notebooks '
        f"{', '.join(s.notebook for s in lecture.stops)})</li>"
        for k, lecture in enumerate(LECTURES, 1)
    )
    (OUT / "index.html").write_text(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>cl_teach: "
        "the lectures' slides</title></head><body style='font-family: system-ui, sans-serif'>"
        f"<h1>cl_teach: the lectures' slides</h1><ul>{items}</ul><p>Arrow keys move; "
        "the down arrow shows a figure of the slide. Live clicks need the notebooks in "
        "JupyterLab.</p></body></html>",
        encoding="utf-8",
    )


def main(numbers: list[int]) -> None:
    OUT.mkdir(exist_ok=True)
    for number in numbers or range(1, len(LECTURES) + 1):
        deck(number)
    write_index()


if __name__ == "__main__":
    main([int(n) for n in sys.argv[1:]])
