"""Student code sees an allow-list of the file tree (grader.sandbox.jail_root): nothing else of the host exists for it.

Canaries are planted at random paths outside the course (/var/tmp, /opt, /srv, /root, the home
folder, beside the checkout), in the checkout the grader runs from (its root, source/, grader/)
and in the course; a spy reads and lists them from a forked jail, the exec'd kernel path, a
kernel forked from the warm server and the probe process, and reports back through its scratch.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

import grader
from grader.sandbox.jail import JailSpec, enter_jail
from grader.sandbox.policy import Sandbox, isolation_mode, jail_spec, make_scratch, sandbox_module_files

pytestmark = pytest.mark.skipif(isolation_mode() != "namespaces", reason="needs the namespaced sandbox")

SPY = '''
def _spy(paths, report):
    import json, os
    import grader
    seen = {}
    for path in paths:
        try:
            with open(path, "rb") as handle:
                handle.read(1)
            seen[path] = "read"
        except OSError as error:
            folder, name = os.path.split(path)
            try:
                seen[path] = "listed" if name in os.listdir(folder) else type(error).__name__
            except OSError as listing:
                seen[path] = type(listing).__name__
    held = []  # a folder held open from outside would be a way around the new root
    for handle in os.listdir("/proc/self/fd"):
        try:
            if os.path.isdir(f"/proc/self/fd/{handle}"):
                held.append(os.readlink(f"/proc/self/fd/{handle}"))
        except OSError:
            continue
    package = os.path.dirname(os.path.abspath(grader.__file__))
    files = sorted(os.path.relpath(os.path.join(folder, name), package) for folder, _, names in os.walk(package)
                   for name in names if name.endswith(".py"))
    found = {"paths": seen, "root": sorted(os.listdir("/")), "package": files,
             "checkout": sorted(os.listdir(os.path.dirname(package))), "held_folders": held}
    with open(report, "w") as handle:
        json.dump(found, handle)
'''
CANARY_FOLDERS = ("/var/tmp", "/opt", "/srv", "/root", "/tmp", "/mnt")


def spy(paths: list[str], report: str) -> str:
    """Code that reads and lists ``paths`` and writes what it saw to ``report`` (in its working folder)."""
    return f"{SPY}\n_spy({paths!r}, {report!r})\n"


@pytest.fixture(scope="module")
def canaries(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Random files outside the course, in the checkout and in a course that is not the checkout."""
    course = tmp_path_factory.mktemp("view") / "course"
    for folder in ("source", "release"):
        shutil.copytree(repo / folder, course / folder)
    shutil.copy(repo / "nbgrader_config.py", course / "nbgrader_config.py")
    folders = [Path(path) for path in CANARY_FOLDERS if os.path.isdir(path)]
    folders += [Path.home(), repo.parent, repo, repo / "source", repo / "grader", repo / "grader" / "checks",
                repo / "grader" / "assignments", course]
    planted = []
    for folder in dict.fromkeys(folders):
        path = folder / f"canary-{secrets.token_hex(6)}"
        path.write_text("secret")
        planted.append(path)
    try:
        yield {"course": course, "paths": [str(path) for path in planted]}
    finally:
        for path in planted:
            path.unlink(missing_ok=True)


def sandbox(course: Path, scratch: Path) -> JailSpec:
    """The spec of a submission of ``course`` whose scratch folder is ``scratch``."""
    make_scratch(scratch)
    return jail_spec(Sandbox(), scratch, course, 1)


def expected_root(spec: JailSpec) -> set[str]:
    """The top-level names of the allow-list: what ``os.listdir('/')`` may show in the sandbox."""
    paths = (*spec.read_only, *spec.devices, *(path for path, _ in spec.links), spec.scratch, "/proc", "/tmp", "/etc")
    return {path.split("/")[1] for path in paths}


