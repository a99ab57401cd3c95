"""``python -m cl_teach reproduce GROUP``: the papers' settings, run and set beside the
papers' numbers.

A group is every preset whose file lists it under ``groups`` (for example
``pycil-b0inc10``: fine-tuning, replay, EWC, DER and MEMO on PyCIL's CIFAR-100 B0Inc10).
Each preset runs over the seeds asked for (overrides such as ``epochs`` apply to all, for
a short trial), in this process or as jobs of an executor (:func:`runs`, ``--executor``),
and is stored as ``results/GROUP/PRESET.json`` with the machine and the
date; ``results/GROUP/table.md`` sets the runs beside the numbers the preset's
``[paper]`` table quotes, with their sources. Notebooks show stored results beside their
offline runs (:func:`stored`), labelled as paper-scale results.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path

from .metrics import seed_summary
from .presets import load, names

#: the headline numbers of each kind of run, as the papers report them
HEADLINE = {
    "run": ("final_accuracy", "average_incremental_accuracy"),
    "plasticity": ("last_fifth_accuracy", "final_dormant_fraction"),
}


def results_root() -> Path:
    """``$CL_TEACH_RESULTS`` if set, else the repository's ``results/`` folder."""
    env = os.environ.get("CL_TEACH_RESULTS")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "results"


def group(name: str) -> list[str]:
    """The presets of group ``name``."""
    members = [p for p in names() if name in load(p).get("groups", [])]
    if not members:
        every = sorted({g for p in names() for g in load(p).get("groups", [])})
        raise ValueError(f"unknown group {name!r}; choose one of {', '.join(every)}")
    return members


def machine() -> dict:
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"platform": platform.platform(), "python": platform.python_version(),
            "torch": torch.__version__, "gpu": gpu}  # fmt: skip


def runs(group_name: str, seeds: list[int], overrides: dict):
    """The runs of a group, one per preset and seed, for an executor
    (:mod:`cl_teach.executors`)."""
    from .executors import Run
    from .presets import config

    out = []
    for name in group(group_name):
        kind = load(name)["kind"]
        cfg = config(name, kind, **overrides)
        out += [Run(kind, cfg.replace(seed=s), name) for s in seeds]
    return out


def run_preset(name: str, seeds: list[int], overrides: dict, progress=True) -> dict:
    """One preset over ``seeds``: its config, each seed's result, the headline numbers'
    mean and 95% interval, the machine and the date."""
    from .presets import config

    preset = load(name)
    kind = preset["kind"]
    cfg = config(name, kind, **overrides)
    if kind == "run":
        from .experiment import run_seeds

        per_seed = [r.to_json() for r in run_seeds(cfg, seeds, progress=progress)]
    else:
        from .plasticity import run_plasticity_seeds

        per_seed = run_plasticity_seeds(cfg, seeds)
    summary = {n: seed_summary([r[n] for r in per_seed]) for n in HEADLINE[kind]}
    return {
        "preset": name,
        "version": preset["version"],
        "kind": kind,
        "config": cfg.to_dict(),
        "overrides": overrides,
        "summary": summary,
        "per_seed": per_seed,
        "machine": machine(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def reproduce(group_name: str, seeds: list[int], overrides: dict, root: Path | None = None):
    """Run every preset of a group, store each result and the table; returns the table."""
    folder = (root or results_root()) / group_name
    folder.mkdir(parents=True, exist_ok=True)
    stored_runs = []
    for name in group(group_name):
        result = run_preset(name, seeds, overrides)
        (folder / f"{name}.json").write_text(json.dumps(result, indent=1, allow_nan=False))
        stored_runs.append(result)
    text = table(stored_runs)
    (folder / "table.md").write_text(text)
    return text


def stored(preset_names, root: Path | None = None) -> list[dict]:
    """The stored paper-scale results of these presets (any group), newest first."""
    root = root or results_root()
    found = [
        json.loads(p.read_text()) for name in preset_names for p in root.glob(f"*/{name}.json")
    ]
    return sorted(found, key=lambda r: r["date"], reverse=True)


def table(results: list[dict]) -> str:
    """A Markdown table: each preset's headline numbers (mean +- 95% interval over its
    seeds) beside the paper's, with the sources."""
    lines = ["| preset | seeds | ours | paper | paper's source |", "|---|---|---|---|---|"]
    for r in results:
        paper = load(r["preset"]).get("paper", {})
        ours = "; ".join(
            f"{n.replace('_', ' ')} {s['mean']:.3f} +- {s['ci95']:.3f}"
            for n, s in r["summary"].items()
        )
        theirs = "; ".join(
            f"{n.replace('_', ' ')} {v}" for n, v in paper.items() if not n.endswith("source")
        )
        source = "; ".join(v for n, v in paper.items() if n.endswith("source"))
        seeds = len(r["per_seed"])
        lines.append(f"| {r['preset']} | {seeds} | {ours} | {theirs or '-'} | {source or '-'} |")
    return "\n".join(lines) + "\n"


def describe(results: list[dict]) -> str:
    """One line per stored result, for a notebook: what ran, where, when, with what."""
    if not results:
        return (
            "No stored paper-scale results yet: on a GPU, `python -m cl_teach reproduce GROUP` "
            "writes them to results/ (see the README)."
        )
    out = []
    for r in results:
        nums = ", ".join(
            f"{n.replace('_', ' ')} {s['mean']:.3f} +- {s['ci95']:.3f}"
            for n, s in r["summary"].items()
        )
        where = r["machine"].get("gpu") or r["machine"]["platform"]
        trial = f" (overrides {r['overrides']})" if r["overrides"] else ""
        out.append(
            f"stored paper-scale result {r['preset']}{trial}: {nums} over "
            f"{len(r['per_seed'])} seeds; {where}, {r['date'][:10]}"
        )
    return "\n".join(out)
