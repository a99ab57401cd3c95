"""The experiments behind each notebook's figures, and the claims its text makes.

One module per notebook. The notebook, its panel and its claim tests
(``tests/claims/``) call the same functions, so the text and the numbers cannot drift
apart: every claim is computed from runs over several seeds (5 by default) and says
whether it holds, with its evidence. A claim about a difference holds only when the
difference is clear of the seeds' spread: its 95% interval, paired by seed, excludes 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import RunConfig
from ..metrics import seed_summary

SEEDS = 5  # seeds of a headline figure


def base(setting, preset: str | None = None, **overrides) -> RunConfig:
    """A notebook's config: its offline ``setting``, or the paper's ``preset`` (see
    ``python -m cl_teach presets``), with the overrides of its parameters cell (``None``
    keeps the value)."""
    from ..presets import config, with_overrides

    kind = "run" if isinstance(setting, RunConfig) else "plasticity"
    cfg = setting if preset is None else config(preset, kind)
    given = {k: v for k, v in overrides.items() if v is not None}
    return type(cfg)(**with_overrides(cfg.to_dict(), given))


def seed_list(seeds) -> list[int]:
    """``5`` -> seeds 0..4; a list stays as it is."""
    return list(range(seeds)) if isinstance(seeds, int) else list(seeds)


@dataclass
class Difference:
    """``a - b`` of one number, paired by seed: per-seed values, mean and 95% interval."""

    per_seed: list[float]
    mean: float
    ci95: float

    @property
    def clear(self) -> bool:
        """The 95% interval excludes 0 (with a single seed nothing is clear)."""
        return len(self.per_seed) > 1 and abs(self.mean) > self.ci95

    @classmethod
    def of(cls, per_seed) -> Difference:
        """A difference from its per-seed values (already paired)."""
        stats = seed_summary(per_seed)
        return cls([float(v) for v in per_seed], stats["mean"], stats["ci95"])

    def __str__(self) -> str:
        return f"{self.mean:+.3f} +- {self.ci95:.3f} (95% interval, {len(self.per_seed)} seeds)"


def _field(run, name: str):
    """A field of a run: a :class:`~cl_teach.experiment.Result` or a result dict."""
    return run[name] if isinstance(run, dict) else getattr(run, name)


def values(runs, metric: str = "final_accuracy") -> list[float]:
    """One number per seed: ``metric`` of each run (a field, or a function of a run)."""
    return [float(metric(r) if callable(metric) else _field(r, metric)) for r in runs]


def difference(a, b, metric="final_accuracy") -> Difference:
    """``metric`` of runs ``a`` minus runs ``b``, paired by seed."""
    seeds_a, seeds_b = [_field(r, "seed") for r in a], [_field(r, "seed") for r in b]
    if seeds_a != seeds_b:
        raise ValueError(f"runs are paired by seed: {seeds_a} vs {seeds_b}")
    return Difference.of(np.subtract(values(a, metric), values(b, metric)))


def mean_pm(runs, metric: str = "final_accuracy") -> str:
    """``mean +- 95% interval`` of a number over seeds, for the notebooks' text."""
    stats = seed_summary(values(runs, metric))
    return f"{stats['mean']:.3f} +- {stats['ci95']:.3f}"


@dataclass
class Claim:
    """A sentence of a notebook, whether the runs back it, and the numbers that say so."""

    text: str
    holds: bool
    evidence: str

    def __str__(self) -> str:
        return f"[{'holds' if self.holds else 'DOES NOT HOLD'}] {self.text}: {self.evidence}"


def show(claims: list[Claim]) -> None:
    """Print each claim with its verdict and evidence."""
    for claim in claims:
        print(claim)


def paper_scale(*presets: str) -> str:
    """The stored paper-scale results of these presets (``python -m cl_teach reproduce``
    on a GPU writes them to results/), with the papers' numbers beside them; or how to
    make them."""
    from ..presets import load
    from ..reproduce import describe, stored, table

    for name in presets:
        load(name)  # an unknown name is an error, not a silent "nothing stored"
    found = stored(presets)
    return describe(found) + ("\n\n" + table(found) if found else "")
