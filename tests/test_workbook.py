"""Excel workbooks: opened with openpyxl and checked cell by cell against the analyses."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest

import netsim
from netsim.analyze.bands import run_bands
from netsim.cli.entry import main

from .conftest import CONFIGS, NET_CONFIG
from .helpers import small_scenario, write_toml

openpyxl = pytest.importorskip("openpyxl")

HEADER_ROW = 3


def _rows(sheet) -> list[dict]:
    """The sheet's rows as dicts keyed by header."""
    headers = [c.value for c in sheet[HEADER_ROW]]
    return [
        dict(zip(headers, row, strict=True))
        for row in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True)
    ]


@pytest.fixture(scope="module")
def small_run_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("workbook")
    path = folder / "run.nc"
    argv = ["run", str(NET_CONFIG), "--draws", "30", "--seed", "4", "--cube", "--out", str(path)]
    assert main(argv) == 0  # the cube: the damage test edits a cell of it
    return path


@pytest.fixture(scope="module")
def bands_book_file(tmp_path_factory, small_run_file):
    """``netsim bands RUN --xlsx`` of the small run, written once for the tests that read
    it (never change it): (path, what the command printed)."""
    out = tmp_path_factory.mktemp("bands-book") / "bands.xlsx"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["bands", str(small_run_file), "--xlsx", str(out)]) == 0
    return out, printed.getvalue()


@pytest.fixture(scope="module")
def bands_book(bands_book_file):
    """The bands workbook of the small run, opened once (read it, never change it)."""
    return openpyxl.load_workbook(bands_book_file[0])


@pytest.fixture(scope="module")
def bull_comparison_book(tmp_path_factory):
    """``netsim compare NET bull --by region --xlsx``, 500 paired draws, seed 3, written
    once for the tests that read it: (path, the workbook opened)."""
    out = tmp_path_factory.mktemp("compare-book") / "compare.xlsx"
    argv = ["compare", str(NET_CONFIG), str(CONFIGS / "bull.toml"), "--draws", "500"]
    with contextlib.redirect_stdout(io.StringIO()):
        assert main([*argv, "--seed", "3", "--by", "region", "--xlsx", str(out)]) == 0
    return out, openpyxl.load_workbook(out)


@pytest.mark.slow
def test_bands_workbook_holds_every_cell_as_numbers_with_units(
    small_run_file, bands_book_file, bands_book
):
    out, printed = bands_book_file
    assert f"wrote {out}" in printed
    book = bands_book
    # the funnel's patient counts on a sheet of their own: every header states its unit;
    # each sheet to read has its long table for machines beside it
    assert book.sheetnames == [
        "Bands",
        "Bands (long)",
        "Bands in patients",
        "Bands in patients (long)",
        "Assumptions",
    ]
    bands = book["Bands (long)"]
    headers = [c.value for c in bands[HEADER_ROW]]
    assert headers[:6] == ["output", "level", "place", "axis", "segment", "year"]
    assert "P50 (USD million)" in headers and "P95 high (USD million)" in headers
    rows = _rows(bands)
    patient_rows = _rows(book["Bands in patients (long)"])
    assert "P50 (patients)" in patient_rows[0]
    run = netsim.open_run(small_run_file)
    layout = netsim.OutputLayout.from_dataset(run)
    # every output at every level, every cell and year, on the sheet of its unit
    for sheet_rows, in_patients in ((rows, False), (patient_rows, True)):
        outputs = [o for o in layout.outputs if (layout.unit_of(o) == "patients") == in_patients]
        assert {r["output"] for r in sheet_rows} == set(outputs)
        expected_rows = sum(
            int(np.prod(layout.shape(output, by)))
            for output in outputs
            for by in ("global", "region", "country")
        )
        assert len(sheet_rows) == expected_rows
    treated = next(r for r in patient_rows if r["output"] == "patients" and r["level"] == "world")
    stored = run_bands(run, "patients", "global").sel(year=treated["year"])
    stored = stored.sel(stage=treated["segment"], quantile=0.5)
    assert treated["P50 (patients)"] == pytest.approx(float(stored["value"]), rel=1e-12)
    # the numbers are the analysis's, as numbers
    europe = run_bands(run, "by_modality", "region")
    pick = {"year": 2031, "region": "Europe", "modality": "PRRT"}
    row = next(
        r
        for r in rows
        if r["output"] == "by_modality"
        and r["level"] == "region"
        and r["place"] == "Europe"
        and r["segment"] == "PRRT"
        and r["year"] == 2031
    )
    for q in (0.05, 0.5, 0.95):
        name = f"P{100 * q:g}"
        cell = europe.sel({**pick, "quantile": q})
        assert isinstance(row[f"{name} (USD million)"], float)
        assert row[f"{name} (USD million)"] == pytest.approx(float(cell["value"]), rel=1e-12)
        high = float(cell["high"])
        shown = row[f"{name} high (USD million)"]
        # 30 draws give no upper bound for P95 at 95 %: a blank cell, never a made-up number
        assert shown is None if math.isinf(high) else shown == pytest.approx(high, rel=1e-12)
    assert any(r["P95 high (USD million)"] is None for r in rows)
    assert "blank: too few draws" in bands["A2"].value
    assert "values in USD million" in bands["A2"].value
    assert "values in patients" in book["Bands in patients"]["A2"].value


