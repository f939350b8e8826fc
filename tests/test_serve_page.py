"""``netsim serve``: the what-if page in the system's headless Chromium (driven by
playwright): drawn, changed, refused, coalesced per tab, downloads that set nothing."""

from __future__ import annotations

import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .whatif_serving import (
    CHROMIUM,
    ODD_NAMES,
    OUTAGE,
    PRRT_LOW,
    PRRT_MODE,
    run,
    serving_a_config_named,
    shared_server,
)

served = shared_server()


# --- the page in headless Chromium ----------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium) -- page not rendered")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(
            "playwright is not installed (pip install -e '.[serve-test]') -- page not rendered"
        )
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


def _open(browser_or_context, server):
    """A new tab of the page (in a context of its own, or of the one given), drawn."""
    page = browser_or_context.new_page()
    page.set_viewport_size({"width": 1400, "height": 1000})
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else 0)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(server.url)
    page.wait_for_selector("body[data-revision='1']", timeout=30_000)
    return page, problems


def _revision(page) -> int:
    return int(page.get_attribute("body", "data-revision"))


def _set(page, key, value):
    """Type a value into a control's number box; wait for the page to redraw."""
    revision = _revision(page)
    box = page.locator(f'.control[data-key="{key}"] input[type=number]')
    box.fill(str(value))
    # selectors, not script: the page's Content-Security-Policy forbids evaluating strings
    page.wait_for_selector(f"body[data-revision='{revision + 1}'][data-busy='0']", timeout=30_000)


def _median_2031(page, table="bands-global"):
    cell = page.locator(f'#{table} tr[data-year="2031"] td').nth(2).inner_text()
    return float(cell.replace(",", ""))


@pytest.mark.slow
def test_the_page_shows_fans_and_table_without_console_errors(browser, served):
    page, problems = _open(browser, served)
    try:
        for chart in ("#chart-global", "#chart-picked"):
            assert page.locator(f"{chart} svg polygon").count() == 2
            assert page.locator(f"{chart} svg polyline").count() == 2
        assert page.locator("#bands-global tbody tr").count() == 7
        assert page.locator("#bands-picked tbody tr").count() == 7
        title = page.locator(f'.control[data-key="{PRRT_MODE}"]').get_attribute("title")
        assert title.startswith("report: '+1.5%' impact on CAGR")
        assert "P(changed > unchanged) = 0.000" in page.inner_text("#diff-global")
        page.select_option("#view", "modality:PRRT")
        page.wait_for_selector("body[data-revision='2'][data-busy='0']", timeout=30_000)
        assert "PRRT (Treatment modality)" in page.inner_text("#bands-picked caption")
        assert problems == []
    finally:
        page.close()


@pytest.mark.slow
def test_a_change_on_the_page_redraws_and_an_invalid_one_is_refused(browser, served):
    page, problems = _open(browser, served)
    try:
        before = _median_2031(page)
        _set(page, PRRT_MODE, 2.2)
        assert _median_2031(page) > before
        assert float(page.get_attribute("#diff-global", "data-prob-greater")) > 0.5
        shown = _median_2031(page)
        _set(page, PRRT_LOW, 2.3)  # above the mode: refused beside the control
        message = page.locator(f'[data-error-for="{PRRT_LOW}"]')
        assert message.is_visible() and "must be <= mode=2.2" in message.inner_text()
        assert _median_2031(page) == shown  # nothing ran
        _set(page, PRRT_LOW, 0.75)
        assert not message.is_visible()
        page.click("#save")
        page.wait_for_selector("body[data-saved]:not([data-saved=''])", timeout=30_000)
        assert Path(page.get_attribute("body", "data-saved")).is_file()
        # the refusal's 400, which Chromium logs as a failed resource, and nothing else
        assert problems == [
            "Failed to load resource: the server responded with a status of 400 (Bad Request)"
        ]
    finally:
        page.close()


@pytest.mark.slow
def test_fast_changes_on_the_page_end_on_the_last_one(browser, served):
    page, problems = _open(browser, served)
    in_flight, most = [0], [0]

    def sent(req):
        if req.url.endswith("/api/run"):
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])

    def back(req):
        if req.url.endswith("/api/run"):
            in_flight[0] -= 1

    page.on("request", sent)
    page.on("requestfinished", back)
    page.on("requestfailed", back)
    try:
        box = page.locator(f'.control[data-key="{PRRT_MODE}"] input[type=number]')
        values = [1.55 + 0.05 * i for i in range(12)]
        for value in values:  # as fast as the browser takes them, no waiting for a redraw
            box.fill(f"{value:.2f}")
        page.wait_for_selector("body[data-busy='0']", timeout=30_000)
        expected = run(served, {PRRT_MODE: round(values[-1], 2)})[2]["global"]["fan"][2][-1]
        assert float(page.get_attribute("body", "data-median-final")) == expected
        assert most[0] == 1  # never two runs asked at once: the rest waited, coalesced
        assert problems == []
    finally:
        page.close()


