"""A read-only copy of the collection: every notebook run, as HTML pages in html/.

    python3 tasks.py html                      # the pages that are out of date
    python3 tasks.py html --force              # every page
    python3 tasks.py html 03_der 04_memo       # only these notebooks

Each notebook runs top to bottom in a fresh kernel, in a temporary copy (the stored
notebooks stay without outputs), and the widgets' state is stored with it (nbclient's
``store_widget_state``). nbconvert's HTML exporter then writes html/<notebook>.html with
every figure inline as a data: URI (``embed_images``), so a page needs no other file.
html/index.html lists the pages, one line each, taken from README.md's notebook table.

A panel is a widget: its controls need a kernel, and drawing it from its stored state
needs the ipywidgets script from a CDN. So after each panel the page also shows its
settings and how to use it (or, if it ran, a picture of its last figure); a style rule
hides that note wherever the widget itself does render (online).

A page is out of date when its notebook, a file of cl_teach/ or this script is newer.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "html"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

# The static picture of a panel hides once the ipywidgets HTML manager has drawn the live
# widget (it adds a .widget-subarea) in the output just before it.
STATIC_STYLE = (
    "<style>.jp-OutputArea-child:has(.widget-subarea) + .jp-OutputArea-child "
    ".cl-teach-static { display: none; }</style>"
)


def is_stale(notebook: Path, page: Path) -> bool:
    if not page.exists():
        return True
    sources = [notebook, Path(__file__), *(ROOT / "cl_teach").rglob("*.py")]
    return max(p.stat().st_mtime for p in sources) > page.stat().st_mtime


def reachable_models(state: dict, model_id: str) -> list[dict]:
    """The widget models under ``model_id`` (itself included), depth first, in the
    order their parent lists them: a panel's controls come in the order shown."""
    found, todo, seen = [], [model_id], set()
    while todo:
        current = todo.pop()
        if current in seen or current not in state:
            continue
        seen.add(current)
        model = state[current]
        found.append(model)
        refs = []
        for value in model["state"].values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item.startswith("IPY_MODEL_"):
                    refs.append(item.removeprefix("IPY_MODEL_"))
        todo.extend(reversed(refs))
    return found


def settings_of(models: list[dict]) -> list[str]:
    """``description = value`` for each control that has both (sliders, dropdowns,
    checkboxes), as the control shows it."""
    shown = []
    for model in models:
        state = model["state"]
        if not state.get("description"):
            continue
        if state.get("_options_labels") and state.get("index") is not None:
            value = state["_options_labels"][state["index"]]
        elif "value" in state:
            value = state["value"]
        else:
            continue  # a button
        shown.append(f"{state['description']} = {value}")
    return shown


def static_panel(state: dict, model_id: str) -> dict:
    """A display_data output: the last figure of the widget's Output areas, the settings
    that made it, and a note that the controls need JupyterLab; or, for a panel that has
    not run, its settings and how to use it."""
    models = reachable_models(state, model_id)
    figures = [
        output["data"]["image/png"]
        for model in models
        if model["model_name"] == "OutputModel"
        for output in model["state"].get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    settings = html.escape(", ".join(settings_of(models)))
    if not figures:  # the panel waits for Run: say what it offers
        note = (
            f'{STATIC_STYLE}<p class="cl-teach-static"><em>A live panel ({settings}): open '
            "the notebook in JupyterLab, change a control and press Run.</em></p>"
        )
        return {"output_type": "display_data", "metadata": {}, "data": {"text/html": note}}
    png = "".join(figures[-1].split())
    picture = (
        f'{STATIC_STYLE}<figure class="cl-teach-static">'
        f'<img src="data:image/png;base64,{png}" alt="the panel\'s last figure">'
        f"<figcaption>The panel's last figure ({settings}). A picture: to change the "
        "settings and run again, open the notebook in JupyterLab.</figcaption></figure>"
    )
    return {"output_type": "display_data", "metadata": {}, "data": {"text/html": picture}}


def add_static_panels(nb) -> int:
    """After each widget output, the picture of its last figure; returns how many."""
    import nbformat

    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    added = 0
    for cell in nb.cells:
        outputs = []
        for output in cell.get("outputs", []):
            outputs.append(output)
            view = output.get("data", {}).get(WIDGET_VIEW)
            picture = static_panel(state, view["model_id"]) if view else None
            if picture:
                outputs.append(nbformat.from_dict(picture))
                added += 1
        if cell.cell_type == "code":
            cell.outputs = outputs
    return added


def executed(notebook: Path):
    """The notebook run top to bottom in a fresh kernel, in a temporary copy, with its
    widgets' state stored; kept in html/.executed/ and reused while it is up to date (the
    slides are made from the same runs)."""
    import nbformat
    from nbclient import NotebookClient
    from traitlets.config import Config

    kept = OUT / ".executed" / notebook.name
    if not is_stale(notebook, kept):
        return nbformat.read(kept, as_version=4)
    os.environ.pop("MPLBACKEND", None)  # the kernel draws with the inline backend
    with tempfile.TemporaryDirectory(prefix="cl_teach-html-") as work:
        copy = Path(shutil.copy(notebook, work))
        nb = nbformat.read(copy, as_version=4)
        resources = {"metadata": {"path": work, "name": notebook.stem}}
        # The kernel talks over unix sockets in this notebook's own folder, so no TCP
        # port can clash with a kernel that another program starts at the same moment.
        sockets = Config(KernelManager={"transport": "ipc", "ip": f"{work}/kernel"})
        NotebookClient(
            nb,
            timeout=900,
            kernel_name="python3",
            resources=resources,
            store_widget_state=True,
            config=sockets,
        ).execute()
    kept.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, kept)
    return nb


