"""The course: three lectures through the notebooks, timed from their main paths, with the
live panel clicks each uses, and whether those are warm in the result cache.

The one source of the routes: notebook 00 prints them, ``LECTURING.md``'s tables are
written from them (``python3 tasks.py lecturing``; a test keeps the file in step),
``python3 tasks.py warm`` runs their clicks, and ``python3 tasks.py lab`` says how much of
them would still train.
"""

from __future__ import annotations

import importlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
#: words a minute of a notebook's prose (technical text with formulas)
WORDS_PER_MINUTE = 150


@dataclass(frozen=True)
class Click:
    """A live change on a notebook's panel: the panel ``factory`` (``module:function`` in
    ``cl_teach.widgets``) built on the lesson's offline ``setting`` (``module:NAME`` in
    ``cl_teach.lessons``), its controls set to ``values``, then Run."""

    notebook: str
    what: str
    factory: str
    setting: str
    values: dict = field(default_factory=dict)

    def panel(self, seeds: int = 5):
        module, name = self.factory.split(":")
        factory = getattr(importlib.import_module(f"cl_teach.widgets.{module}"), name)
        module, name = self.setting.split(":")
        setting = getattr(importlib.import_module(f"cl_teach.lessons.{module}"), name)
        return factory(setting, seeds)

    def run(self, seeds: int = 5, progress=None):
        """What the click computes (training what is not cached)."""
        panel = self.panel(seeds)
        values = {**panel.values(), **self.values}
        unknown = set(self.values) - set(panel.controls)
        if unknown:
            raise ValueError(f"{self.notebook}: the panel has no control {sorted(unknown)}")
        return panel.compute(**values, progress=progress)


#: each notebook's experiments on Run All, in the order its ``claims`` takes their results:
#: ``function`` of its lessons module, on the module's offline ``SETTING`` (when the
#: function takes a ``base``) and 5 seeds
EXPERIMENTS = {
    "00": (),
    "01": ("forgetting:runs",),
    "02a": ("regularization:runs",),
    "02b": ("rehearsal:runs", "rehearsal:one_pass"),
    "03": ("der:runs",),
    "04": ("memo:runs",),
    "05": ("plasticity:runs", "plasticity:small_step", "plasticity:growing"),
    "06": ("remedies:runs", "remedies:ablations", "remedies:free_lunch", "remedies:regression"),
    "07": ("summary:runs",),
}


def run_experiment(name: str, seeds: int = 5, progress=None):
    """One of :data:`EXPERIMENTS` (training what is not cached)."""
    import inspect

    module, function = name.split(":")
    lesson = importlib.import_module(f"cl_teach.lessons.{module}")
    fn = getattr(lesson, function)
    params = inspect.signature(fn).parameters
    args = (lesson.SETTING,) if next(iter(params)) == "base" else ()
    return fn(*args, seeds=seeds, **({"progress": progress} if "progress" in params else {}))


@dataclass(frozen=True)
class Stop:
    """One notebook in a lecture: what to show (its sections), what to ask, and the clicks."""

    notebook: str
    minutes: int
    show: str
    ask: str
    clicks: tuple[Click, ...] = ()

    def experiments(self) -> tuple[str, ...]:
        return EXPERIMENTS[self.notebook]


@dataclass(frozen=True)
class Lecture:
    title: str
    minutes: int
    stops: tuple[Stop, ...]

    def clicks(self) -> list[Click]:
        return [c for stop in self.stops for c in stop.clicks]


LECTURES = (
    Lecture(
        "Forgetting and rehearsal",
        90,
        (
            Stop(
                "00",
                10,
                "section 2, the stream picture; section 3, why seeds",
                "A network learned 0 and 1, then sees only 2 and 3: what does it still know?",
            ),
            Stop(
                "01",
                15,
                "the heatmaps and curves; the claims box",
                "Predict fine-tuning's final accuracy before running the experiment cell.",
                (
                    Click(
                        "01",
                        "classes per task 5 (two tasks)",
                        "forgetting:forgetting_panel",
                        "forgetting:SETTING",
                        {"classes_per_task": 5},
                    ),
                ),
            ),
            Stop(
                "02a",
                20,
                "the bias figure; class- vs task-incremental against chance",
                "Why does EWC help only when the task is given? (exercise 2 first)",
                (
                    Click(
                        "02a",
                        "task-incremental, EWC lambda 100",
                        "regularization:regularization_panel",
                        "regularization:SETTING",
                        {"evaluation": "task", "ewc_lambda": 100.0},
                    ),
                ),
            ),
            Stop(
                "02b",
                30,
                "accuracy against the budget; equal samples and equal bytes",
                "Which selection wins at a tenth of the budget? (exercise 2, before the figure)",
                (
                    Click(
                        "02b",
                        "budget 50",
                        "rehearsal:rehearsal_panel",
                        "rehearsal:SETTING",
                        {"budget": 50},
                    ),
                ),
            ),
            Stop(
                "07",
                10,
                "the table and the memory figure",
                "Which method would you deploy with 40 KiB? With 200 KiB?",
            ),
        ),
    ),
    Lecture(
        "Expandable networks under a memory budget",
        90,
        (
            Stop(
                "03",
                40,
                "the diagram; one switch at a time; aligning on the same network",
                "Predict the accuracy without exemplars (exercise 1) before the experiment.",
                (
                    Click(
                        "03",
                        "old backbones trained",
                        "der:der_panel",
                        "der:SETTING",
                        {"freeze_old": False},
                    ),
                    Click("03", "budget 200", "der:der_panel", "der:SETTING", {"budget": 200}),
                ),
            ),
            Stop(
                "04",
                45,
                "CKA per block; the memory curve; when to freeze",
                "A model or how many exemplars? (section 1's arithmetic)",
            ),
        ),
    ),
    Lecture(
        "Loss of plasticity",
        90,
        (
            Stop(
                "05",
                40,
                "backprop against a fresh network; dormant units; the head reset",
                "Predict which learns better at a smaller step (exercise 1).",
            ),
            Stop(
                "06",
                45,
                "the remedies beside their controls; the utility; no free lunch",
                "Predict how many units continual backprop replaces per task.",
            ),
        ),
    ),
)