@pytest.mark.slow
def test_assumptions_sheet_lists_every_input_and_figure_with_its_source(small_run_file, bands_book):
    rows = _rows(bands_book["Assumptions"])
    run = netsim.open_run(small_run_file)
    layout = netsim.OutputLayout.from_dataset(run)
    inputs = [r for r in rows if r["kind"] == "input"]
    assert [r["parameter or figure"] for r in inputs] == list(layout.parameters)
    prevalence = next(
        r for r in inputs if r["parameter or figure"] == "drivers.rising_prevalence.impact"
    )
    assert prevalence["distribution or value"].startswith("pert(")
    assert prevalence["source"] == "report" and "+1.2%" in prevalence["quote or reason"]
    figures = {r["parameter or figure"]: r for r in rows if r["kind"] == "figure"}
    size = figures["market.base_size.value"]
    assert size["value (number)"] == 2890.0 and size["source"] == "report"
    assert all(r["source"] in ("report", "study", "assumption") for r in rows)


@pytest.mark.slow
def test_a_reduced_run_gives_its_workbook(tmp_path):
    run_path, out = tmp_path / "reduced.nc", tmp_path / "reduced.xlsx"
    argv = ["run", str(NET_CONFIG), "--draws", "3000", "--reduce", "--out", str(run_path)]
    assert main(argv) == 0
    assert main(["bands", str(run_path), "--xlsx", str(out)]) == 0
    rows = _rows(openpyxl.load_workbook(out)["Bands (long)"])
    world = next(r for r in rows if r["output"] == "total" and r["level"] == "world")
    stored = run_bands(netsim.open_run(run_path), "total", "global").sel(year=world["year"])
    assert world["P50 (USD million)"] == pytest.approx(float(stored["value"].sel(quantile=0.5)))


@pytest.mark.slow
def test_comparison_workbook_has_three_sheets_and_the_paired_differences(bull_comparison_book):
    bull = CONFIGS / "bull.toml"
    _, book = bull_comparison_book
    assert book.sheetnames == ["Bands", "Differences", "Assumptions"]
    result = netsim.compare(
        netsim.load_scenario(NET_CONFIG),
        {"bull": netsim.load_scenario(bull)},
        draws=500,
        seed=3,
        by="region",
    )
    rows = _rows(book["Differences"])
    assert len(rows) == result.sizes["year"] * result.sizes["region"]
    row = next(r for r in rows if r["place"] == "Asia-Pacific" and r["year"] == 2031)
    cell = result.sel(scenario="bull", region="Asia-Pacific", year=2031)
    assert row["difference P50 (USD million)"] == pytest.approx(
        float(cell["difference"].sel(quantile=0.5)), rel=1e-12
    )
    low = float(cell["difference_interval"].sel(bound="low", quantile=0.5))
    assert row["difference P50 low (USD million)"] == pytest.approx(low, rel=1e-12)
    assert row["P(other > base)"] == pytest.approx(float(cell["prob_greater"]))
    assert row["difference P50 low (USD million)"] <= row["difference P50 (USD million)"]
    scenarios = {r["scenario"] for r in _rows(book["Bands"])}
    assert scenarios == {"base", "bull"}
    changes = [r for r in _rows(book["Assumptions"]) if r["kind"] == "changed in bull"]
    outage = next(
        r for r in changes if r["parameter or figure"] == "events.isotope_outage.probability.value"
    )
    assert outage["value (number)"] == 0.08 and outage["distribution or value"] == "base: 0.15"


