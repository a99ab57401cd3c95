"""Write LECTURING.md's lecture tables from cl_teach/course.py (python3 tasks.py lecturing)."""

from pathlib import Path

from cl_teach.course import lecturing_tables

START, END = "<!-- routes: written by python3 tasks.py lecturing -->", "<!-- end of routes -->"

path = Path(__file__).resolve().parents[1] / "LECTURING.md"
text = path.read_text()
head, rest = text.split(START)
_, tail = rest.split(END)
path.write_text(f"{head}{START}\n{lecturing_tables()}\n{END}{tail}")
print(f"wrote the lecture tables of {path.name}")
