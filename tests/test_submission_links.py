"""Submissions are files, not links: a notebook that is a symbolic link, sits under a linked folder,
is a hard link to a file outside ``submitted/``, or is a FIFO, a socket or a device is refused
with ``INVALID_NOTEBOOK`` and its reason, and the instructor's solutions are never shown back.
Hard links between two students' submissions still grade.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.batch.cluster import notebooks_to_ship
from grader.batch.run import autograde_course, file_sha256, find_submissions
from grader.pipeline.ingest import InvalidNotebook, read_notebook, read_submitted
from tests.graded_class import make_course
from tests.submissions import Variant

ASSIGNMENT = "cnn_quiz"
REFERENCE = "correct-reference-cnn_quiz"
# Lines of the instructor's solutions that no refused submission may show back
SOLUTION_LINES = ("### BEGIN SOLUTION", "count += out_channels",
                  "return (w_in + 2 * padding - kernel_size) // stride + 1")


def notebook_path(course: Path, student: str) -> Path:
    """Where a student's notebook goes, its folders made."""
    path = course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def source_path(course: Path) -> Path:
    return course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def symlink_to_source(course: Path) -> Path:
    path = notebook_path(course, "symlink-to-source")
    path.symlink_to(source_path(course))
    return path


def relative_symlink_to_source(course: Path) -> Path:
    path = notebook_path(course, "relative-symlink-to-source")
    path.symlink_to(Path("../../../source") / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    return path


def linked_assignment_folder(course: Path) -> Path:
    folder = course / "submitted" / "linked-assignment-folder"
    folder.mkdir(parents=True)
    (folder / ASSIGNMENT).symlink_to(source_path(course).parent, target_is_directory=True)
    return folder / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def linked_student_folder(course: Path) -> Path:
    (course / "submitted").mkdir(exist_ok=True)
    (course / "submitted" / "linked-student-folder").symlink_to(course / "source", target_is_directory=True)
    return course / "submitted" / "linked-student-folder" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def hard_link_to_source(course: Path) -> Path:
    path = notebook_path(course, "hard-link-to-source")
    os.link(source_path(course), path)
    return path


def fifo(course: Path) -> Path:
    path = notebook_path(course, "fifo")
    os.mkfifo(path)
    return path


def unix_socket(course: Path) -> Path:
    path = notebook_path(course, "unix-socket")
    cwd = os.getcwd()
    os.chdir(path.parent)  # a socket's address is limited to 107 bytes: bind by its short name
    try:
        with socket.socket(socket.AF_UNIX) as server:
            server.bind(path.name)
    finally:
        os.chdir(cwd)
    return path


def device(course: Path) -> Path:
    path = notebook_path(course, "device")
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero: a read would never end
    except PermissionError:
        pytest.skip("no permission to make a device node here")
    return path


# (how the attack is made, words its reason must have); the student is the attack's name, dashed
ATTACKS: list[tuple[Callable[[Path], Path], str]] = [
    (symlink_to_source, "symbolic link"),
    (relative_symlink_to_source, "symbolic link"),
    (linked_assignment_folder, "assignment folder 'cnn_quiz' is a symbolic link"),
    (linked_student_folder, "student folder 'linked-student-folder' is a symbolic link"),
    (hard_link_to_source, "hard link to a file outside"),
    (fifo, "FIFO"),
    (unix_socket, "a socket"),
    (device, "character device"),
]


@pytest.fixture
def course(tmp_path: Path, repo: Path) -> Path:
    """A course folder with cnn_quiz's source notebook and the repo's configuration."""
    course = tmp_path / "course"
    source_path(course).parent.mkdir(parents=True)
    shutil.copy(source_path(repo), source_path(course))
    shutil.copy(repo / "nbgrader_config.py", course / "nbgrader_config.py")
    return course


def refused_within(seconds: float, read: Callable[[], object]) -> InvalidNotebook:
    """The refusal ``read`` raises, which must come within ``seconds`` (a FIFO must not block the reader)."""
    outcome: list[BaseException | object] = []
    reader = threading.Thread(target=lambda: outcome.append(_outcome(read)), daemon=True)
    reader.start()
    reader.join(seconds)
    assert outcome, f"reading did not return within {seconds} s"
    assert isinstance(outcome[0], InvalidNotebook), f"expected a refusal, got {outcome[0]!r}"
    return outcome[0]


def _outcome(read: Callable[[], object]) -> BaseException | object:
    try:
        return read()
    except BaseException as error:  # noqa: BLE001 - the test looks at whatever happened
        return error


@pytest.mark.parametrize(("attack", "reason"), ATTACKS, ids=[attack.__name__ for attack, _ in ATTACKS])
def test_a_linked_or_special_notebook_is_refused_with_its_reason(course: Path, attack: Callable[[Path], Path],
                                                                 reason: str) -> None:
    path = attack(course)
    refusal = refused_within(5, lambda: read_notebook(path))
    assert reason in refusal.reason
    assert file_sha256(path) == ""  # resume never trusts what it could not read
    assert not any(line in refusal.reason for line in SOLUTION_LINES)


def test_a_hard_link_between_two_submissions_is_read(course: Path) -> None:
    first = notebook_path(course, "alice")
    shutil.copy(source_path(course), first)
    os.link(first, notebook_path(course, "bob"))
    assert read_notebook(notebook_path(course, "bob")).cells
    assert file_sha256(first) == file_sha256(notebook_path(course, "bob")) != ""


def test_a_hard_link_index_made_earlier_is_not_trusted_when_a_name_moves_outside(course: Path) -> None:
    first = notebook_path(course, "alice")
    shutil.copy(source_path(course), first)
    second = notebook_path(course, "bob")
    os.link(first, second)
    assert read_submitted(second)  # the index of submitted/ is made now: both names inside
    outside = course / "outside.ipynb"
    os.link(second, outside)  # a third name, outside, after the index was made
    with pytest.raises(InvalidNotebook, match="hard link to a file outside"):
        read_submitted(second)


def test_a_linked_submitted_folder_is_the_instructors_and_is_followed(course: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "hand-ins"
    (elsewhere / "alice" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(source_path(course), elsewhere / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    (course / "submitted").symlink_to(elsewhere, target_is_directory=True)
    [submission] = find_submissions(course, (ASSIGNMENT,))
    assert read_notebook(submission.path).cells


def test_a_notebook_larger_than_the_limit_is_refused(course: Path) -> None:
    path = notebook_path(course, "large")
    shutil.copy(source_path(course), path)
    with pytest.raises(InvalidNotebook, match="more than the limit of 1,000"):
        read_notebook(path, max_bytes=1000)


def test_the_cluster_ships_only_plain_files_and_refuses_the_rest_here(course: Path) -> None:
    good = notebook_path(course, "alice")
    shutil.copy(source_path(course), good)
    bad = [symlink_to_source(course), fifo(course), hard_link_to_source(course)]
    submissions = list(find_submissions(course, (ASSIGNMENT,)))
    notebooks, refused = notebooks_to_ship(submissions, course)
    assert [(s.student, content) for s, content in notebooks.items()] == [("alice", good.read_bytes())]
    assert sorted(result.student for result in refused) == sorted(path.parents[1].name for path in bad)
    assert all(result.status.value == "INVALID_NOTEBOOK" and result.score == 0 for result in refused)


# Graded end to end: the attacks among a reference and a pair of hard-linked copies of it


@pytest.fixture(scope="module")
def graded(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cnn_quiz's reference, two hard-linked copies of it, and every attack, graded as one batch."""
    course = make_course(repo, tmp_path_factory.mktemp("links"), [Variant(REFERENCE, ASSIGNMENT)], untouched=False)
    reference = course / "submitted" / REFERENCE / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    os.link(reference, notebook_path(course, "hard-linked-copy"))
    for attack, _ in ATTACKS:
        try:
            attack(course)
        except pytest.skip.Exception:
            pass  # no device node where making one is not allowed
    autograde_course(course, assignments=(ASSIGNMENT,))
    return course


def graded_result(course: Path, student: str) -> dict:
    return json.loads((course / "autograded" / student / ASSIGNMENT / "results.json").read_text())


@pytest.mark.parametrize("student", [REFERENCE, "hard-linked-copy"])
def test_the_reference_and_its_hard_linked_copy_score_full_marks(graded: Path, student: str) -> None:
    result = graded_result(graded, student)
    assert result["status"] == "OK"
    assert result["score"] == sum(test["max_score"] for test in result["tests"]) > 0


@pytest.mark.parametrize(("attack", "reason"), ATTACKS, ids=[attack.__name__ for attack, _ in ATTACKS])
def test_every_attack_is_invalid_and_shows_no_solution(graded: Path, attack: Callable[[Path], Path],
                                                       reason: str) -> None:
    student = attack.__name__.replace("_", "-")
    if not os.path.lexists(graded / "submitted" / student):
        pytest.skip("this attack could not be made here")
    result = graded_result(graded, student)
    assert result["status"] == "INVALID_NOTEBOOK"
    assert result["score"] == 0 and reason in result["output"]
    out = graded / "autograded" / student / ASSIGNMENT
    assert not (out / f"{ASSIGNMENT}.ipynb").exists(), "a refused submission was executed"
    page = (graded / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    for text in (page, (out / "results.json").read_text()):
        assert not any(line in text for line in SOLUTION_LINES)