@pytest.mark.slow
def test_text_that_looks_like_a_formula_stays_text(tmp_path, capsys):
    document = small_scenario()
    document["drivers"]["d0"]["impact"]["source"] = "assumption: =1+1 is a reason"
    # the first words of the sheet's note, with a character the file format cannot hold
    document["scenario"]["name"] = '=HYPERLINK("y") \uffff'
    config, run_path, out = tmp_path / "odd.toml", tmp_path / "odd.nc", tmp_path / "odd.xlsx"
    write_toml(document, config)
    assert main(["run", str(config), "--draws", "50", "--out", str(run_path)]) == 0
    assert main(["bands", str(run_path), "--xlsx", str(out)]) == 0
    book = openpyxl.load_workbook(out)
    note = book["Bands"]["A1"].value
    assert note.startswith('=HYPERLINK("y") \ufffd')  # replaced, never a damaged file
    texts = [c.value for r in book["Assumptions"].iter_rows() for c in r]
    assert "=1+1 is a reason" in texts  # the reason, after "assumption: "
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    # a name a spreadsheet would run, or one with a character no file can hold, is refused
    # at load (docs/config.md, "Names")
    capsys.readouterr()
    for name in ('=HYPERLINK("x")', "R0-\uffff"):
        odd = small_scenario()
        shares = odd["regions"]["R0"]["country_shares"]
        shares[name] = shares.pop("R0-b")
        write_toml(odd, config)
        assert main(["validate", str(config)]) == 2
        assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.slow
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--xlsx", "OUT/bands.csv"], "expected a file ending in .xlsx"),
        (["--xlsx", "OUT/same.csv", "--csv", "OUT/same.csv"], "expected a file ending"),
        (["--xlsx", "OUT/x.xlsx", "--csv", "OUT/x.xlsx"], "expected a file ending in .csv"),
        (["--xlsx", "OUT/missing/x.xlsx"], "x.xlsx"),
    ],
)
def test_bad_workbook_paths_are_one_line_refusals(tmp_path, small_run_file, extra, message, capsys):
    extra = [a.replace("OUT", str(tmp_path)) for a in extra]
    assert main(["bands", str(small_run_file), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_damaged_run_writes_neither_the_csv_nor_the_workbook(tmp_path, small_run_file):
    import xarray as xr

    damaged = tmp_path / "damaged.nc"
    with xr.open_dataset(small_run_file) as run:
        edited = run.load()
    edited["by_modality"][0, 1, 0, 0] = np.nan
    edited.to_netcdf(damaged, engine="h5netcdf")
    out = tmp_path / "out"
    out.mkdir()
    argv = ["bands", str(damaged), "--csv", str(out / "t.csv"), "--xlsx", str(out / "t.xlsx")]
    assert main(argv) == 2
    assert list(out.iterdir()) == []


@pytest.mark.slow
def test_a_value_set_on_the_command_line_is_not_credited_to_the_report(tmp_path, capsys):
    out = tmp_path / "set.xlsx"
    argv = ["compare", str(NET_CONFIG), "--set", "drivers.rising_prevalence.impact.mode=1.5"]
    assert main([*argv, "--draws", "200", "--xlsx", str(out)]) == 0
    capsys.readouterr()
    rows = _rows(openpyxl.load_workbook(out)["Assumptions"])
    changed = [r for r in rows if str(r["kind"]).startswith("changed in")]
    assert [r["parameter or figure"] for r in changed] == ["drivers.rising_prevalence.impact.mode"]
    assert changed[0]["value (number)"] == 1.5
    assert changed[0]["source"] == "assumption"
    assert changed[0]["quote or reason"].startswith("changed from the base without a source")


class _Tables(HTMLParser):
    """The text of every cell of every table of an HTML page, by the table's id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.table: list[list[str]] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.table = self.tables.setdefault(dict(attrs).get("id", ""), [])
        elif tag == "tr" and self.table is not None:
            self.table.append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None and self.table is not None:
            self.table[-1].append("".join(self.cell))
            self.cell = None
        elif tag == "table":
            self.table = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def _report_tables(run) -> dict[str, list[list[str]]]:
    from netsim.present.report import render_report

    parser = _Tables()
    parser.feed(render_report(run))
    return parser.tables


@pytest.mark.slow
def test_every_figure_and_input_carries_its_unit(bands_book):
    rows = _rows(bands_book["Assumptions"])
    headers = [c.value for c in bands_book["Assumptions"][HEADER_ROW]]
    assert headers[3:5] == ["value (number)", "unit"]
    empty = [r["parameter or figure"] for r in rows if not r["unit"]]
    assert empty == []
    unit = {r["parameter or figure"]: r["unit"] for r in rows}
    expected = {
        "market.base_size.value": "USD million",
        "market.base_scale.mode": "x",
        "market.targets.size_2031.value": "USD million",
        "market.targets.size_2031.tolerance": "USD million",
        "market.targets.size_2031.year": "year",
        "market.targets.cagr_2026_2031.value": "% a year",
        "market.targets.cagr_2026_2031.tolerance": "pp",
        "years.final": "year",
        "regions.Europe.share.value": "%",
        "regions.Europe.country_shares.Germany": "% of the region",
        "regions.Europe.growth_premium.value": "pp a year",
        "regions.Asia-Pacific.cagr_target.value": "% a year",
        "axes.modality.segments.PRRT.share.value": "%",
        "axes.modality.segments.PRRT.cagr_target.value": "% a year",
        "drivers.rising_prevalence.impact.mode": "pp",
        "drivers.orphan_incentives.delay.mode": "years",
        "events.paltusotine.probability.value": "probability",
        "events.paltusotine.year.values": "year",
        "timelines.short.onset": "year",
        "timelines.short.ramp_years": "years",
        "noise.global_sd.value": "pp",
        "funnel.population.Germany": "persons",
        "funnel.rate.value.mode": "per 100,000 a year",
        "funnel.cost.per_market_unit": "USD per USD million",
        "funnel.cost.segments.PRRT.price_per_dose.mode": "USD a dose",
        "drivers.rising_prevalence.impact": "pp",  # an input: its parameter's unit
    }
    assert {key: unit.get(key) for key in expected} == expected
    # numbers as numbers: a figure's value is in the number column, text only for a list
    for row in rows:
        if row["kind"] == "figure":
            assert isinstance(row["value (number)"], int | float) != (
                row["distribution or value"] is not None
            )


@pytest.mark.slow
def test_the_report_s_tables_and_the_workbook_s_sheet_agree_row_for_row(small_run_file, bands_book):
    rows = _rows(bands_book["Assumptions"])
    tables = _report_tables(netsim.open_run(small_run_file))
    inputs, figures = tables["inputs"], tables["assumptions"]
    assert inputs[0] == ["parameter", "distribution", "unit", "source", "quote or reason"]
    assert figures[0] == ["figure", "value", "unit", "source", "quote or reason"]
    sheet_inputs = [
        [
            r["parameter or figure"],
            r["distribution or value"],
            r["unit"],
            r["source"],
            r["quote or reason"] or "",
        ]
        for r in rows
        if r["kind"] == "input"
    ]
    assert inputs[1:] == sheet_inputs and len(sheet_inputs) > 50
    sheet_figures = []
    for r in rows:
        if r["kind"] == "figure":
            shown = r["distribution or value"]
            value = shown if shown is not None else r["value (number)"]
            sheet_figures.append(
                [
                    r["parameter or figure"],
                    value,
                    r["unit"],
                    r["source"],
                    r["quote or reason"] or "",
                ]
            )
    assert [row[0] for row in figures[1:]] == [row[0] for row in sheet_figures]
    for html_row, sheet_row in zip(figures[1:], sheet_figures, strict=True):
        assert html_row[2:] == sheet_row[2:], html_row[0]
        assert (
            float(html_row[1]) == sheet_row[1]
            if not html_row[1].startswith("[")
            else (html_row[1] == sheet_row[1])
        )


@pytest.mark.slow
def test_changed_figures_carry_their_units(bull_comparison_book):
    _, book = bull_comparison_book
    rows = _rows(book["Assumptions"])
    changed = [r for r in rows if str(r["kind"]).startswith("changed in")]
    assert changed and all(r["unit"] for r in changed)


@pytest.mark.parametrize("name", ["net_market.toml", "bull.toml", "bear.toml"])
def test_every_figure_of_every_shipped_scenario_has_a_unit(name):
    from netsim.scenario.documents import figures

    scenario = netsim.load_scenario(CONFIGS / name)
    document = json.loads(scenario.document_json)
    missing = [f.key for f in figures(document) if not f.unit]
    assert missing == []


@pytest.mark.parametrize("report", ["COUNTRY", "GROW_FROM", "NO_SEGMENTS"])
def test_every_figure_of_a_drafted_scenario_has_a_unit(report):
    from netsim.drafting import draft, load
    from netsim.scenario.documents import figures

    from . import test_draft

    scenario = load(draft(getattr(test_draft, report)))
    document = json.loads(scenario.document_json)
    assert [f.key for f in figures(document) if not f.unit] == []
    units = {f.key: f.unit for f in figures(document)}
    assert units["market.base_size.value"] == scenario.unit


def _wide_rows(sheet) -> list[dict]:
    return _rows(sheet)


@pytest.mark.slow
def test_the_sheet_to_read_has_the_years_as_columns_and_prints_well(small_run_file, bands_book):
    """Bands: one row per cell and statistic, years across, the long sheet's numbers;
    numbers with thousands separators and the unit's decimal, frozen headers, printed
    landscape, fit to the width, the header repeated on every page."""
    book = bands_book
    sheet = book["Bands"]
    headers = [c.value for c in sheet[HEADER_ROW]]
    years = list(range(2025, 2032))
    assert headers == ["output", "level", "place", "axis", "segment", "statistic", *years]
    assert sheet["A1"].value == "NET treatment market: forecast bands by year, USD million"
    rows = _wide_rows(sheet)
    world = {r["statistic"]: r for r in rows if r["output"] == "total" and r["level"] == "world"}
    assert list(world) == ["P5", "P50", "P95", "mean", "sd", "base case"]
    long_rows = _rows(book["Bands (long)"])
    for year in years:
        cell = next(
            r for r in long_rows if (r["output"], r["level"], r["year"]) == ("total", "world", year)
        )
        assert world["P50"][year] == cell["P50 (USD million)"]
        assert world["sd"][year] == cell["sd (USD million)"]
    run = netsim.open_run(small_run_file)
    base = netsim.global_total(netsim.deterministic(netsim.load_scenario(NET_CONFIG))["total"])
    assert world["base case"][2031] == pytest.approx(float(base.sel(year=2031)), rel=1e-12)
    draws = netsim.global_total(run["total"]).sel(year=2031).values.astype(float)
    assert world["mean"][2031] == pytest.approx(draws.mean(), rel=1e-12)
    assert world["sd"][2031] == pytest.approx(draws.std(ddof=1), rel=1e-12)
    first_value = sheet.cell(row=HEADER_ROW + 1, column=7)
    assert first_value.number_format == "#,##0.0"  # 2,755.8, never 2755.77990846634
    assert book["Bands in patients"].cell(row=HEADER_ROW + 1, column=7).number_format == "#,##0"
    assert book["Bands (long)"].cell(row=HEADER_ROW + 1, column=6).number_format == "0"  # a year
    assert sheet.freeze_panes == "G4"
    assert sheet.print_title_rows == "$3:$3"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.column_dimensions["C"].width >= len("Rest of Middle East and Africa")


@pytest.mark.slow
def test_the_bands_sheet_holds_a_native_chart_of_the_world_fan(bands_book_file):
    out, _ = bands_book_file
    from zipfile import ZipFile

    with ZipFile(out) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1  # on the Bands sheet only
        xml = archive.read(charts[0]).decode()
    assert "<lineChart>" in xml
    assert re.findall(r"<v>([^<]*)</v>", xml) == ["P5", "P50", "P95", "base case"]
    assert "<f>'Bands'!$G$4:$M$4</f>" in xml  # it reads the sheet's own cells


def test_a_comparison_s_title_names_each_level_once(tmp_path, capsys):
    results = []
    net, bull = netsim.load_scenario(NET_CONFIG), netsim.load_scenario(CONFIGS / "bull.toml")
    for by in ("global", "region", "global", "global"):
        results.append(netsim.compare(net, {"bull": bull}, draws=100, seed=1, by=by))
    from netsim.present.workbook import comparison_workbook

    book = comparison_workbook(results, net, [bull])
    assert book["Bands"]["A1"].value == (
        "NET treatment market against bull: bands of each scenario, USD million"
    )
    assert book["Bands"]["A2"].value.startswith("by world and region, 100 paired draws")


LIBREOFFICE = shutil.which("libreoffice") or shutil.which("soffice")


@pytest.mark.slow
@pytest.mark.skipif(LIBREOFFICE is None, reason="LibreOffice is not installed (libreoffice-calc)")
def test_the_printed_workbook_shows_formatted_numbers(tmp_path, bands_book_file):
    """Printed to PDF by LibreOffice, the sheet shows 2,890.0 (the base case of 2025),
    never the General format's 2890 or its long decimals."""
    out, _ = bands_book_file
    result = subprocess.run(
        [LIBREOFFICE, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HOME": str(tmp_path)},  # a profile of its own
    )
    assert result.returncode == 0, result.stderr
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(tmp_path / f"{out.stem}.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "2,890.0" in text and "NET treatment market: forecast bands by year" in text
    assert not re.search(r"\b2890\b|\d\.\d{5,}", text)
