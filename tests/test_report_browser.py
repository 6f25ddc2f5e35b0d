"""The HTML leaderboard in a real headless browser (Debian's chromium, driven by playwright).

Skipped where chromium or playwright is missing, except in CI (CI set), where both must exist:
.ci/run installs chromium from Debian and the test extra brings playwright. Playwright's own
browser downloads are never used (no `playwright install`): the page is a local file and the
browser is launched with networking features off.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import require_tool
from test_report import SUITE, add_pca_and_gwas, make_records

from genobench.report import render_leaderboard

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
EVIL = "<script>alert(1)</script>"
ROOT = Path(__file__).resolve().parent.parent


def _sync_playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("playwright is required in CI (pip install -e .[test])")
        pytest.skip("playwright not installed")
    return sync_playwright


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    """A leaderboard with every kind of plot, a failed generator, and a generator whose name
    and description are markup."""
    records = add_pca_and_gwas(make_records(seeds=(1, 2)))
    for record in records:
        if record["generator"] == "gen_c" and record["seed"] == 1:
            record["generator_info"]["description"] = '<img src=x onerror="alert(2)">'
    evil = [dict(r, generator=EVIL) for r in records if r["generator"] == "gen_a"]
    paths = render_leaderboard(records + evil, tmp_path_factory.mktemp("browser"),
                               title="Browser test")
    return paths["html"]


@pytest.fixture(scope="module")
def browser():
    executable = require_tool("chromium")
    sync_playwright = _sync_playwright()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS,
                                             headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, page_file):
    """The leaderboard, loaded; ``page.problems`` collects console errors, uncaught page
    errors, dialogs (an injected alert would open one) and failed requests."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.problems = []
    page.on("console", lambda message: message.type == "error"
            and page.problems.append(f"console: {message.text}"))
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: page.problems.append(f"request: {request.url}"))

    def dialog(dialog):
        page.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", dialog)
    page.goto(page_file.as_uri(), wait_until="load")
    yield page
    context.close()


def suite_order(page) -> list[str]:
    return page.eval_on_selector_all(
        "table.leaderboard tbody tr", "rows => rows.map(row => row.dataset.generator)")


def test_page_loads_without_errors(page):
    assert page.title() == "Browser test"
    assert page.problems == []
    # The markup in plugin-supplied text is shown as text, never run or rendered.
    assert page.locator(f'table.leaderboard tr[data-generator="{EVIL}"]').count() == 1
    assert EVIL in page.inner_text("table.leaderboard")
    assert page.locator("table.leaderboard img").count() == 0
    assert page.evaluate("document.scripts.length") == 1


def test_sorting_a_column_reorders_rows(page):
    before = suite_order(page)
    # by scorecard fidelity, gate-passing first; EVIL has gen_a's values
    assert before[:4] == ["gen_c", "gen_b", "gen_a", EVIL]
    header = page.locator('table.leaderboard th[data-metric="fst"]')
    header.click()  # Fst: lower is better, so ascending; the failed row (no value) last
    assert suite_order(page) == ["real_holdout", "gen_b", "gen_c", "gen_a", EVIL,
                                 "independent_sites", "permuted_frequencies", "broken"]
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert suite_order(page) == ["permuted_frequencies", "independent_sites", "gen_a", EVIL,
                                 "gen_c", "gen_b", "real_holdout", "broken"]
    assert header.get_attribute("aria-sort") == "descending"
    page.locator('table.leaderboard th[data-metric="aats"]').click()  # target 0.5: closest first
    assert suite_order(page)[:2] == ["real_holdout", "gen_c"]
    assert page.problems == []


def test_plots_render(page):
    images = page.eval_on_selector_all(
        ".plots img", "images => images.map(i => [i.alt, i.complete, i.naturalWidth])")
    assert [alt.removesuffix(f", suite {SUITE}") for alt, _, _ in images] == [
        "Scorecard", "LD decay", "Allele frequencies", "Population structure (PCA)",
        "Adversarial accuracy (AATS)", "GWAS (mirrored Manhattan)", "Quality against cost"]
    assert all(complete and width > 0 for _, complete, width in images), images
    boxes = [page.locator(".plots img").nth(i).bounding_box() for i in range(len(images))]
    assert all(box and box["width"] > 100 and box["height"] > 100 for box in boxes)


@pytest.mark.parametrize("folder", ["baseline/quick", "published/standard"])
def test_committed_leaderboard_pages(browser, folder):
    """The leaderboards of real runs (the regression baseline, the published standard-suite
    leaderboard) load cleanly too."""
    page_file = ROOT / "reports" / folder / "leaderboard.html"
    if not page_file.exists():
        pytest.skip(f"no committed leaderboard in reports/{folder}")
    context = browser.new_context()
    page = context.new_page()
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(page_file.as_uri(), wait_until="load")
    widths = page.eval_on_selector_all(".plots img", "images => images.map(i => i.naturalWidth)")
    rows = page.locator("table.leaderboard tbody tr").count()
    context.close()
    assert problems == [] and widths and all(width > 0 for width in widths)
    assert rows > 0