def assert_saw_only_the_allow_list(found: dict, spec: JailSpec, repo: Path, canaries: list[str]) -> None:
    assert {path: how for path, how in found["paths"].items() if how in ("read", "listed")} == {}
    assert set(found["paths"]) == set(canaries) and found["held_folders"] == []
    assert set(found["root"]) == expected_root(spec)
    assert not {"home", "srv", "opt", "var", "mnt", "media", "boot", "run"} & set(found["root"])
    package = Path(grader.__file__).resolve().parent
    expected = sorted(path.relative_to(package).as_posix() for path in sandbox_module_files())
    assert found["package"] == expected, "grader modules, one by one"
    assert not {"checks", "probes", "assignments"} & {Path(name).parts[0] for name in found["package"]}
    allowed = (*spec.read_only, *(link for link, _ in spec.links))  # a linked .venv is its link
    shown = {Path(path).relative_to(repo).parts[0] for path in allowed if Path(path).is_relative_to(repo)}
    assert set(found["checkout"]) == shown and not {"source", "tests", ".git"} & shown


def run_forked(spec: JailSpec, action: str) -> dict:
    """Fork, enter the sandbox as the probe process does, run ``action`` there; what it reported as JSON."""
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        code = 1
        try:
            os.close(reader)
            enter_jail(spec)
            namespace: dict = {}
            exec(action, namespace)
            os.write(writer, json.dumps(namespace["result"]).encode())
            code = 0
        except BaseException:  # noqa: BLE001 - the parent's assertion says why
            os.write(writer, traceback.format_exc().encode())
        finally:
            os._exit(code)
    os.close(writer)
    with os.fdopen(reader, "rb") as stream:
        text = stream.read()
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0 and text, text.decode(errors="replace")[-3000:]
    return json.loads(text)


def test_a_forked_sandbox_sees_only_the_allow_list(repo: Path, canaries: dict, tmp_path: Path) -> None:
    spec = sandbox(canaries["course"], tmp_path / "scratch")
    found = run_forked(spec, spy(canaries["paths"], "spy.json") + "import json\nresult = json.load(open('spy.json'))\n")
    assert_saw_only_the_allow_list(found, spec, repo, canaries["paths"])


UNDO = '''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def errno_of(call):
    return "done" if call() == 0 else os.strerror(ctypes.get_errno())
result = {
    "umount": errno_of(lambda: libc.umount2(HIDDEN.encode(), 2)),
    "remount": errno_of(lambda: libc.mount(None, PREFIX.encode(), None, ctypes.c_ulong(32 | 4096), None)),
    "hidden": os.listdir(HIDDEN),
}
try:
    open(os.path.join(PREFIX, "zz-sandbox-wrote.pth"), "w")
    result["write"] = "done"
except OSError as error:
    result["write"] = type(error).__name__
'''


def test_a_sandbox_that_keeps_root_cannot_undo_its_view(canaries: dict, tmp_path: Path) -> None:
    spec = sandbox(canaries["course"], tmp_path / "scratch")
    as_root = dataclasses.replace(spec, uid=None)  # what a root grader does when others cannot run Python
    hidden = next(path for path in spec.hidden if "mlxtend" in path)
    found = run_forked(as_root, f"HIDDEN, PREFIX = {hidden!r}, {sys.prefix!r}\n" + UNDO)
    assert found["umount"] != "done" and found["remount"] != "done", "capabilities are dropped"
    assert found["hidden"] == [] and found["write"] != "done"
    assert not (Path(sys.prefix) / "zz-sandbox-wrote.pth").exists()


def test_the_exec_d_kernel_path_sees_only_the_allow_list(repo: Path, canaries: dict, tmp_path: Path) -> None:
    spec = sandbox(canaries["course"], tmp_path / "scratch")
    spec_file = tmp_path / "scratch" / "jail.json"
    spec_file.write_text(spec.to_json())
    command = [sys.executable, "-m", "grader.sandbox.jail", str(spec_file), "--", sys.executable, "-c",
               spy(canaries["paths"], "spy.json")]
    completed = subprocess.run(command, timeout=120, env={"PATH": "/usr/bin:/bin"})
    assert completed.returncode == 0, (tmp_path / "scratch" / "kernel.log").read_text()
    found = json.loads(Path(spec.workdir, "spy.json").read_text())
    assert_saw_only_the_allow_list(found, spec, repo, canaries["paths"])


