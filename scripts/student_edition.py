"""The student edition and the lecturer's key (python3 tasks.py student [OUT]).

- ``OUT/student/``: every notebook without its solutions (the collapsed "Solution" blocks
  are removed), for graded homework; run them from the project (``python3 tasks.py lab``).
- ``OUT/lecturer/``: one page per notebook with each exercise's solution and, from
  ``key/``, the answer to every "Try this" prompt.

OUT is the project folder by default.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = re.compile(r"<details><summary>Solution[^<]*</summary>(.*?)</details>\n?", re.S)


def split(notebook: dict) -> tuple[dict, list[str]]:
    """The notebook without its solution blocks, and the solutions' text."""
    solutions = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            solutions += [s.strip() for s in SOLUTION.findall(text)]
            cell["source"] = SOLUTION.sub("", text).splitlines(keepends=True)
    return notebook, solutions


def main(out: Path) -> None:
    student, lecturer = out / "student", out / "lecturer"
    student.mkdir(parents=True, exist_ok=True)
    lecturer.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook, solutions = split(json.loads(path.read_text()))
        (student / path.name).write_text(json.dumps(notebook, indent=1, ensure_ascii=False))
        key = ROOT / "key" / f"{path.stem}.md"
        page = [f"# {path.stem}: the lecturer's key", ""]
        page += [f"## Solution {k}\n\n{s}\n" for k, s in enumerate(solutions, 1)]
        if key.exists():
            page += ["## Try this: what the runs show", "", key.read_text()]
        (lecturer / f"{path.stem}.md").write_text("\n".join(page))
    print(f"wrote {student} (notebooks without solutions) and {lecturer} (the key)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)
