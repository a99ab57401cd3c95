"""The experiments behind each notebook's figures, and the claims its text makes.

One module per notebook. The notebook, its panel and its claim tests
(``tests/claims/``) call the same functions, so the text and the numbers cannot drift
apart: every claim is computed from runs over several seeds (5 by default) and says
whether it holds, with its evidence. A claim is one of three kinds, each decided by a 95%
interval over seeds (paired by seed), never by a mean alone:

- a clear difference: the interval lies wholly on the stated side of 0 (or of a margin),
  :meth:`Difference.above` / :meth:`Difference.below`;
- a bound: the whole interval lies inside +-x, :meth:`Difference.within` ("no difference
  larger than x at 95%");
- an order: each step of it a clear difference.

With a single seed there is no interval, and a claim is undecided, never "holds".
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
    """The seeds meant by ``seeds``: a count (``5`` or ``"5"``: seeds 0..4), a range
    (``"5-9"``: seeds 5..9), a comma list (``"0,3,7"``), or a list of seeds."""
    if isinstance(seeds, bool):
        raise ValueError(f"seeds {seeds!r}: give a count, a range like 5-9, or a list")
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"seeds {seeds}: ask for at least one seed")
        return list(range(seeds))
    if isinstance(seeds, str):
        text = seeds.replace(" ", "")
        try:
            if "," in text:
                return seed_list([int(s) for s in text.split(",")])
            if "-" in text[1:]:
                first, last = (int(s) for s in text.split("-", 1))
                if last < first:
                    raise ValueError
                return list(range(first, last + 1))
            return seed_list(int(text))
        except ValueError:
            raise ValueError(
                f"seeds {seeds!r}: give a count (5: seeds 0-4), a range (5-9) or a list "
                "(0,3,7) of seeds >= 0"
            ) from None
    out = [int(s) for s in seeds]
    if not out or min(out) < 0 or len(set(out)) != len(out):
        raise ValueError(f"seeds {seeds!r}: give at least one seed, each >= 0, none twice")
    return out


@dataclass
class Difference:
    """``a - b`` of one number, paired by seed: per-seed values, mean and 95% interval
    (Student's t over the seeds)."""

    per_seed: list[float]
    mean: float
    ci95: float
    signed: bool = True  # a difference shows its sign; a plain number does not

    @property
    def n(self) -> int:
        return len(self.per_seed)

    @property
    def low(self) -> float:
        return self.mean - self.ci95

    @property
    def high(self) -> float:
        return self.mean + self.ci95

    @property
    def clear(self) -> bool:
        """The 95% interval excludes 0, on either side (with a single seed nothing is clear)."""
        return self.above(0) or self.below(0)

    def above(self, margin: float = 0.0) -> bool:
        """A clear difference upward: the whole interval lies above ``margin``."""
        return self.n > 1 and self.low > margin

    def below(self, margin: float = 0.0) -> bool:
        """A clear difference downward: the whole interval lies below ``margin``."""
        return self.n > 1 and self.high < margin

    def within(self, bound: float) -> bool:
        """A bound: the whole interval lies inside +-``bound`` (an equivalence test), so the
        runs rule out a difference larger than ``bound`` at 95%."""
        return self.n > 1 and -bound < self.low and self.high < bound

    def largest(self) -> float:
        """The largest difference the interval allows: what a bound can claim."""
        return max(abs(self.low), abs(self.high))

    @classmethod
    def of(cls, per_seed, signed: bool = True) -> Difference:
        """A difference (or, ``signed=False``, any number) from its per-seed values (already
        paired)."""
        stats = seed_summary(per_seed)
        return cls([float(v) for v in per_seed], stats["mean"], stats["ci95"], signed)

    def __str__(self) -> str:
        f = "+.3f" if self.signed else ".3f"
        return (
            f"{self.mean:{f}} +- {self.ci95:.3f} (95% interval [{self.low:{f}}, "
            f"{self.high:{f}}], {self.n} seeds)"
        )


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


def pooled(*pairs) -> Difference:
    """The paired difference ``a - b`` (final accuracy) averaged seed by seed over several
    ``(a, b)`` pairs of runs: one comparison made at several settings."""
    return Difference.of(np.mean([difference(a, b).per_seed for a, b in pairs], axis=0))


def over_seeds(runs, metric="final_accuracy") -> Difference:
    """``metric`` of runs over seeds, as a :class:`Difference` from 0 (its mean and
    interval), for claims about one number ("above 0.9 on 95%")."""
    return Difference.of(values(runs, metric), signed=False)


def mean_pm(runs, metric: str = "final_accuracy") -> str:
    """``mean +- 95% interval`` of a number over seeds, for the notebooks' text."""
    stats = seed_summary(values(runs, metric))
    return f"{stats['mean']:.3f} +- {stats['ci95']:.3f}"


@dataclass
class Claim:
    """A sentence of a notebook, whether the runs back it, and the numbers that say so.
    ``seeds``: how many seeds decided it; with fewer than two it is undecided, and
    ``holds`` is False."""

    text: str
    holds: bool
    evidence: str
    seeds: int = SEEDS

    def __post_init__(self):
        self.holds = bool(self.holds) and self.seeds > 1

    @property
    def verdict(self) -> str:
        if self.seeds < 2:
            return "undecided: one seed cannot decide it"
        return "holds" if self.holds else "DOES NOT HOLD"

    def __str__(self) -> str:
        return f"[{self.verdict}] {self.text}: {self.evidence}"


class Claims(list):
    """A notebook's claims, shown as "what the runs show": each claim that holds as a
    takeaway with its evidence, and a claim that does not hold in a red box above them, as
    a failure of the lesson (the notebook's text may then be wrong for these runs)."""

    def __init__(self, claims, seeds: int):
        super().__init__(Claim(c.text, c.holds, c.evidence, seeds) for c in claims)

    def failing(self) -> list[Claim]:
        return [c for c in self if not c.holds]

    def __str__(self) -> str:
        return "\n".join(str(c) for c in self)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        from html import escape

        def items(claims, end=""):
            return "".join(
                f"<li>{escape(c.text)}{end}<br><small>{escape(c.evidence)}</small></li>"
                for c in claims
            )

        parts = []
        if self and self[0].seeds < 2:
            parts.append(
                '<div style="border:2px solid #999;padding:0.4em 1em"><b>Undecided:</b> one '
                "seed gives no interval, so none of these claims can be decided; run at least "
                "two seeds (five for the lesson's).</div>"
            )
        elif self.failing():
            parts.append(
                '<div style="border:3px solid #d55e00;background:#fbe9e0;padding:0.6em 1em;'
                f'margin:0.4em 0"><b>The lesson fails on these runs: {len(self.failing())} of '
                f"its {len(self)} claims do not hold.</b> What this notebook says may be wrong "
                "for these seeds or settings, and the collection's tests fail on it."
                f"<ul>{items(self.failing())}</ul></div>"
            )
        holding = [c for c in self if c.holds]
        if holding:
            parts.append(f"<ul>{items(holding, '.')}</ul>")
        return "".join(parts)


def seeds_in(results) -> int:
    """The number of seeds of the first list of runs in ``results`` (lists of runs nested
    in dicts, as the lessons' ``runs()`` return them)."""
    if isinstance(results, list):
        return len(results)
    for value in results.values() if isinstance(results, dict) else ():
        found = seeds_in(value)
        if found:
            return found
    return 0


def show(claims) -> Claims:
    """A notebook cell ending in ``show(module.claims(...))`` displays the claims (HTML: a
    failing claim boxed in red, then the takeaways that hold); ``print`` gives one line
    each."""
    return claims if isinstance(claims, Claims) else Claims(claims, SEEDS)


class Details:
    """A collapsed section of a notebook, ``<details>`` with a summary line: what the main
    path leaves out (the full source of a method, a calibration, the reference code's
    differences). ``body`` is plain text; ``code=True`` shows it as code. ``print`` gives
    the text."""

    def __init__(self, summary: str, body: str, code: bool = False):
        self.summary, self.body, self.code = summary, body, code

    def _repr_html_(self) -> str:
        from html import escape

        if self.code:
            inner = f"<pre>{escape(self.body)}</pre>"
        else:
            inner = "".join(f"<p>{escape(p)}</p>" for p in self.body.split("\n\n"))
        return f"<details><summary><b>{escape(self.summary)}</b></summary>{inner}</details>"

    def __repr__(self) -> str:
        return f"{self.summary}\n\n{self.body}"


def source(*objects, summary: str = "The full source") -> Details:
    """The source of ``objects`` (functions, classes, methods) in a collapsed section."""
    import inspect

    return Details(summary, "\n".join(inspect.getsource(o) for o in objects), code=True)


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
