"""Fill the result cache before class: execute every notebook once, in order, with a
progress bar (the stored notebooks are not touched: outputs are discarded), then every
live click of the lectures (cl_teach/course.py).

    python3 tasks.py warm                 # every notebook and every click
    python3 tasks.py warm 01 03           # only these notebooks (by number) and their clicks
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from tqdm import tqdm

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def main(prefixes: list[str]) -> None:
    paths = [p for p in sorted(NOTEBOOKS.glob("*.ipynb"))
             if not prefixes or p.name.startswith(tuple(prefixes))]  # fmt: skip
    total = time.perf_counter()
    for path in (bar := tqdm(paths, unit="notebook")):
        bar.set_description(path.stem)
        start = time.perf_counter()
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(notebook, timeout=1800, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()  # fmt: skip
        tqdm.write(f"{path.stem:40} {time.perf_counter() - start:6.1f} s")
    from cl_teach.course import LECTURES

    clicks = [c for lecture in LECTURES for c in lecture.clicks()
              if not prefixes or c.notebook.startswith(tuple(prefixes))]  # fmt: skip
    for click in (bar := tqdm(clicks, unit="click")):
        bar.set_description(f"{click.notebook}: {click.what}")
        click.run()
    print(f"cache warm in {time.perf_counter() - total:.0f} s: every notebook and every lecture "
          "click answers at once")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
