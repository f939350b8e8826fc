"""The HTML report (netsim.present.report): its template, escaping, and its sections for
runs with draws and runs reduced to bands. The rendering in headless Chromium is in
tests/test_analysis_cli.py."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources

import pytest

import netsim
from netsim.present.report import render_report

from .helpers import small_scenario

HOSTILE_SOURCE = "assumption: <script>alert('x')</script> & \"quoted\" <b>bold</b>"


class _Page(HTMLParser):
    """The tags, table ids and text of a page, as a browser's parser reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.tables: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "table":
            self.tables.append(dict(attrs)["id"])

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def hostile_run():
    document = small_scenario()
    document["drivers"]["d0"]["impact"]["source"] = HOSTILE_SOURCE
    return netsim.simulate(netsim.load_scenario(document), 200, seed=2)


def _parsed(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def test_the_template_ships_with_the_package():
    template = resources.files("netsim.present").joinpath("templates/report.html")
    assert template.is_file()


def test_a_source_is_shown_exactly_and_never_read_as_markup(hostile_run):
    page = render_report(hostile_run)
    parsed = _parsed(page)
    assert "script" not in parsed.tags and "b" not in parsed.tags
    text = "".join(parsed.text)
    assert "<script>alert('x')</script> & \"quoted\" <b>bold</b>" in text
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize(
    ("reduced", "tables"),
    [
        pytest.param(
            False,
            ["bands-0", "bands-1", "bands-2", "sensitivity", "convergence", "inputs"],
            id="draws",
        ),
        pytest.param(True, ["bands-0", "bands-1", "bands-2", "inputs"], id="reduced"),
    ],
)
def test_sections_of_each_kind_of_run(hostile_run, reduced, tables):
    if reduced:
        run = netsim.simulate(netsim.load_scenario(small_scenario()), 200, seed=2, reduce="bands")
    else:
        run = hostile_run
    page = render_report(run)
    parsed = _parsed(page)
    headings = re.findall(r"<h2>([^<]*)</h2>", page)
    assert headings == ["Forecast bands", "Sensitivity", "Convergence", "Inputs", "Assumptions"]
    assert [t for t in parsed.tables if t != "assumptions"] == tables
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert ("reduced to bands" in page) == reduced
