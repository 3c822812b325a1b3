"""The report's grades CSV (one SQL query, grader/results/gradebook_export.py) is nbgrader's own export:
the same file, byte for byte, on a graded class and on a gradebook with what nbgrader's export has to
handle (students who submitted nothing, names, emails, due dates, late penalties, fractions)."""

from __future__ import annotations

import csv
import datetime
import shutil
from pathlib import Path

import psycopg2
import pytest
from nbgrader.api import Gradebook
from nbgrader.plugins.export import CsvExportPlugin
from sqlalchemy.engine import make_url

from grader.results.gradebook import gradebook_url, put_tools_on_path, record_source_cells
from grader.results.gradebook_batch import GradebookSession
from grader.results.gradebook_export import COLUMNS, export_grades_csv
from tests.submissions import ASSIGNMENTS
from tests.test_gradebook_batched import sources, synthetic_results

CHOSEN = ASSIGNMENTS[:2]  # two assignments: one with a due date, one without


def both_exports(db_url: str, folder: Path) -> tuple[str, str]:
    """(ours, nbgrader's) CSV text of the gradebook at ``db_url``."""
    with Gradebook(db_url) as gradebook:
        ours = export_grades_csv(gradebook, folder / "ours.csv").read_text()
        CsvExportPlugin(to=str(folder / "nbgrader.csv")).export(gradebook)
    return ours, (folder / "nbgrader.csv").read_text()


def fill_gradebook(db_url: str, course: Path) -> None:
    """Results for four students (fractions, grader errors, grade ids left out), two who submitted
    nothing, names and emails, a due date and a late penalty."""
    students = ["ada", "bob", "cyd", "dee"]
    with GradebookSession(db_url, sources(course, CHOSEN)) as session:
        session.add_students(students + ["eve", "fay"])
        session.record(result for result in synthetic_results(course, students, 0) if result.assignment in CHOSEN)
    with Gradebook(db_url) as gradebook:
        for student, last, first in (("ada", "Lovelace", "Ada"), ("bob", "Lovelace", "Bob"), ("eve", "Able", None)):
            gradebook.update_or_create_student(student, last_name=last, first_name=first, email=f"{student}@uni.edu")
        gradebook.update_or_create_assignment(CHOSEN[1], duedate=datetime.datetime(2026, 12, 1, 17, 30))
        notebook = gradebook.find_submission_notebook(CHOSEN[0], CHOSEN[0], "cyd")
        notebook.late_submission_penalty = 1.5
        notebook.assignment.timestamp = datetime.datetime(2026, 12, 2, 9, 0, 5)
        gradebook.db.commit()


def test_export_is_nbgraders_on_a_graded_class(graded_course: Path, tmp_path: Path) -> None:
    put_tools_on_path()
    ours, expected = both_exports(gradebook_url(graded_course), tmp_path)
    assert ours == expected
    rows = list(csv.DictReader(ours.splitlines()))
    assert len(rows) > 5 and {float(row["score"]) for row in rows} - {0.0}  # real scores, not only zeros


def fresh_postgres_database(server_url: str, name: str) -> str:
    """A new, empty database on the test server (the shared one belongs to tests/test_postgres.py)."""
    url = make_url(server_url)
    connection = psycopg2.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                                  dbname=url.database)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
            cursor.execute(f"CREATE DATABASE {name}")
    finally:
        connection.close()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_export_is_nbgraders_with_names_dates_penalties_and_missing_work(
        database: str, repo: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    course = tmp_path / "course"
    db_url = f"sqlite:///{course / 'gradebook.db'}"
    if database == "postgresql":
        db_url = fresh_postgres_database(request.getfixturevalue("postgres_url"), "export_test")
    for folder in ("source", "release"):
        shutil.copytree(repo / folder, course / folder)
    config = (repo / "nbgrader_config.py").read_text(encoding="utf-8")
    (course / "nbgrader_config.py").write_text(f"{config}\nc.CourseDirectory.db_url = {db_url!r}\n", encoding="utf-8")
    put_tools_on_path()
    for assignment in CHOSEN:
        record_source_cells(course, assignment)
    fill_gradebook(db_url, course)
    ours, expected = both_exports(db_url, tmp_path)
    assert ours == expected
    rows = list(csv.DictReader(ours.splitlines()))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 6 * len(CHOSEN)
    late = next(row for row in rows if row["student_id"] == "cyd" and row["assignment"] == CHOSEN[0])
    assert float(late["late_submission_penalty"]) == 1.5 and late["timestamp"] == "2026-12-02 09:00:05"
    assert float(late["score"]) == max(0.0, float(late["raw_score"]) - 1.5)
    nothing = [row for row in rows if row["student_id"] in ("eve", "fay")]
    assert nothing and all(row["timestamp"] == "" and row["score"] == "0.0" for row in nothing)


def test_export_quotes_a_name_with_a_comma_which_nbgrader_leaves_bare(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    put_tools_on_path()  # nbgrader runs alembic by name on a new gradebook
    with Gradebook(db_url) as gradebook:
        gradebook.update_or_create_assignment(ASSIGNMENTS[0])
        gradebook.update_or_create_student("x1", last_name='Smith, Jr.', first_name='Al "the pal"')
    ours, nbgraders = both_exports(db_url, tmp_path)
    (row,) = list(csv.DictReader(ours.splitlines()))
    assert (row["last_name"], row["first_name"]) == ('Smith, Jr.', 'Al "the pal"')
    assert len(next(csv.reader(nbgraders.splitlines()[1:]))) == len(COLUMNS) + 1  # nbgrader's row falls apart