def _script_page(server, stop: threading.Event) -> list:
    """A third page (a script) changing the base scale as fast as answers come, until
    ``stop`` (at most 5,000 changes); returns the answers that were not to its change."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    foreign = []
    try:
        for k in range(1, 5_001):
            if stop.is_set():
                break
            changes = {"market.base_scale.mode": round(1.0 + k * 1e-5, 6)}
            body = json.dumps({"changes": changes, "view": "global", "client": "script"})
            connection.request("POST", "/api/run", body, {"Content-Type": "application/json"})
            answer = json.loads(connection.getresponse().read())
            if answer.get("changes") != changes:
                foreign.append(answer.get("changes"))
    finally:
        connection.close()
    return foreign


@pytest.mark.slow
def test_two_tabs_changing_different_controls_each_show_their_own(browser, served):
    """Two tabs of one browser, each changing its own control on its own view as fast as
    it takes them, round after round, while a script changes a third: each tab ends
    showing its own last change, and every answer the script gets is its own."""
    context = browser.new_context()
    tabs = [_open(context, served) for _ in range(2)]
    plans = [(PRRT_MODE, 1.5, "region:Europe"), (OUTAGE, 0.15, "modality:PRRT")]
    stop = threading.Event()
    try:
        for (page, _), (_, _, view) in zip(tabs, plans, strict=True):
            page.select_option("#view", view)
            page.wait_for_selector("body[data-revision='2'][data-busy='0']", timeout=30_000)
        with ThreadPoolExecutor(1) as pool:
            script = pool.submit(_script_page, served, stop)
            try:
                for round_ in range(10):
                    for step in range(4):  # the tabs' changes interleaved, nothing awaited
                        for (page, _), (key, value, _) in zip(tabs, plans, strict=True):
                            box = page.locator(f'.control[data-key="{key}"] input[type=number]')
                            box.fill(f"{value + 0.01 * (4 * round_ + step + 1):.2f}")
                    for (page, _), (key, value, view) in zip(tabs, plans, strict=True):
                        page.wait_for_selector("body[data-busy='0']", timeout=30_000)
                        own = {key: round(value + 0.01 * (4 * round_ + 4), 2)}
                        expected = run(served, own, view)[2]
                        shown = page.get_attribute("body", "data-median-final")
                        assert float(shown) == expected["global"]["fan"][2][-1], (round_, key)
                        shown = page.get_attribute("#diff-picked", "data-median-difference")
                        assert float(shown) == expected["picked"]["difference"][1], (round_, key)
            finally:
                stop.set()
            assert script.result() == []
        assert [problems for _, problems in tabs] == [[], []]
    finally:
        context.close()


@pytest.mark.slow
def test_a_download_plugs_in_as_a_button(browser, tmp_path):
    with serving_a_config_named(tmp_path, "net_market.toml") as server:
        page, problems = _open(browser, server)
        try:
            assert page.inner_text("button[data-export='csv']") == "Download (csv)"
            with page.expect_download() as download:
                page.click("button[data-export='csv']")
            assert download.value.suggested_filename == "net_market.whatif.csv"
            assert problems == []
        finally:
            page.close()


@pytest.mark.slow
@pytest.mark.parametrize(("name", "download", "saved_as"), ODD_NAMES)
def test_a_download_name_sets_no_cookie_and_arrives_whole(
    browser, tmp_path, name, download, saved_as
):
    with serving_a_config_named(tmp_path, name) as server:
        context = browser.new_context()
        try:
            page, problems = _open(context, server)
            with page.expect_download() as started:
                page.click("button[data-export='csv']")
            page.wait_for_selector("body[data-downloaded]", timeout=30_000)
            assert context.cookies() == []  # no header was added by the name
            assert page.get_attribute("body", "data-downloaded") == download  # as the page read it
            assert started.value.suggested_filename == saved_as
            assert Path(started.value.path()).read_bytes() == b"year\n2031\n"
            assert problems == []
        finally:
            context.close()
