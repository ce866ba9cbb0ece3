"""The HTML comparison report: escaping and structure as text, then rendered in headless Chromium."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the hand-built scores of test_compare

from test_compare import editorial_and_report, make_document, no_embeddings  # noqa: E402

from analyzer.compare import Comparison, compare_documents  # noqa: E402
from analyzer.html_report import render_html  # noqa: E402

def compare_lexical(a, b):
    """The made-up documents carry no embeddings: align them on their words."""
    return compare_documents(a, b, embed=no_embeddings)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def comparison_with_moves() -> Comparison:
    """The editorial/report pair with B's last two shared paragraphs swapped (a moved pair)."""
    a, b = editorial_and_report()
    b.paragraphs[3], b.paragraphs[4] = b.paragraphs[4], b.paragraphs[3]
    for index, paragraph in enumerate(b.paragraphs):
        paragraph.index = index
    return compare_lexical(a, b)


def test_page_is_self_contained_and_escaped() -> None:
    hostile = '<script>alert("x")</script> & <img src="http://example.com/x.png">'
    a = make_document("a<b>", [(hostile, "body", 0.9, -0.8), ("Shared words about the seawall vote today.", "body", 0.1, 0.0)])
    b = make_document("b", [("Shared words about the seawall vote today.", "body", 0.1, 0.0)])
    page = render_html(compare_lexical(a, b))
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;" in page and "a&lt;b&gt;" in page
    own = render_html(compare_lexical(*editorial_and_report())).replace('xmlns="http://www.w3.org/2000/svg"', "")
    for reference in ("http://", "https://", "src=", "href=", "@import", "url(", "<script", "<link"):
        assert reference not in own


def test_rows_read_in_each_documents_order() -> None:
    page = render_html(comparison_with_moves())
    assert page.count('data-row="pair"') == 4
    assert page.count("data-moved") >= 1
    assert '<td class="gap" data-gap data-side="b">' in page
    assert "@media print" in page and "break-inside: avoid" in page


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium; the CI script installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_renders_in_chromium_without_requests(browser, tmp_path: Path) -> None:
    comparison = comparison_with_moves()
    path = tmp_path / "report.html"
    path.write_text(render_html(comparison), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("networkidle")

    assert requests == [path.as_uri()]
    pairs = page.locator('tr[data-row="pair"]')
    assert pairs.count() == len(comparison.pairs)
    assert pairs.first.get_attribute("data-a-index") == str(comparison.pairs[0].a_index)
    assert page.locator('tr[data-row="only-a"] td.gap').count() == len(comparison.only_a)
    assert page.locator('tr[data-row="only-b"] td.gap').count() == len(comparison.only_b)
    assert page.locator('tr[data-moved] td.para.moved').count() == len(comparison.moved) == 1
    assert page.locator('td.para.other[data-kind="boilerplate"]').count() == 1
    summary = page.locator("[data-summary] li").all_inner_texts()
    assert summary == comparison.summary
    assert page.locator("svg[data-chart] circle").count() == len(comparison.a.body) + len(comparison.b.body)
    # Reading order: A's indices go up down the page; so do B's, except the moved paragraph.
    a_order = [int(i) for i in page.locator("tr[data-a-index]").evaluate_all("rs => rs.map(r => r.dataset.aIndex)")]
    assert a_order == sorted(a_order)
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    page.emulate_media(media="print")
    page.pdf(path=str(tmp_path / "report.pdf"))
    assert (tmp_path / "report.png").stat().st_size > 10_000
    page.close()


def test_seed_report_highlights_the_editorial_leads_evidence(browser, analyzer, tmp_path: Path) -> None:
    """The real seed pair: the editorialized lead paragraphs show highlighted evidence words."""
    from tests.conftest import SEED_EDITORIAL, SEED_PLAIN

    comparison = analyzer.compare(SEED_EDITORIAL.read_text(encoding="utf-8"), SEED_PLAIN.read_text(encoding="utf-8"))
    path = tmp_path / "seed-report.html"
    path.write_text(render_html(comparison), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(path.as_uri())
    lead = [p.index for p in comparison.only_a if p.opinion.label == "opinion"]
    assert lead, "the editorialized version adds opinion paragraphs"
    for index in lead:
        cell = page.locator(f'td.para[data-side="a"][data-index="{index}"]')
        marks = cell.locator(".ev-op")
        assert marks.count() >= 1, f"A paragraph {index} shows no opinion evidence"
        title = marks.first.get_attribute("title")
        assert title.startswith("opinion evidence +")
        # the highlighted words are words of that paragraph
        assert marks.first.inner_text() in cell.inner_text()
    assert "resting on" in " ".join(page.locator("[data-summary] li").all_inner_texts())
    page.screenshot(path=str(tmp_path / "seed-report.png"), full_page=True)
    page.close()
