"""The course's glue: reading times stated from the notebooks, lectures that fit their
hour, the live clicks of LECTURING.md, a cache that stays warm across presentation changes,
and a warm status that tells what would still train."""

from pathlib import Path

import pytest

from cl_teach import cache, course

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_states_its_reading_times_as_counted(path):
    main, full = course.reading_minutes(path)
    assert course.stated_minutes(path) == (main, full), (
        f"{path.name}: its first line should say 'Main path: about {main} minutes of reading; "
        f"with the collapsed sections, about {full}'"
    )
    assert main <= 20, f"{path.name}: the main path reads in {main} minutes (at most 20)"


@pytest.mark.parametrize("lecture", course.LECTURES, ids=lambda lec: lec.title)
def test_each_lecture_fits_its_hour(lecture):
    assert sum(stop.minutes for stop in lecture.stops) <= lecture.minutes
    for stop in lecture.stops:
        main, _ = course.reading_minutes(course.notebook_path(stop.notebook))
        assert main <= stop.minutes, f"{stop.notebook}: {main} minutes of reading in {stop.minutes}"


def test_every_notebook_is_in_a_lecture_once():
    taught = [stop.notebook for lecture in course.LECTURES for stop in lecture.stops]
    assert sorted(taught) == sorted(p.name.split("_")[0] for p in NOTEBOOKS)


@pytest.mark.parametrize(
    "click", [c for lecture in course.LECTURES for c in lecture.clicks()], ids=lambda c: c.what
)
def test_each_click_names_real_controls_and_changes_the_panel(click):
    panel = click.panel()
    assert set(click.values) <= set(panel.controls)
    assert any(panel.controls[k].value != v for k, v in click.values.items()), (
        f"{click.notebook}: '{click.what}' is the panel's starting setting"
    )


def test_lecturing_md_is_written_from_the_routes():
    assert course.lecturing_tables() in (ROOT / "LECTURING.md").read_text(), (
        "LECTURING.md is out of step with cl_teach/course.py: run `python3 tasks.py lecturing`"
    )


def test_the_cache_key_ignores_how_results_are_shown():
    hashed = {p.relative_to(ROOT / "cl_teach").as_posix() for p in cache.computing_files()}
    assert {"train.py", "layers.py", "methods/der.py", "plasticity/continual_backprop.py"} <= hashed
    assert not hashed & {"plots.py", "course.py", "cli.py", "lessons/der.py", "widgets/der.py"}


def test_a_cold_step_is_reported_and_nothing_trains(monkeypatch, tmp_path):
    monkeypatch.setenv("CL_TEACH_CACHE", str(tmp_path))
    lecture = course.Lecture("one stop", 10, (course.Stop("01", 10, "", ""),))
    assert course.warm_status([lecture]) == [("01 Run All (forgetting:runs)", False)]
    assert not list(tmp_path.glob("*.json"))
    assert "1 of 1 steps" in course.warm_summary([lecture])
    course.run_experiment("forgetting:runs")
    assert course.warm_status([lecture]) == [("01 Run All (forgetting:runs)", True)]
