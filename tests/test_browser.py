"""report.html in a real browser: headless Chromium (the Debian package) driven by Playwright.

.ci/run installs Chromium and sets FSP_RISK_REQUIRE_BROWSER=1, so there a missing browser fails the suite;
elsewhere the test is skipped with the reason.
"""
import os
import shutil

import pytest

from fsp_risk.app import cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _browser_or_skip():
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason, sync_playwright = "Playwright is not installed (pip install -e '.[test]')", None
    if CHROMIUM is None:
        reason = "Chromium is not installed (apt-get install -y chromium)"
    if reason:
        if os.environ.get("FSP_RISK_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    return sync_playwright


@pytest.mark.print_charts
def test_report_html_renders_whole_in_a_browser(tmp_path):
    sync_playwright = _browser_or_skip()
    assert cli.main(["run", "--iterations", "2000", "--quiet", "--out", str(tmp_path)]) == 0
    page_path = next(tmp_path.iterdir()) / "report.html"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 800})
            problems = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else problems.append(r.url))
            page.goto(page_path.as_uri())
            # Every chart decodes and draws (an SVG that failed to parse has no natural size).
            images = page.eval_on_selector_all("figure img", "els => els.map(e => [e.complete, e.naturalWidth])")
            assert len(images) == 10 and all(done and width > 0 for done, width in images), images
            assert page.locator("figure figcaption").count() == 10
            # Every contents link leads to a section on the page.
            targets = page.eval_on_selector_all("nav a", "els => els.map(e => e.getAttribute('href'))")
            assert len(targets) >= 6
            for target in targets:
                assert page.locator(target).count() == 1, target
            assert "chance that Oxfordshire County Council's programme meets its MTFP target" in page.inner_text("body")
            assert problems == []  # nothing fetched from outside, no script errors
        finally:
            browser.close()