def export(notebook: Path) -> str:
    """Run one notebook (or reuse its run) and write its page; returns a summary."""
    from nbconvert import HTMLExporter

    nb = executed(notebook)
    panels = add_static_panels(nb)
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": notebook.stem}})
    page = OUT / f"{notebook.stem}.html"
    page.write_text(body, encoding="utf-8")
    figures = body.count('src="data:image/')
    return f"{page.relative_to(ROOT)}: {figures} inline figures, {panels} panel notes"


def readme_lines() -> dict[str, str]:
    """``{notebook file name: its line}`` from the README's table of notebooks."""
    lines = {}
    for row in (ROOT / "README.md").read_text().splitlines():
        match = re.match(r"\| \[`([^`]+\.ipynb)`\]\([^)]*\) \| (.*) \|\s*$", row)
        if match:
            lines[match[1]] = match[2].replace("\\|", "|")
    return lines


def inline_markdown(text: str) -> str:
    """The little markdown the README's lines use: `code`."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))


def write_index(notebooks: list[Path]) -> None:
    lines = readme_lines()
    items = "\n".join(
        f'<li><a href="{nb.stem}.html">{nb.stem}</a>: {inline_markdown(lines.get(nb.name, ""))}'
        "</li>"
        for nb in notebooks
    )
    (OUT / "index.html").write_text(
        f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>cl_teach: continual learning, a read-only copy</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; }}
li {{ margin-bottom: 0.6rem; }}
</style>
</head>
<body>
<h1>cl_teach: continual learning, taught with experiments that run</h1>
<p>The notebooks as they come out of a run, figures included. This copy needs no
kernel and changes nothing: to move a slider and run again, open the notebooks in
JupyterLab (<code>python3 tasks.py lab</code>). Start with 00 and go in order.</p>
<ul>
{items}
</ul>
</body>
</html>
""",
        encoding="utf-8",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="notebooks to export (default: all)")
    parser.add_argument("--force", action="store_true", help="export even up-to-date pages")
    args = parser.parse_args()

    notebooks = sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))
    unknown = set(args.names) - {nb.stem for nb in notebooks}
    if unknown:
        sys.exit(f"no such notebook: {', '.join(sorted(unknown))} (see notebooks/)")
    chosen = [nb for nb in notebooks if not args.names or nb.stem in args.names]
    todo = [nb for nb in chosen if args.force or is_stale(nb, OUT / f"{nb.stem}.html")]
    for nb in sorted(set(chosen) - set(todo)):
        print(f"html/{nb.stem}.html: up to date")

    OUT.mkdir(exist_ok=True)
    failed = []
    # One notebook at a time: with two at once in a process pool, an export now and then
    # waited forever on an idle kernel (cause not found), and the gain on 2 cores is small.
    for nb in todo:
        try:
            print(export(nb), flush=True)
        except Exception as err:  # a cell raised: report it, export the others
            failed.append(nb.name)
            print(f"{nb.name} failed: {type(err).__name__}: {err}", flush=True)
    write_index(notebooks)
    print(f"{(OUT / 'index.html').relative_to(ROOT)}: {len(notebooks)} notebooks")
    if failed:
        sys.exit(f"not exported: {', '.join(failed)}")


if __name__ == "__main__":
    main()
