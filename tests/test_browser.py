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
            assert len(images) == 11 and all(done and width > 0 for done, width in images), images
            assert page.locator("figure figcaption").count() == 11
            # Every contents link leads to a section on the page.
            targets = page.eval_on_selector_all("nav a", "els => els.map(e => e.getAttribute('href'))")
            assert len(targets) >= 6
            for target in targets:
                assert page.locator(target).count() == 1, target
            assert "chance that Oxfordshire County Council's programme meets its MTFP target" in page.inner_text("body")
            assert problems == []  # nothing fetched from outside, no script errors
        finally:
            browser.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_whatif_page_moves_the_p80_to_the_python_apis_value(tmp_path, config_2024):
    """Start the what-if page, load it in Chromium, move a control: the P80 shown becomes the value the Python
    API gives for the same setting; a bad value gets the config's message; "Save as scenario" then "Run in
    full" make a run folder with the scenario in it; nothing is fetched from outside the machine."""
    sync_playwright = _browser_or_skip()
    import time

    import fsp_risk
    from fsp_risk.analysis.summary import summary_table
    from fsp_risk.app.page import serve
    from fsp_risk.app.whatif import WhatIf

    n = 4_096
    state = WhatIf(config_2024, n, save_to=tmp_path / "saved.yaml", out=tmp_path / "runs",
                   run_args=["--iterations", "2000", "--keep", "summaries", "--quiet"])

    def p80(**kwargs):
        ds = fsp_risk.simulate(config_2024, iterations=n, **kwargs)
        row = summary_table(ds).query("variable == 'net_change_to_mtfp' and year == 'total'").iloc[0]
        return f"{row['p80_prudent']:.2f}"

    port = _free_port()
    server = serve(state, port=port, threaded=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                outside, errors = [], []
                page.on("request", lambda r: None if r.url.startswith((f"http://127.0.0.1:{port}", "data:", "blob:"))
                        else outside.append(r.url))
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                for _ in range(100):  # the server thread starts listening
                    try:
                        page.goto(f"http://127.0.0.1:{port}/")
                        break
                    except Exception:
                        time.sleep(0.1)
                page.locator(".p80").wait_for(timeout=30_000)
                assert page.locator(".p80").get_attribute("data-value") == p80()

                page.locator(".mode-sw_turnover button", has_text="Pin").click()
                box = page.locator(".pin-sw_turnover input")
                box.fill("0.3")
                box.press("Enter")
                expected = p80(overrides={"sw_turnover": 0.3})
                page.locator(f".p80[data-value='{expected}']").wait_for(timeout=30_000)
                assert float(expected) > float(p80())  # higher turnover, more pressure

                box.fill("abc")
                box.press("Enter")
                page.locator(".problem").wait_for(timeout=30_000)
                assert ("pin.sw_turnover: expected a number, got 'abc'" in page.locator(".problem").inner_text())
                assert page.locator(".p80").get_attribute("data-value") == expected  # the last valid settings kept
                box.fill("0.3")
                box.press("Enter")
                page.locator(".problem").wait_for(state="detached", timeout=30_000)

                page.locator(".scenario-name input").fill("turnover_30")
                page.locator(".save button").click()
                page.locator("pre.yaml").wait_for(timeout=30_000)
                assert "sw_turnover: 0.3" in page.locator("pre.yaml").inner_text()
                page.locator(".run button").click()
                page.locator(".run-status", has_text="Finished.").wait_for(timeout=180_000)
                folders = list((tmp_path / "runs").iterdir())
                assert len(folders) == 1
                assert "turnover_30" in (folders[0] / "scenarios.csv").read_text(encoding="utf-8")
                assert outside == [] and errors == []
            finally:
                browser.close()
    finally:
        server.stop()
