"""Results cached on disk by a hash of the run's config, the package's code that computes
results, the PyTorch version and the vectorised CPU kernels PyTorch runs (AVX-512, AVX2,
...: the last bits of a result depend on them); a run's config names its device kind too.

A widget moved back to an earlier value answers at once; a change to the code that trains
or measures never serves a stale result, while a change to how results are shown (the
notebooks' lessons, panels, plots, exercises, the command line) keeps the cache warm.
Writes are atomic: a temporary file, renamed when complete, and removed if the write fails
or is interrupted.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import IO

_cached_only = False


class WouldTrain(Exception):
    """Raised inside :func:`cached_only` by a run that is not in the cache."""


@contextmanager
def cached_only():
    """Inside this block a run that is not cached raises :class:`WouldTrain` instead of
    training: how ``tasks.py lab`` and notebook 00 tell whether a lecture's runs are warm."""
    global _cached_only
    _cached_only, before = True, _cached_only
    try:
        yield
    finally:
        _cached_only = before


def may_train(what) -> None:
    """Called before a run trains: raises :class:`WouldTrain` inside :func:`cached_only`."""
    if _cached_only:
        raise WouldTrain(str(what))


def cache_dir() -> Path:
    """``$CL_TEACH_CACHE`` if set, else ``<data folder>/cache``."""
    from .data import data_root

    env = os.environ.get("CL_TEACH_CACHE")
    return Path(env) if env else data_root() / "cache"


#: the package's modules that only show, check or launch results (paths under cl_teach/):
#: a change to them cannot change a run's numbers
PRESENTATION = ("lessons/", "widgets/", "exercises/", "presets/", "plots.py", "plasticity/plots.py",
                "course.py", "cli.py", "__main__.py", "reproduce.py", "envcheck.py",
                "executors.py", "sweep.py")  # fmt: skip


def computing_files() -> list[Path]:
    """The package's source files that train or measure: all but :data:`PRESENTATION`."""
    root = Path(__file__).parent
    return [p for p in sorted(root.rglob("*.py"))
            if not p.relative_to(root).as_posix().startswith(PRESENTATION)]  # fmt: skip


@lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of :func:`computing_files`: part of every cache key."""
    digest = hashlib.sha256()
    for path in computing_files():
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def key(kind: str, config: dict) -> str:
    import torch

    text = json.dumps(
        {
            "kind": kind,
            "config": config,
            "code": code_version(),
            "torch": torch.__version__,
            "cpu": torch.backends.cpu.get_cpu_capability(),
        },
        sort_keys=True,
    )
    return f"{kind}-{hashlib.sha256(text.encode()).hexdigest()[:24]}"


def load(kind: str, config: dict) -> dict | None:
    path = cache_dir() / f"{key(kind, config)}.json"
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def save(kind: str, config: dict, payload: dict) -> None:
    write_atomic(
        cache_dir() / f"{key(kind, config)}.json", lambda f: f.write(json.dumps(payload).encode())
    )


def write_atomic(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """``write(file)`` into a temporary file beside ``path``, renamed to ``path`` when
    complete: readers (and other processes writing the same path) see the old file or the
    whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