def notebook_path(number: str) -> Path:
    (path,) = NOTEBOOKS.glob(f"{number}_*.ipynb")
    return path


_DETAILS = re.compile(r"<details>.*?</details>", re.S)


def reading_minutes(path: Path) -> tuple[int, int]:
    """Minutes to read a notebook's prose (markdown cells, at ``WORDS_PER_MINUTE``): its main
    path (collapsed ``<details>`` sections left out) and all of it."""
    cells = json.loads(Path(path).read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    words = len(re.findall(r"\w+", text))
    main = len(re.findall(r"\w+", _DETAILS.sub("", text)))
    return math.ceil(main / WORDS_PER_MINUTE), math.ceil(words / WORDS_PER_MINUTE)


def stated_minutes(path: Path) -> tuple[int, int]:
    """The main-path and full reading minutes a notebook's first line states."""
    first = "".join(json.loads(Path(path).read_text())["cells"][0]["source"])
    found = re.search(r"Main path: about (\d+) minutes[^;]*; [^.]*?about (\d+)", first)
    if not found:
        raise ValueError(f"{Path(path).name}: the first cell states no main-path reading time")
    return int(found[1]), int(found[2])


def steps(lectures=LECTURES) -> list[tuple[str, object]]:
    """Everything the lectures compute: each stop's experiments (Run All of its notebook),
    then its clicks, as (what, a function that computes it)."""
    found = []
    for stop in (s for lecture in lectures for s in lecture.stops):
        for name in stop.experiments():
            found.append((f"{stop.notebook} Run All ({name})", lambda n=name: run_experiment(n)))
        for click in stop.clicks:
            found.append((f"{click.notebook} click: {click.what}", click.run))
    return found


def warm_status(lectures=LECTURES) -> list[tuple[str, bool]]:
    """Each step of :func:`steps`, and whether all its runs are already in the cache."""
    from .cache import WouldTrain, cached_only

    status = []
    for what, compute in steps(lectures):
        try:
            with cached_only():
                compute()
            status.append((what, True))
        except WouldTrain:
            status.append((what, False))
    return status


def warm_summary(lectures=LECTURES) -> str:
    """One line: how many of the lectures' steps (Run All and live clicks) would train."""
    status = warm_status(lectures)
    cold = [what for what, warm in status if not warm]
    if not cold:
        return f"all {len(status)} steps of the lectures are warm: each answers at once"
    return (
        f"{len(cold)} of {len(status)} steps of the lectures would train ("
        + "; ".join(cold)
        + "): run `python3 tasks.py warm` before class"
    )


def lecturing_tables(lectures=LECTURES) -> str:
    """The lectures as Markdown tables, for LECTURING.md (``python3 tasks.py lecturing``)."""
    out = []
    for k, lecture in enumerate(lectures, 1):
        out += [f"### Lecture {k}: {lecture.title} ({lecture.minutes} minutes)", ""]
        out += ["| minutes | notebook | main path | show | ask | live clicks (Run) |",
                "|---|---|---|---|---|---|"]  # fmt: skip
        start = 0
        for stop in lecture.stops:
            path = notebook_path(stop.notebook)
            main, _ = reading_minutes(path)
            clicks = "; ".join(c.what for c in stop.clicks) or "-"
            out.append(
                f"| {start}-{start + stop.minutes} | [{path.stem}](notebooks/{path.name}) | "
                f"{main} min | {stop.show} | {stop.ask} | {clicks} |"
            )
            start += stop.minutes
        out.append("")
    return "\n".join(out).strip()


def routes_table(lectures=LECTURES) -> str:
    """The three lectures, one line each: notebooks, minutes of main path, live clicks."""
    out = ["| lecture | notebooks | main path | live clicks |", "|---|---|---|---|"]
    for k, lecture in enumerate(lectures, 1):
        minutes = sum(reading_minutes(notebook_path(stop.notebook))[0] for stop in lecture.stops)
        names = ", ".join(stop.notebook for stop in lecture.stops)
        out.append(
            f"| {k}. {lecture.title} ({lecture.minutes} min) | {names} | {minutes} min of "
            f"reading | {len(lecture.clicks())} |"
        )
    return "\n".join(out)
