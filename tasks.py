"""The two commands of the collection (standard library only, so a fresh Python runs it).

python3 tasks.py lab     # first use: make .venv and install; then open JupyterLab
python3 tasks.py test    # ruff, the package tests, every notebook under nbval
python3 tasks.py browser # the notebooks in a real JupyterLab, in headless Chromium
python3 tasks.py cluster # a single-node Slurm on this machine, and the tests of jobs on it
python3 tasks.py bench   # the timing figures of benchmarks/
python3 tasks.py warm    # before class: run every notebook once, so every panel answers at once
python3 tasks.py html    # a read-only copy: every notebook run, as HTML pages in html/
                         # (only out-of-date pages; --force all; names pick notebooks)
"""

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def sh(*cmd, cwd=ROOT, **kw) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    code = subprocess.call([str(c) for c in cmd], cwd=cwd, **kw)
    if code:
        sys.exit(code)


def ensure_env() -> None:
    """Create .venv and install the project with its dev tools, again when
    pyproject.toml changes."""
    stamp = (
        VENV
        / f".installed-{hashlib.sha256((ROOT / 'pyproject.toml').read_bytes()).hexdigest()[:12]}"
    )
    if stamp.exists():
        return
    if not PYTHON.exists():
        print(f"creating {VENV} ...", flush=True)
        venv.create(VENV, with_pip=True)
    sh(PYTHON, "-m", "pip", "install", "--upgrade", "pip")
    sh(PYTHON, "-m", "pip", "install", "-e", ".[dev]")
    stamp.touch()


def lab() -> None:
    ensure_env()
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    sh(
        BIN / "jupyter",
        "lab",
        "00_start_here.ipynb",
        *as_root,
        *sys.argv[2:],
        cwd=ROOT / "notebooks",
    )


def test() -> None:
    ensure_env()
    env = {**os.environ, "MPLBACKEND": "Agg"}
    sh(BIN / "ruff", "check", ".")
    sh(PYTHON, "-m", "pytest", "--nbval-lax", "tests", "notebooks", *sys.argv[2:], env=env)


def browser() -> None:
    ensure_env()
    if not (os.environ.get("CL_TEACH_CHROMIUM") or shutil.which("chromium")):
        sh("bash", "scripts/install_browser.sh")  # Debian's chromium, through apt-get
    sh(PYTHON, "-m", "pytest", "-m", "browser", "tests", *sys.argv[2:])


def cluster() -> None:
    """Start the single-node Slurm of scripts/slurm_local.sh (installing it once, as root)
    and run the tests marked slurm; stop it again if it was not running before."""
    ensure_env()
    script = ROOT / "scripts" / "slurm_local.sh"
    running = subprocess.call(["bash", str(script), "status"]) == 0
    if not running:
        sh("bash", script, "start")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    try:
        sh(PYTHON, "-m", "pytest", "-m", "slurm", "tests", *sys.argv[2:], env=env)
    finally:
        if not running:
            sh("bash", script, "stop")


def warm() -> None:
    """Execute every notebook once (outputs are not saved) so that the result cache holds
    every default figure and every panel's first setting."""
    ensure_env()
    sh(PYTHON, "scripts/warm_cache.py", *sys.argv[2:], env={**os.environ, "MPLBACKEND": "Agg"})


def bench() -> None:
    ensure_env()
    sh(PYTHON, "benchmarks/timings.py", *sys.argv[2:], env={**os.environ, "MPLBACKEND": "Agg"})


def html() -> None:
    ensure_env()
    sh(PYTHON, "scripts/export_html.py", *sys.argv[2:])


if __name__ == "__main__":
    commands = {
        "lab": lab,
        "test": test,
        "browser": browser,
        "cluster": cluster,
        "bench": bench,
        "warm": warm,
        "html": html,
    }
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        sys.exit(2)
    commands[sys.argv[1]]()
