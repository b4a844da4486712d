"""How fast does the what-if page answer? Start-up, first load and 20 control changes, in a real browser.

Usage (from the project root; needs Chromium from the system packages and Playwright):
    python benchmarks/whatif.py [--config CONFIG] [--iterations N] [--changes 20]

Starts ``fsp-risk whatif`` as a user would (its own process, localhost), then in headless Chromium:

- **start-up**: from starting the command to the page being served (drawing the inputs once, the base
  case, its charts and the controls);
- **first load**: from opening the address to the headline and fan chart on screen;
- **update**: for each of ``--changes`` changes (social-worker turnover pinned at a new value each time,
  typed and Enter pressed), from the key press to both the P80 shown and the fan chart's image having
  changed: what the user waits for. Median and worst are reported.

Run by hand and report on the issue; the browser test (tests/test_browser.py) checks the values, not the times.
"""
from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

CONFIG = "configs/oxfordshire-2024-commissioning.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=CONFIG)
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    port = free_port()
    cmd = [sys.executable, "-m", "fsp_risk", "whatif", args.config, "--port", str(port)]
    if args.iterations:
        cmd += ["--iterations", str(args.iterations)]
    t0 = time.perf_counter()
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read()
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit("fsp-risk whatif stopped before serving the page")
                time.sleep(0.1)
        startup = time.perf_counter() - t0
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            t = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator(".p80").wait_for()
            page.locator(".fan img").wait_for()
            first_load = time.perf_counter() - t
            page.locator(".mode-sw_turnover button", has_text="Pin").click()
            box = page.locator(".pin-sw_turnover input")
            box.wait_for()
            page.wait_for_timeout(1000)  # the pin at its central value, applied on switching mode
            times = []
            for k in range(args.changes):
                value = 0.13 + 0.16 * k / max(args.changes - 1, 1)  # a new value each time: the P80 moves
                before = page.locator(".p80").get_attribute("data-value")
                fan_before = page.locator(".fan img").get_attribute("src")
                box.fill(f"{value:.4f}")
                t = time.perf_counter()
                box.press("Enter")
                page.wait_for_function(
                    """([p80, fan]) => {
                        // Panel draws each pane in its own shadow root: search through them.
                        const find = (root, sel) => { const q = [root];
                            while (q.length) { const n = q.shift(); const hit = n.querySelector(sel); if (hit) return hit;
                                n.querySelectorAll('*').forEach(e => e.shadowRoot && q.push(e.shadowRoot)); } return null; };
                        const a = find(document, '.p80'), host = find(document, '.fan');
                        const img = host && find(host.shadowRoot || host, 'img');
                        return a && img && a.dataset.value !== p80 && img.getAttribute('src') !== fan && img.complete; }""",
                    arg=[before, fan_before], polling="raf")
                times.append(time.perf_counter() - t)
            browser.close()
    finally:
        server.terminate()
        server.wait()
    print(f"config: {args.config}; live iterations: {args.iterations or 'default'}")
    print(f"start-up (command to page served): {startup:.2f} s")
    print(f"first load (address to headline and fan chart): {first_load:.2f} s")
    print(f"update, {len(times)} changes (Enter to new P80 and fan chart on screen): median {statistics.median(times):.3f} s, "
          f"worst {max(times):.3f} s, best {min(times):.3f} s")


if __name__ == "__main__":
    main()
