"""``python -m cl_teach sweep run|plasticity``: a grid of settings, each over seeds.

Comma-separated values of an option make a grid: ``--budget 20,50 --lr 0.1,0.01`` is four
points. Each point is the run that ``python -m cl_teach run`` (or ``plasticity``) makes of
the same options, with the same cache key, so a sweep fills the cache that notebook panels
and single runs read. The points go to any executor (:mod:`cl_teach.executors`); the
table gives each point's headline numbers as the mean +- 95% interval over its seeds.
"""

from __future__ import annotations

import itertools


def points(given: dict) -> list[dict]:
    """Every combination of the options given: a list value is one axis of the grid."""
    axes = {k: v if isinstance(v, list) else [v] for k, v in given.items()}
    return [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())]


def varied(given: dict) -> list[str]:
    """The options that take more than one value."""
    return [k for k, v in given.items() if isinstance(v, list) and len(v) > 1]


def label(point: dict, names: list[str]) -> str:
    """A point named by the options that vary, e.g. ``budget=20 lr=0.1``."""
    return " ".join(f"{k}={point[k]}" for k in names) or "the setting given"


def table(rows: list[dict], names: list[str], headline) -> str:
    """A Markdown table: one row per point (its varied options, its seeds, each headline
    number as mean +- 95% interval); ``rows`` as the sweep's JSON ``points``."""
    head = [*names, "seeds", *(n.replace("_", " ") for n in headline)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [str(row["settings"][k]) for k in names] + [str(len(row["seeds"]))]
        cells += [f"{row['mean'][n]:.3f} +- {row['ci95'][n]:.3f}" for n in headline]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
