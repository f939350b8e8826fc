"""The what-if page's row of the benchmark harness: a control change to the redrawn chart.

``netsim serve`` runs in a process of its own (as a user starts it) at 10,000 draws;
the system's headless Chromium, driven by playwright, opens the page and makes a
scripted sequence of changes, one after the other, each typed into a control's number
box as a user would. The page measures each change itself: from the input event to
the redrawn charts and tables (their layout included), and publishes it as
``data-latency-ms`` with ``data-revision``; the harness also times each change from
its own side (driving the browser included) and reads the server's own time per run.
playwright comes with the ``serve-test`` extra; without it or without Chromium the
row says skipped.
"""

from __future__ import annotations

import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

Row = tuple[str, str, str, str]
NAME = "what-if page: control change to redrawn chart, 10,000 draws"

# (control key, values it takes in turn): every value valid, so every change runs
SEQUENCE = (
    ("drivers.targeted_prrt_expansion.impact.mode", (1.6, 1.8, 2.0, 2.2, 1.5, 1.2)),
    ("events.isotope_outage.probability.value", (0.2, 0.3, 0.1, 0.05, 0.15, 0.25)),
    ("market.base_scale.mode", (0.98, 0.96, 1.01, 1.02, 1.0, 0.99)),
    ("restraints.isotope_supply.impact.mode", (-1.0, -1.2, -0.6, -0.5, -0.9, -1.1)),
    ("drivers.rising_prevalence.impact.high", (2.0, 2.2, 1.9, 1.6, 1.8, 2.4)),
)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def whatif_row(config: Path, draws: int = 10_000) -> Row:
    """Median and 95th percentile of change-to-redraw over ~30 scripted changes."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return (NAME, "skipped", "Chromium is not installed", "< 100 ms")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return (NAME, "skipped", "pip install -e '.[serve-test]' (playwright)", "< 100 ms")
    command = [sys.executable, "-m", "netsim.cli", "serve", str(config), "--port", "0"]
    server = subprocess.Popen(
        [*command, "--draws", str(draws)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = next(line.split()[-1] for line in server.stdout if "http://" in line)
        in_page, outside, on_server = [], [], []
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.wait_for_selector("body[data-revision='1']", timeout=60_000)
            revision = 1
            changes = [(key, values[i]) for i in range(6) for key, values in SEQUENCE]
            for key, value in changes:
                box = page.locator(f'.control[data-key="{key}"] input[type=number]')
                started = time.perf_counter()
                box.fill(str(value))
                revision += 1
                page.wait_for_selector(
                    f"body[data-revision='{revision}'][data-busy='0']", timeout=60_000
                )
                outside.append(1000 * (time.perf_counter() - started))
                in_page.append(float(page.get_attribute("body", "data-latency-ms")))
                timing = page.inner_text("#timing")
                on_server.append(float(timing.split("server ")[1].split(" ms")[0]))
            browser.close()
    finally:
        # SIGTERM: a harness started in the background passes SIGINT on ignored
        server.send_signal(signal.SIGTERM)
        try:
            server.communicate(timeout=30)
        finally:
            server.kill()  # a no-op once it has ended
            server.wait()
    median, p95 = statistics.median(in_page), _percentile(in_page, 0.95)
    note = (
        f"p95 {p95:.0f} ms; {len(in_page)} scripted changes typed into number boxes in headless "
        f"Chromium, measured by the page from the input event to the redrawn charts and "
        f"tables; the server's run (load, sample, propagate, bands) median "
        f"{statistics.median(on_server):.0f} ms; seen by the driving script "
        f"{statistics.median(outside):.0f} ms"
    )
    return (NAME, f"{median:.0f} ms median, {p95:.0f} ms p95", note, "< 100 ms")


if __name__ == "__main__":  # the row alone: python benchmarks/whatif.py
    print(whatif_row(Path(__file__).resolve().parents[1] / "configs" / "net_market.toml"))
