"""Feedback pages and the class report in headless Chromium: no console error, every picture shown.

The pages come from the session's graded class (``graded_course``, tests/conftest.py). Each page
is opened from disk (``file://``) and kept as a screenshot in ``test-artifacts/browser/``
(``$GRADER_TEST_ARTIFACTS``); tests/browser.py starts the browser and holds the checks.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest

from grader.cli import main
from tests.browser import assert_page_renders, inspect_page, load_page, no_browser
from tests.graded_class import FIGURES
from tests.submissions import ASSIGNMENTS

BROKEN = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>broken</title></head><body>
<img alt="fine" src="data:image/png;base64,{png}">
<img alt="broken" src="data:image/png;base64,AAAA">
<script>console.error("something went wrong")</script></body></html>
"""
CLEAN = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>clean</title></head><body><p>hi</p></body></html>'


@pytest.fixture(scope="module")
def report_course(graded_course: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the graded class with ``grader report`` run in it (the shared class stays untouched)."""
    course = tmp_path_factory.mktemp("report") / "course"
    shutil.copytree(graded_course, course, ignore=shutil.ignore_patterns("model.pt"))
    assert main(["report", "--course", str(course)]) == 0  # in this process: the session has its imports
    return course


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_reference_feedback_page_shows_its_pictures(browser: Any, graded_course: Path, assignment: str) -> None:
    student = f"correct-reference-{assignment}"
    page = graded_course / "feedback" / student / assignment / f"{assignment}.html"
    report = load_page(browser, page.as_uri(), f"feedback-{assignment}")
    assert_page_renders(report, FIGURES[assignment])
    assert browser.title == f"{assignment}: feedback for {student}"
    page_width = browser.execute_script("return document.body.clientWidth")
    assert all(image["shownWidth"] <= page_width for image in report.images)  # pictures fit the page


def test_the_untouched_release_page_renders_without_pictures(browser: Any, graded_course: Path) -> None:
    page = graded_course / "feedback" / "untouched-release" / "mnist_mlp" / "mnist_mlp.html"
    assert_page_renders(load_page(browser, page.as_uri(), "feedback-untouched-mnist_mlp"), 0)


def linked_files(driver: Any) -> list[Path]:
    """The local files that the page's links point to."""
    hrefs = driver.execute_script("return Array.from(document.links).map(a => a.href);")
    return [Path(unquote(urlparse(href).path)) for href in hrefs if href.startswith("file://")]


def test_the_class_report_renders_and_links_to_feedback(browser: Any, report_course: Path) -> None:
    from selenium.webdriver.common.by import By

    folder = report_course / "report"
    report = load_page(browser, (folder / "index.html").as_uri(), "class-report")
    assert_page_renders(report, 1)  # the score distribution chart
    pages = {folder / f"{assignment}.html" for assignment in ASSIGNMENTS}
    assert pages <= set(linked_files(browser))  # every assignment's page, from the summaries
    targets = []
    for page in sorted(pages):
        assert_page_renders(load_page(browser, page.as_uri(), f"class-report-{page.stem}"), 0)
        targets += linked_files(browser)
    feedback = [target for target in targets if target.parents[2].name == "feedback"]  # beside the back links
    graded = list((report_course / "autograded").glob("*/*/results.json"))
    assert len(set(feedback)) == len(graded) > 0
    assert all(target.is_file() for target in targets), [t for t in targets if not t.is_file()]

    load_page(browser, (folder / "mnist_mlp.html").as_uri(), "class-report-mnist_mlp")
    browser.find_element(By.LINK_TEXT, "correct-reference-mnist_mlp").click()
    followed = inspect_page(browser, "class-report-to-feedback-mnist_mlp")
    assert followed.url.endswith("/feedback/correct-reference-mnist_mlp/mnist_mlp/mnist_mlp.html")
    assert_page_renders(followed, FIGURES["mnist_mlp"])


def test_the_checks_catch_a_broken_picture_and_a_console_error(browser: Any, tmp_path: Path) -> None:
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (3, 2), "teal").save(png, format="PNG")
    page = tmp_path / "broken.html"
    page.write_text(BROKEN.format(png=base64.b64encode(png.getvalue()).decode("ascii")), encoding="utf-8")
    report = load_page(browser, page.as_uri(), "self-test-broken")
    assert [(image["naturalWidth"], image["naturalHeight"]) for image in report.images] == [(3, 2), (0, 0)]
    assert [image["src"] for image in report.broken_images()] == ["data:image/png;base64,AAAA"]
    assert any("something went wrong" in entry["message"] for entry in report.severe())
    with pytest.raises(AssertionError, match="console errors"):
        assert_page_renders(report, 2)
    with pytest.raises(AssertionError, match="broken pictures"):
        assert_page_renders(dataclasses.replace(report, console=[]), 2)


def test_a_page_missing_its_pictures_fails(browser: Any, tmp_path: Path) -> None:
    page = tmp_path / "clean.html"
    page.write_text(CLEAN, encoding="utf-8")
    report = load_page(browser, page.as_uri(), "self-test-no-pictures")
    assert_page_renders(report, 0)
    with pytest.raises(AssertionError, match="0 picture"):
        assert_page_renders(report, 1)


def test_a_missing_browser_skips_unless_the_run_requires_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRADER_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no chromium"):
        no_browser("no chromium")
    monkeypatch.setenv("GRADER_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="GRADER_REQUIRE_BROWSER=1 but no chromium"):
        no_browser("no chromium")
