"""The ``grader`` command line: ``release``, ``reference``, ``autograde``, ``report``, ``kit``, ``gradescope`` and
``check``."""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from grader.batch.cluster import ClusterError
from grader.course.layout import CourseError, source_notebook
from grader.data import DatasetError


def _assignments(args: argparse.Namespace) -> tuple[str, ...]:
    """The assignments a command works on: ``--assignment`` or all of the course's, checked against their folders."""
    from grader.course.catalog import course_catalog

    catalog = course_catalog(args.course)
    return (catalog.check(args.assignment),) if args.assignment else catalog.assignments


def run_release(args: argparse.Namespace) -> int:
    """Regenerate ``release/`` from ``source/`` and list the student notebooks."""
    from grader.release.generate import release_assignment

    print(f"{'assignment':<16} {'cells':>5}  student notebook")
    for assignment in _assignments(args):
        released = release_assignment(args.course, assignment)
        print(f"{released.assignment:<16} {released.n_cells:>5}  {released.path.relative_to(args.course)}")
    return 0


def run_reference(args: argparse.Namespace) -> int:
    """Execute the instructor notebooks headlessly and print each one's test points."""
    from grader.pipeline.execute import ExecutionOptions, earned_points, execute_notebook

    failed = 0
    print(f"{'assignment':<16} {'points':>11} {'seconds':>8}  result")
    with tempfile.TemporaryDirectory(prefix="grader-reference-") as scratch:
        for assignment in _assignments(args):
            workdir = Path(scratch) / assignment
            executed = execute_notebook(
                source_notebook(args.course, assignment), workdir / f"{assignment}.ipynb", workdir,
                ExecutionOptions(cell_timeout=args.timeout),
            )
            earned, possible = earned_points(executed)
            error = executed.first_error
            result = "ok" if error is None else f"cell {error.index} raised {error.error_name}"
            failed += error is not None
            print(f"{assignment:<16} {earned:>5g} / {possible:<3g} {executed.wall_seconds:>8.1f}  {result}")
    return 1 if failed else 0


def run_autograde(args: argparse.Namespace) -> int:
    """Grade every submission under ``submitted/``: a line per result, a progress bar, a summary."""
    from grader.batch.progress import GradingProgress
    from grader.batch.run import autograde_course

    progress = GradingProgress()
    elsewhere = None
    if args.scheduler:
        from grader.batch.cluster import graded_on_cluster

        elsewhere = functools.partial(graded_on_cluster, args.scheduler)
    chosen = (args.assignment,) if args.assignment else None  # checked there; its hidden checks once there is work
    results = autograde_course(args.course, chosen, args.student, on_result=progress.add,
                               workers=args.workers or os.cpu_count() or 1, timeout=args.timeout,
                               force=args.force, elsewhere=elsewhere, on_start=progress.start)
    if not results:
        print(f"no submissions under {args.course / 'submitted'}")
    print(progress.summary())
    print(f"grades.csv written to {args.course / 'grades.csv'}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    """Write the class report, grades.csv and nbgrader's own CSV export from what was graded."""
    from nbgrader.api import Gradebook

    from grader.course.catalog import course_assignments
    from grader.feedback.report import write_class_report
    from grader.results.gradebook import gradebook_url, put_tools_on_path
    from grader.results.gradebook_export import export_grades_csv
    from grader.results.records import all_results, write_grades_csv

    chosen = (args.assignment,) if args.assignment else None
    results = all_results(args.course, course_assignments(args.course, chosen))  # grades nothing: checks unread
    report = write_class_report(args.course, results)
    write_grades_csv(args.course / "grades.csv", results)
    put_tools_on_path()
    with Gradebook(gradebook_url(args.course)) as gradebook:
        exported = export_grades_csv(gradebook, args.course / "report" / "nbgrader_grades.csv")
    print(f"{len(results)} graded notebook(s)")
    for label, path in (("class report", report), ("grades.csv", args.course / "grades.csv"),
                        ("nbgrader export", exported)):
        print(f"{label:<16} {path}")
    return 0


def run_kit(args: argparse.Namespace) -> int:
    """Build the student kit: release notebooks, the self-check and the student digits."""
    from grader.release.kit import build_kit

    out = build_kit(args.course, (args.out or args.course / "student-kit").resolve())
    print(f"student kit written to {out}; students run: python -m grader check release/<id>/<id>.ipynb")
    return 0


def run_gradescope(args: argparse.Namespace) -> int:
    """Write one assignment's Gradescope autograder zip."""
    from grader.release.gradescope import build_autograder

    if not args.assignment:
        raise CourseError("grader gradescope needs --assignment ID: a Gradescope autograder grades one assignment")
    out = build_autograder(args.course, _assignments(args)[0], (args.out or Path("autograder.zip")).resolve())
    print(f"Gradescope autograder written to {out} ({out.stat().st_size / 1e6:.1f} MB): upload it as the "
          "assignment's autograder (Configure Autograder -> Zip file upload)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="grader", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, handler, help_text in (
        ("release", run_release, "regenerate release/ from source/ with nbgrader"),
        ("reference", run_reference, "execute the instructor notebooks and print their test points"),
        ("autograde", run_autograde, "grade submitted/ with the hidden checks"),
        ("report", run_report, "write report/index.html, grades.csv and nbgrader's CSV export"),
        ("kit", run_kit, "build the student kit: release notebooks and what `grader check` needs"),
        ("gradescope", run_gradescope, "write one assignment's Gradescope autograder zip (setup.sh, run_autograder)"),
    ):
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument("--course", type=Path, default=Path("."), help="course folder (default: .)")
        command.add_argument("--assignment", help="only this assignment")
        command.set_defaults(handler=handler)
        if name == "kit":
            command.add_argument("--out", type=Path, help="where to write it (default: COURSE/student-kit)")
        if name == "gradescope":
            command.add_argument("--out", type=Path, help="the zip to write (default: ./autograder.zip)")
        if name == "reference":
            command.add_argument("--timeout", type=float, default=600, help="seconds per cell")
        if name == "autograde":
            command.add_argument("--student", help="only this student")
            command.add_argument("--workers", type=int, help="submissions graded at once (default: the cores)")
            command.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                                 help="grade on this Dask cluster instead (workers need this project installed)")
            command.add_argument("--timeout", type=float, help="seconds one notebook may run")
            command.add_argument("--force", action="store_true", help="grade again what was already graded")
    commands.add_parser("check", add_help=False, help="a student's self-check of NOTEBOOK: runs it, reports the "
                        "visible tests (no course folder needed; `grader check --help` for its options)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``grader`` console script and of ``python -m grader``."""
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["check"]:  # a student's command: no course folder needed
        from grader.release.selfcheck import main as check

        if Path("source").is_dir():  # run from a course: its assignments are checked against their folders first
            try:
                _assignments(argparse.Namespace(course=Path.cwd(), assignment=None))
            except CourseError as err:
                print(f"grader: {err}", file=sys.stderr)
                return 2
        return check(arguments[1:])
    args = build_parser().parse_args(arguments)
    args.course = args.course.resolve()
    if not (args.course / "source").is_dir():
        print(f"grader: {args.course} has no source/ folder; pass --course", file=sys.stderr)
        return 2
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except (CourseError, DatasetError, ClusterError) as err:
        print(f"grader: {err}", file=sys.stderr)
        return 2
