"""Results cached on disk by a hash of the run's config, the package's code, the PyTorch
version and the vectorised CPU kernels PyTorch runs (AVX-512, AVX2, ...: the last bits of a
result depend on them); a run's config names its device kind too.

A widget moved back to an earlier value answers at once; a code change never serves a
stale result. Writes are atomic: a temporary file, renamed when complete, and removed if
the write fails or is interrupted.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path


def cache_dir() -> Path:
    """``$CL_TEACH_CACHE`` if set, else ``<data folder>/cache``."""
    from .data import data_root

    env = os.environ.get("CL_TEACH_CACHE")
    return Path(env) if env else data_root() / "cache"


@lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of every source file of the package."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
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
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f)
        os.replace(tmp, folder / f"{key(kind, config)}.json")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