def test_a_forked_kernel_and_its_probe_process_see_only_the_allow_list(repo: Path, canaries: dict) -> None:
    import numpy as np

    from grader.batch.run import prepare_context
    from grader.kernels.warm_kernel import KernelReserve
    from grader.pipeline.autograde import SECRET_SUFFIX, probe_inputs, sandbox_run

    context = prepare_context(canaries["course"], ("cnn_quiz",))
    reserve = KernelReserve(lambda scratch: sandbox_run(context, scratch))
    ready = reserve.take()
    try:
        spec, scratch = ready.run.spec, ready.run.scratch
        client = ready.manager.blocking_client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        reply = client.execute_interactive(spy(canaries["paths"], "kernel.json"), timeout=60)
        client.stop_channels()
        assert reply["content"]["status"] == "ok"
        assert_saw_only_the_allow_list(json.loads(Path(spec.workdir, "kernel.json").read_text()), spec, repo,
                                       canaries["paths"])
        notebook = nbformat.read(repo / "source" / "cnn_quiz" / "cnn_quiz.ipynb", as_version=4)
        cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "conv_output_size")
        cell.source = spy(canaries["paths"], "probe.json")
        nbformat.write(notebook, scratch / "cnn_quiz.ipynb")
        inputs = probe_inputs("cnn_quiz", tuple(sorted(context.settings.check_parameters("cnn_quiz").items())))
        np.savez(scratch / "inputs.npz", **{k: v for k, v in inputs.items() if not k.endswith(SECRET_SUFFIX)})
        (scratch / "probes").mkdir()
        ready.probe.run("cnn_quiz", scratch / "cnn_quiz.ipynb", scratch / "inputs.npz", scratch / "probes", 60)
        assert_saw_only_the_allow_list(json.loads(Path(spec.workdir, "probe.json").read_text()), spec, repo,
                                       canaries["paths"])
    finally:
        reserve.retire(ready)
        reserve.close()


STEALS_FROM_THE_CHECKOUT = '''
import json, pathlib, grader
_source = pathlib.Path(grader.__file__).resolve().parents[1] / "source" / "cnn_quiz" / "cnn_quiz.ipynb"
try:
    _cells = json.loads(_source.read_text())["cells"]
    exec("".join(next(c["source"] for c in _cells if c["metadata"].get("nbgrader", {}).get("grade_id")
                      == "quiz_answers")))
    print("STOLEN solutions")
except OSError as _error:
    print("DENIED", type(_error).__name__)
_package = pathlib.Path(grader.__file__).parent
print("CHECKS", sorted(p.name for folder in ("checks", "assignments") for p in (_package / folder).glob("*")))
'''


def test_grading_a_course_that_is_not_the_checkout_gives_no_access_to_it(repo: Path, tmp_path: Path) -> None:
    from grader.batch.run import autograde_course
    from tests.graded_class import make_course
    from tests.redteam import WRONG_QUIZ
    from tests.submissions import Variant

    thief = Variant("thief", "cnn_quiz", {"quiz_answers": WRONG_QUIZ + STEALS_FROM_THE_CHECKOUT})
    course = make_course(repo, tmp_path, [Variant("reference", "cnn_quiz"), thief], untouched=False)
    autograde_course(course, ("cnn_quiz",), workers=1)

    def result(student: str) -> dict:
        return json.loads((course / "autograded" / student / "cnn_quiz" / "results.json").read_text())

    assert result("reference")["score"] == 14.0, "the kernel and the probe work in the new root"
    assert result("thief")["score"] == 13.0, "the wrong answers stay wrong: the solutions were out of reach"
    executed = nbformat.read(course / "autograded" / "thief" / "cnn_quiz" / "cnn_quiz.ipynb", as_version=4)
    printed = "".join(output.get("text", "") for cell in executed.cells for output in cell.get("outputs", []))
    assert "DENIED FileNotFoundError" in printed and "STOLEN" not in printed
    assert "CHECKS []" in printed
