"""``python -m grader.release.gradescope_run``: in Gradescope's container, grade the submission, write results.json.

``run_autograder`` (see :mod:`grader.release.gradescope`) calls this for each submission. The
notebook comes from ``$GRADESCOPE_ROOT/submission`` (default ``/autograder``), is graded as
``grader autograde`` grades one submission (rebuild, sandbox, probes, hidden checks, feedback),
and its results.json goes to ``$GRADESCOPE_ROOT/results/results.json``. Whatever happens, that
file is written: a missing notebook or a grader failure is a zero with its reason.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from grader.course.layout import grade_points, source_notebook, submitted_folder
from grader.results.records import Status, SubmissionResult, write_results_json, zero_result

ROOT_VARIABLE = "GRADESCOPE_ROOT"
STUDENT = "gradescope"  # the one student of the container's course


class NoNotebook(ValueError):
    """The submission holds no notebook the grader can take for the assignment."""


def gradescope_root() -> Path:
    """Gradescope's root folder: ``$GRADESCOPE_ROOT``, else ``/autograder``."""
    return Path(os.environ.get(ROOT_VARIABLE) or "/autograder")


def submitted_notebook(submission: Path, assignment: str) -> Path:
    """``<assignment>.ipynb`` anywhere in ``submission``, else its only notebook; else :class:`NoNotebook`."""
    notebooks = sorted(path for path in submission.rglob("*.ipynb")
                       if path.is_file() and not path.is_symlink() and ".ipynb_checkpoints" not in path.parts)
    named = [path for path in notebooks if path.name == f"{assignment}.ipynb"]
    if named or len(notebooks) == 1:
        return (named or notebooks)[0]
    found = ", ".join(str(path.relative_to(submission)) for path in notebooks[:5]) or "none"
    raise NoNotebook(f"expected one notebook named {assignment}.ipynb in the submission; found: {found}")


def grade_submission(course: Path, assignment: str, root: Path) -> SubmissionResult:
    """Grade the notebook under ``root/submission`` in ``course``; a missing notebook is a zero with its reason."""
    import nbformat

    from grader.batch.run import autograde_course

    points = grade_points(nbformat.read(source_notebook(course, assignment), as_version=4))
    try:
        notebook = submitted_notebook(root / "submission", assignment)
    except NoNotebook as error:
        return zero_result(STUDENT, assignment, Status.INVALID_NOTEBOOK, str(error), points)
    target = submitted_folder(course, STUDENT, assignment) / f"{assignment}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(notebook, target)
    results = autograde_course(course, (assignment,), STUDENT, workers=1, force=True)
    return next(result for result in results if result.assignment == assignment)


def main(argv: list[str] | None = None) -> int:
    """Grade and write results.json; exit 0 once it is written (Gradescope reads the file, not the exit code)."""
    parser = argparse.ArgumentParser(prog="run_autograder", description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", required=True)
    parser.add_argument("--course", type=Path, required=True)
    args = parser.parse_args(argv)
    root, course = gradescope_root(), args.course.resolve()
    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    try:
        result = grade_submission(course, args.assignment, root)
    except Exception as error:  # noqa: BLE001 - no result is lost: the student sees a zero and why
        print(f"run_autograder: {type(error).__name__}: {error}", file=sys.stderr)
        result = zero_result(STUDENT, args.assignment, Status.GRADER_ERROR,
                             f"the grader failed: {type(error).__name__}: {error}", {})
    write_results_json(results, result)
    print(f"{args.assignment}: {result.score:.2f} / {result.max_score:.2f} ({result.status.value}) -> {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
