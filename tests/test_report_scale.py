"""The class report at 10,000 submissions: written in seconds, no page over 2 MB, sorted and filtered in Chromium.

Slow tier: building the class (tests/finished_class.py, no grading) and loading its pages take a minute.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from grader.feedback.report import write_class_report
from grader.results.records import all_results
from tests.browser import assert_page_renders, load_page
from tests.finished_class import make_finished_class
from tests.submissions import ASSIGNMENTS

pytestmark = pytest.mark.slow
SIZE = 10_000
SECONDS = 10.0
MAX_PAGE_BYTES = 2_000_000
SHOWN = "return Array.from(document.querySelectorAll('#rows tbody tr')).filter(r => !r.hidden).length"
COLUMN = "return Array.from(document.querySelectorAll('#rows tbody tr')).slice(0, 50).map(r => r.cells[{}].{})"


@pytest.fixture(scope="module")
def big_report(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """A finished class of 10,000 submissions and the seconds its report took: results read, pages written."""
    course = make_finished_class(repo, tmp_path_factory.mktemp("ten-thousand"), SIZE)
    started = time.perf_counter()
    write_class_report(course, all_results(course, ASSIGNMENTS))
    return course, time.perf_counter() - started


def test_ten_thousand_submissions_report_in_seconds_with_small_pages(big_report: tuple[Path, float]) -> None:
    course, seconds = big_report
    assert seconds <= SECONDS, f"the report took {seconds:.1f} s"
    pages = sorted((course / "report").glob("*.html"))
    assert [page.stem for page in pages] == sorted([*ASSIGNMENTS, "index"])
    sizes = {page.name: page.stat().st_size for page in pages}
    assert max(sizes.values()) <= MAX_PAGE_BYTES, sizes
    rows = sum((course / "report" / f"{a}.html").read_text().count("<tr><td><a href=") for a in ASSIGNMENTS)
    assert rows == SIZE


def test_the_summaries_render_at_ten_thousand(browser: Any, big_report: tuple[Path, float]) -> None:
    course, _ = big_report
    report = load_page(browser, (course / "report" / "index.html").as_uri(), "class-report-10k")
    assert_page_renders(report, 1)
    assert f"{SIZE} graded notebook(s)" in browser.find_element("tag name", "body").text


def test_an_assignment_page_sorts_and_filters_ten_thousand_rows(browser: Any, big_report: tuple[Path, float]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    course, _ = big_report
    page = course / "report" / "mnist_mlp.html"
    assert_page_renders(load_page(browser, page.as_uri(), "class-report-10k-mnist_mlp"), 0)
    expected = page.read_text().count("<tr><td><a href=")
    assert browser.execute_script(SHOWN) == expected == SIZE // len(ASSIGNMENTS)
    heads = browser.find_elements(By.CSS_SELECTOR, "#rows thead th")
    heads[1].click()  # score: lowest first
    scores = [float(v) for v in browser.execute_script(COLUMN.format(1, "getAttribute('data-v')"))]
    assert scores == sorted(scores) and scores[0] == 0.0
    heads[1].click()  # highest first
    scores = [float(v) for v in browser.execute_script(COLUMN.format(1, "getAttribute('data-v')"))]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert heads[1].get_attribute("aria-sort") == "descending"
    heads[0].click()  # student, A to Z
    names = browser.execute_script(COLUMN.format(0, "textContent"))
    assert names == sorted(names)
    browser.find_element(By.ID, "filter").send_keys("student-0001")  # students 10..19: ten rows
    assert browser.execute_script(SHOWN) == 10
    assert browser.find_element(By.ID, "count").text == f"10 of {expected} shown"
    browser.find_element(By.ID, "filter").clear()
    browser.execute_script("document.getElementById('filter').dispatchEvent(new Event('input'))")
    Select(browser.find_element(By.ID, "status")).select_by_visible_text("CELL_TIMEOUT")
    statuses = set(browser.execute_script(
        "return Array.from(document.querySelectorAll('#rows tbody tr')).filter(r => !r.hidden)"
        ".map(r => r.cells[2].textContent)"))
    assert statuses == {"CELL_TIMEOUT"} and 0 < browser.execute_script(SHOWN) < expected
