"""The papers' settings as named, versioned preset files, each stating its source.

A preset is a TOML file in this folder::

    name = "pycil-der-b0inc10"
    version = 1
    kind = "run"                  # or "plasticity"
    source = "where the numbers come from"
    estimate = "how long it takes on a GPU (an estimate until measured)"
    [config]                      # fields of RunConfig or PlasticityConfig
    method = "der"
    class_order_seed = "none"     # TOML has no null: "none" stands for None
    ...

``python -m cl_teach run --preset NAME`` (or ``plasticity --preset NAME``) starts from it,
and options given on the command line override it; ``python -m cl_teach presets`` lists
them. In a notebook, ``PRESET = "NAME"`` in the parameters cell does the same.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

FOLDER = Path(__file__).parent


def names(kind: str | None = None) -> list[str]:
    """The presets (of one ``kind``, "run" or "plasticity"), sorted."""
    return sorted(p.stem for p in FOLDER.glob("*.toml") if kind in (None, load(p.stem)["kind"]))


def load(name: str) -> dict:
    """A preset's whole file: name, version, kind, source, estimate and config."""
    path = FOLDER / f"{name}.toml"
    if not path.is_file():
        raise ValueError(f"unknown preset {name!r}; `python -m cl_teach presets` lists: "
                         f"{', '.join(names())}")  # fmt: skip
    preset = tomllib.loads(path.read_text())
    if preset.get("name") != name:
        raise ValueError(f"preset file {path.name} names itself {preset.get('name')!r}")
    return preset


def config(name: str | None, kind: str = "run", *, explicit: bool = False, **overrides):
    """A config from preset ``name`` (``None``: the offline defaults) with ``overrides``
    applied. An override of ``None`` keeps the preset's value, unless ``explicit`` (the
    command line, where ``--class-order-seed none`` means None). Overriding ``epochs``
    alone sets every task's length, the first task's too (a short trial of a preset)."""
    from ..config import RunConfig
    from ..plasticity import PlasticityConfig

    cls = {"run": RunConfig, "plasticity": PlasticityConfig}[kind]
    values = {}
    if name is not None:
        preset = load(name)
        if preset["kind"] != kind:
            raise ValueError(f"preset {name!r} is a {preset['kind']} preset, not a {kind} one")
        values = {k: None if v == "none" else v for k, v in preset["config"].items()}
    if not explicit:
        overrides = {k: v for k, v in overrides.items() if v is not None}
    unknown = sorted(set(overrides) - set(cls.__dataclass_fields__))
    if unknown:
        raise ValueError(f"a {kind} setting has no {', '.join(unknown)}; "
                         f"choose from {', '.join(cls.__dataclass_fields__)}")  # fmt: skip
    return cls(**with_overrides(values, overrides))


def with_overrides(values: dict, overrides: dict) -> dict:
    """``values`` with ``overrides``; ``epochs`` without ``first_epochs`` drops the first
    task's own length."""
    given = dict(overrides)
    if "epochs" in given and "first_epochs" not in given and "first_epochs" in values:
        given["first_epochs"] = None
    return {**values, **given}
