"""The set-up files agree with each other, and notebooks are stored clean."""

import json
import re
import tomllib
from importlib import metadata
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
LOCK = ROOT / "requirements.lock"


def _lock() -> list[tuple[Requirement, str]]:
    """Each pinned line of the lock: (the requirement with its markers, its version)."""
    pins = []
    for line in LOCK.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"requirements.lock: {line!r} is not an exact pin"
            pins.append((req, spec.version))
    return pins


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_lock_pins_every_dependency_of_pyproject_within_its_range():
    project = _project()["project"]
    wanted = [
        Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]
    ]
    pins = _lock()
    for req in wanted:
        versions = [
            v for pin, v in pins if canonicalize_name(pin.name) == canonicalize_name(req.name)
        ]
        assert versions, (
            f"{req.name} is in pyproject.toml but not in requirements.lock: regenerate it"
        )
        for v in versions:
            assert req.specifier.contains(v, prereleases=True), (
                f"requirements.lock pins {req.name}=={v}, outside pyproject's {req.specifier}: "
                "regenerate the lock (README: The lock)"
            )


def test_the_lock_holds_pyprojects_torch_pins_and_its_command():
    pins = {canonicalize_name(r.name): v for r, v in _lock()}
    for line in _project()["tool"]["uv"]["constraint-dependencies"]:
        req = Requirement(line)
        assert req.specifier.contains(pins[canonicalize_name(req.name)])
    header = LOCK.read_text().splitlines()[1]
    assert "uv pip compile pyproject.toml --extra dev --universal" in header
    assert header.strip().lstrip("# ") in (ROOT / "README.md").read_text()


def test_environment_yml_installs_the_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    required = SpecifierSet(_project()["project"]["requires-python"])
    assert required.contains(python.split("=", 1)[1] + ".0"), f"{python} vs {required}"
    (pip,) = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert pip == ["-r requirements.lock"], "environment.yml must install exactly the lock"


def test_this_environment_has_the_locked_versions():
    """The numbers a student sees come from the versions CI tests: an environment made by
    tasks.py holds exactly the lock's (where a pin's markers apply to this machine)."""
    off = []
    for req, version in _lock():
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            installed = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            off.append(f"{req.name} missing")
            continue
        if Version(installed) != Version(version):
            off.append(f"{req.name} {installed} (lock: {version})")
    assert not off, "not the locked versions, reinstall with `python3 tasks.py lab`: " + ", ".join(
        off
    )


def test_notebooks_are_stored_without_outputs():
    assert NOTEBOOKS, "no notebooks found"
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                assert not cell["outputs"] and cell["execution_count"] is None, (
                    f"{path.name} has stored outputs: run `nbstripout {path}` (pre-commit does it)"
                )


def test_every_notebook_has_a_parameters_cell_and_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        tags = [cell.get("metadata", {}).get("tags", []) for cell in cells]
        assert any("parameters" in t for t in tags), f"{path.name}: no cell tagged 'parameters'"
        assert path.name in readme, f"README.md does not list {path.name}"


def test_pre_commit_strips_notebooks_and_runs_ruff():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {h["id"] for repo in config["repos"] for h in repo["hooks"]}
    assert {"nbstripout", "ruff"} <= hooks


def test_ci_runs_the_readme_test_command():
    readme, ci = (ROOT / "README.md").read_text(), (ROOT / ".ci" / "run").read_text()
    assert "python3 tasks.py test" in readme and "python3 tasks.py test" in ci


def test_every_relative_link_points_at_a_file():
    """Links between notebooks and from the README and LECTURING.md still resolve."""

    def text(path: Path) -> str:
        return "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])

    pages = [(p, text(p)) for p in NOTEBOOKS]
    pages += [(ROOT / name, (ROOT / name).read_text()) for name in ("README.md", "LECTURING.md")]
    for path, text in pages:
        for target in re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", text):
            assert (path.parent / target).exists(), f"{path.name} links to missing {target}"
