"""The what-if page's rows of the benchmark harness: a control change to the redrawn
chart, and ``netsim serve``'s start-up.

``netsim serve`` runs in a process of its own (as a user starts it) at 10,000 draws;
the system's headless Chromium, driven by playwright, opens the page and makes a
scripted sequence of changes, one after the other, each typed into a control's number
box as a user would. The page measures each change itself: from the input event to
the redrawn charts and tables (their layout included), and publishes it as
``data-latency-ms`` with ``data-revision``; the harness also times each change from
its own side (driving the browser included) and reads the server's own time per run.
The start-up is timed from the process's start to the page's first answer (its HTML,
then its state: the page drawable). playwright comes with the ``serve-test`` extra;
without it or without Chromium the change row says skipped.

Run alone, ``python benchmarks/whatif.py`` prints both rows; with ``--against SOURCE``
(the folder holding another netsim's ``netsim`` package, e.g. an export of an older
commit) it times that source and this one in alternation, each round starting each
server in turn, and prints the medians side by side with their ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

Row = tuple[str, str, str, str]
NAME = "what-if page: control change to redrawn chart, 10,000 draws"
STARTUP_NAME = "`netsim serve`, process start to the page served, 10,000 draws"
ROOT = Path(__file__).resolve().parents[1]

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


@contextlib.contextmanager
def serving(config: Path, draws: int, source: Path | None = None) -> Iterator[tuple[str, float]]:
    """``netsim serve config`` in a process of its own (the netsim package of ``source``
    if given, else this checkout's); yields the page's address and the seconds from the
    process's start to the page's HTML and state served. Stopped with SIGTERM on leaving."""
    # ``python -m`` puts its working folder first on the path: the source's, so that its
    # netsim is the one imported
    source = ROOT if source is None else source
    environment = {**os.environ, "PYTHONPATH": str(source)}
    command = [sys.executable, "-m", "netsim.cli", "serve", str(config), "--port", "0"]
    started = time.perf_counter()
    server = subprocess.Popen(
        [*command, "--draws", str(draws)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=source,
    )
    try:
        url = next(line.split()[-1] for line in server.stdout if "http://" in line)
        for path in ("", "api/state"):
            with urllib.request.urlopen(url + path, timeout=60) as response:
                response.read()
        yield url, time.perf_counter() - started
    finally:
        # SIGTERM: a harness started in the background passes SIGINT on ignored
        server.send_signal(signal.SIGTERM)
        try:
            server.communicate(timeout=30)
        finally:
            server.kill()  # a no-op once it has ended
            server.wait()


def change_latencies(url: str, chromium: str) -> tuple[list[float], list[float], list[float]]:
    """Milliseconds of each scripted change: measured by the page (input event to the
    redrawn charts and tables), by the driving script, and the server's own run."""
    from playwright.sync_api import sync_playwright

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
            server = timing.split("server ")[1].split(" ms")[0]  # "1,234.5" past a second
            on_server.append(float(server.replace(",", "")))
        browser.close()
    return in_page, outside, on_server


def _chromium() -> tuple[str | None, str]:
    """The system's Chromium with playwright to drive it, or None and why not."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return None, "Chromium is not installed"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return None, "pip install -e '.[serve-test]' (playwright)"
    return chromium, ""


def whatif_row(config: Path, draws: int = 10_000) -> Row:
    """Median and 95th percentile of change-to-redraw over ~30 scripted changes."""
    chromium, missing = _chromium()
    if chromium is None:
        return (NAME, "skipped", missing, "< 100 ms")
    with serving(config, draws) as (url, _):
        in_page, outside, on_server = change_latencies(url, chromium)
    median, p95 = statistics.median(in_page), _percentile(in_page, 0.95)
    note = (
        f"p95 {p95:.0f} ms; {len(in_page)} scripted changes typed into number boxes in headless "
        f"Chromium, measured by the page from the input event to the redrawn charts and "
        f"tables; the server's run (load, sample, propagate, bands) median "
        f"{statistics.median(on_server):.0f} ms; seen by the driving script "
        f"{statistics.median(outside):.0f} ms"
    )
    return (NAME, f"{median:.0f} ms median, {p95:.0f} ms p95", note, "< 100 ms")


def startup_row(config: Path, draws: int = 10_000, repeat: int = 5) -> Row:
    """Median seconds from ``netsim serve``'s process start to its page and state served."""
    seconds = []
    for _ in range(repeat):
        with serving(config, draws) as (_, started):
            seconds.append(started)
    note = (
        f"median of {repeat} starts (range {min(seconds):.2f}-{max(seconds):.2f} s): "
        "import, load and calibrate, the base run, bind, then GET / and /api/state answered"
    )
    return (STARTUP_NAME, f"{statistics.median(seconds):.2f} s", note, "-")


def against(config: Path, other: Path, rounds: int, draws: int) -> None:
    """Print start-up and change latency of ``other``'s netsim and this one's, measured
    in alternation (``rounds`` starts of each; a latency series of each every round)."""
    chromium, missing = _chromium()
    sources = {"other": other, "this": ROOT}
    startup: dict[str, list[float]] = {name: [] for name in sources}
    latency: dict[str, list[float]] = {name: [] for name in sources}
    server_ms: dict[str, list[float]] = {name: [] for name in sources}
    for _ in range(rounds):
        for name, source in sources.items():
            with serving(config, draws, source) as (url, started):
                startup[name].append(started)
                if chromium is not None:
                    in_page, _, on_server = change_latencies(url, chromium)
                    latency[name].append(statistics.median(in_page))
                    server_ms[name].append(statistics.median(on_server))
    _compare("start-up", "s", startup, rounds)
    if chromium is None:
        print(f"change latency skipped: {missing}")
        return
    _compare("change latency (median of each round's 30 changes)", "ms", latency, rounds)
    _compare("server's run (median of each round's 30 runs)", "ms", server_ms, rounds)


def _compare(what: str, unit: str, series: dict[str, list[float]], rounds: int) -> None:
    """Print each source's median and values of ``series``, then the median ratio of
    this to other over the rounds' pairs."""
    for name, values in series.items():
        shown = ", ".join(f"{v:.3g}" for v in values)
        print(f"{what}, {name}: median {statistics.median(values):.3g} {unit} ({shown})")
    pairs = zip(series["this"], series["other"], strict=True)
    ratio = statistics.median(this / other for this, other in pairs)
    print(f"{what}: this/other, median of {rounds} pairs in alternation: {ratio:.3f}")


def main() -> None:
    """``python benchmarks/whatif.py [--against SOURCE] [--rounds N] [--draws N]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, help="another netsim source folder")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--draws", type=int, default=10_000)
    args = parser.parse_args()
    config = ROOT / "configs" / "net_market.toml"
    if args.against is not None:
        against(config, args.against.resolve(), args.rounds, args.draws)
        return
    print(startup_row(config, args.draws, args.rounds))
    print(whatif_row(config, args.draws))


if __name__ == "__main__":
    main()
