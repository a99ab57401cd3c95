"""The two commands of the collection (standard library only, so a fresh Python runs it).

python3 tasks.py lab     # first use: make .venv and install; then open JupyterLab
python3 tasks.py test    # ruff, the package tests, every notebook under nbval, the claims
                         # on two blocks of seeds (0-4, then 5-9)
python3 tasks.py browser # the notebooks in a real JupyterLab, in headless Chromium
python3 tasks.py cluster # a single-node Slurm on this machine, and the tests of jobs on it
python3 tasks.py bench   # the timing figures of benchmarks/
python3 tasks.py warm    # before class: run every notebook and every lecture click once
python3 tasks.py html    # a read-only copy: every notebook run, as HTML pages in html/
                         # (only out-of-date pages; --force all; names pick notebooks)
python3 tasks.py slides  # one reveal.js deck per lecture in slides/ (offline, file://)
python3 tasks.py student # student/: the notebooks without solutions; lecturer/: the key
python3 tasks.py lecturing  # LECTURING.md's lecture tables, from cl_teach/course.py
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
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


LOCK = ROOT / "requirements.lock"


def ensure_env() -> None:
    """Create .venv and install the locked versions of every package (requirements.lock),
    then the project itself without dependencies; again when the lock or pyproject.toml
    changes."""
    digest = hashlib.sha256(LOCK.read_bytes() + (ROOT / "pyproject.toml").read_bytes())
    stamp = VENV / f".installed-{digest.hexdigest()[:12]}"
    if stamp.exists():
        return
    if not PYTHON.exists():
        print(f"creating {VENV} ...", flush=True)
        venv.create(VENV, with_pip=True)
    sh(PYTHON, "-m", "pip", "install", "--upgrade", "pip")
    sh(PYTHON, "-m", "pip", "install", "-r", LOCK)
    sh(PYTHON, "-m", "pip", "install", "--no-deps", "-e", ".")
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()


def lab() -> None:
    ensure_env()
    sh(PYTHON, "-c", "from cl_teach.course import warm_summary; print(warm_summary())")
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    sh(
        BIN / "jupyter",
        "lab",
        "00_start_here.ipynb",
        *as_root,
        *sys.argv[2:],
        cwd=ROOT / "notebooks",
    )


#: the second block of seeds the claims are checked on (the first, 0-4, is the notebooks')
SECOND_BLOCK = "5-9"


#: pytest-xdist, one worker a core; a test module (or a notebook) stays on one worker
PARALLEL = ["-n", "auto", "--dist", "loadfile"]


def test() -> None:
    """ruff; the package tests and the claims on seeds 0-4; then every notebook under nbval
    (reading the runs the claims cached) beside the claims on a second block of seeds (a
    claim must hold on any block; the mutation tests, which show what a claim rests on in
    the code, run on the first block only)."""
    ensure_env()
    sh(BIN / "ruff", "check", ".")
    with tempfile.TemporaryDirectory(prefix="cl_teach-test-cache-") as cache:
        # one throw-away result cache for both steps, unless CL_TEACH_CACHE names one
        env = {"CL_TEACH_CACHE": cache, **os.environ, "MPLBACKEND": "Agg"}
        sh(PYTHON, "-m", "pytest", *PARALLEL, "tests", *sys.argv[2:], env=env)
        sh(PYTHON, "-m", "pytest", *PARALLEL, "--nbval-lax", "notebooks", "tests/claims",
           "--claim-seeds", SECOND_BLOCK, "-m", "not mutation", *sys.argv[2:], env=env)  # fmt: skip


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


def lecturing() -> None:
    ensure_env()
    sh(PYTHON, "scripts/write_lecturing.py")


def student() -> None:
    ensure_env()
    sh(PYTHON, "scripts/student_edition.py", *sys.argv[2:])


def slides() -> None:
    ensure_env()
    sh("bash", "scripts/install_reveal.sh")
    sh(PYTHON, "scripts/export_slides.py", *sys.argv[2:])


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
        "slides": slides,
        "student": student,
        "lecturing": lecturing,
    }
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        sys.exit(2)
    commands[sys.argv[1]]()
