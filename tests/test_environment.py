"""The set-up files agree with each other, and notebooks are stored clean."""

import json
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CONDA_TO_PIP = {"pytorch": "torch"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    names = [_name(d) for d in env["dependencies"] if isinstance(d, str)]
    conda = {CONDA_TO_PIP.get(n, n) for n in names}
    conda.discard("python")
    assert conda == pip, f"only in environment.yml: {conda - pip}; only in pyproject: {pip - conda}"


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
