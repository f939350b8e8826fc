"""Plots, the HTML report (rendered in headless Chromium) and the analysis CLI commands."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
import xarray as xr

import netsim
from netsim.cli import main

from .conftest import CONFIGS, NET_CONFIG

PRRT_EUROPE = [
    "--output",
    "by_modality",
    "--by",
    "region",
    "--at",
    "region=Europe",
    "modality=PRRT",
]


@pytest.fixture(scope="module")
def run_file(tmp_path_factory, net):
    path = tmp_path_factory.mktemp("runs") / "net.nc"
    netsim.write_netcdf(netsim.simulate(net, 2000, seed=4), path)
    return path


@pytest.fixture(scope="module")
def sobol_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("sens") / "sobol.nc"
    status = main(
        [
            "sensitivity",
            str(NET_CONFIG),
            "--method",
            "sobol",
            "--draws",
            "64",
            "--group",
            "driver",
            *PRRT_EUROPE,
            "--out",
            str(path),
        ]
    )
    assert status == 0
    return path


def assert_valid_image(path, min_bytes=5_000):
    assert path.exists() and path.stat().st_size >= min_bytes, path
    if path.suffix == ".png":
        import matplotlib.image

        pixels = matplotlib.image.imread(path)
        assert pixels.ndim == 3 and pixels.shape[0] > 200 and pixels.shape[1] > 300
        assert pixels.std() > 0.01  # not a blank canvas
    else:
        root = ElementTree.parse(path).getroot()
        assert root.tag.endswith("svg")
        assert len(list(root.iter())) > 50


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_every_plot_kind_writes_a_valid_image(tmp_path, run_file, sobol_file, suffix, capsys):
    commands = {
        "fan": ["plot", "fan", str(run_file), str(run_file)],
        "fan_cell": ["plot", "fan", str(run_file), *PRRT_EUROPE],
        "tornado": ["plot", "tornado", str(NET_CONFIG), *PRRT_EUROPE],
        "sobol": ["plot", "sobol", str(sobol_file), "--at", "region=Europe", "modality=PRRT"],
        "hist": ["plot", "hist", str(run_file)],
        "waterfall": ["plot", "waterfall", str(NET_CONFIG), *PRRT_EUROPE],
    }
    for name, command in commands.items():
        out = tmp_path / f"{name}{suffix}"
        assert main([*command, "--out", str(out)]) == 0, name
        assert_valid_image(out)


@pytest.mark.slow
def test_bands_command_prints_intervals_and_writes_csv(tmp_path, run_file, capsys):
    out = tmp_path / "bands.csv"
    status = main(["bands", str(run_file), "--by", "modality", "--year", "2031", "--csv", str(out)])
    assert status == 0
    text = capsys.readouterr().out
    assert re.search(r"2031 +PRRT", text) and "P50 low" in text
    rows = out.read_text().splitlines()
    # one column per dimension, the unit in every header of a number
    assert rows[0].startswith("year,modality,P5 (USD million),P5 low (USD million),P5 high")
    assert rows[0].endswith(",mean (USD million),sd (USD million)")
    assert len(rows) == 1 + 6
    run = netsim.open_run(run_file)
    median = netsim.bands(netsim.global_total(run["by_modality"]).sel(year=2031), 0.5)
    prrt = next(r for r in rows if r.startswith("2031,PRRT")).split(",")
    assert float(prrt[5]) == pytest.approx(float(median.sel(modality="PRRT")[0]), rel=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["tornado", "spearman", "prcc", "attribution", "tail"])
def test_sensitivity_command_each_method(tmp_path, run_file, method, capsys):
    out = tmp_path / f"{method}.nc"
    extra = ["--run", str(run_file)] if method in ("spearman", "prcc", "tail") else []
    cell = ["--by", "global"] if method == "tail" else PRRT_EUROPE
    status = main(["sensitivity", str(NET_CONFIG), "--method", method, *cell, *extra])
    assert status == 0
    text = capsys.readouterr().out
    assert method in text and ("drivers." in text or "market." in text)
    status = main(
        ["sensitivity", str(NET_CONFIG), "--method", method, *cell, *extra, "--out", str(out)]
    )
    assert status == 0 and out.exists()
    assert len(xr.open_dataset(out, engine="h5netcdf").data_vars) >= 1


@pytest.mark.slow
def test_sensitivity_sobol_prints_intervals(sobol_file, capsys):
    result = xr.open_dataset(sobol_file, engine="h5netcdf")
    assert "events.isotope_outage" in result["parameter"].values
    assert result.attrs["evaluations"] == 64 * (result.sizes["parameter"] + 2)


@pytest.mark.slow
def test_compare_command_with_overlays_and_set(tmp_path, capsys):
    out = tmp_path / "compare.csv"
    status = main(
        [
            "compare",
            str(NET_CONFIG),
            str(CONFIGS / "bull.toml"),
            str(NET_CONFIG),
            "--set",
            "drivers.targeted_prrt_expansion.impact.mode=1.6",
            "--draws",
            "500",
            "--csv",
            str(out),
        ]
    )
    assert status == 0
    rows = {r.split(",")[0]: r.split(",") for r in out.read_text().splitlines()[1:]}
    assert rows["net_market"][1] == "2031"
    # itself: exactly zero, and P(other > base) = 0 with its exact interval [0, 0.0074]
    assert set(float(v) for v in rows["net_market"][2:-3]) == {0.0}
    assert [float(v) for v in rows["net_market"][-3:-1]] == [0.0, 0.0074]
    assert float(rows["bull"][-4]) > 0.9
    # an overlay and --set alike keep the base's solved growth (only the change differs)
    assert rows["bull"][-1] == "the base's"
    changed = next(k for k in rows if k.startswith("net_market with"))
    assert rows[changed][-1] == "the base's" and float(rows[changed][-4]) > 0.5
    assert (
        main(
            [
                "compare",
                str(NET_CONFIG),
                str(CONFIGS / "bull.toml"),
                "--draws",
                "200",
                "--recalibrate",
            ]
        )
        == 0
    )
    assert "solved anew" in capsys.readouterr().out


@pytest.mark.slow
def test_run_with_precision_stops_and_reports(tmp_path, capsys):
    out = tmp_path / "precise.nc"
    status = main(
        ["run", str(NET_CONFIG), "--precision", "2%", "--draws", "300", "--out", str(out)]
    )
    assert status == 0
    text = capsys.readouterr().out
    assert "precision: target +-2 %" in text and "met" in text
    run = netsim.open_run(out)
    assert run.attrs["precision_achieved"] <= 0.02 and run.attrs["precision_met"] == 1


@pytest.mark.slow
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bands", "missing.nc"], "file not found"),
        (["plot", "fan", "RUN", "--out", "OUT/fan.gif"], "png or .svg"),
        (["plot", "hist", "RUN", "--at", "year=1999", "--out", "OUT/h.png"], "not one of"),
        (
            ["plot", "hist", "RUN", "--by", "region", "--out", "OUT/h.png"],
            "the cell must name region",
        ),
        (["sensitivity", "CONFIG", "--method", "tornado", "--at", "planet=Mars"], "planet"),
        (["sensitivity", "CONFIG", "--output", "by_colour"], "by_colour"),
        (["run", "CONFIG", "--precision", "abc"], "--precision"),
        (["run", "CONFIG", "--precision", "1%", "--sampler", "lhs"], "sampler mc"),
        (["compare", "CONFIG"], "another scenario"),
        (["report", "RUN", "--out", "OUT/report.pdf"], ".html"),
    ],
)
def test_analysis_bad_input_exit_2_nothing_written(tmp_path, run_file, argv, message, capsys):
    replace = {"RUN": str(run_file), "CONFIG": str(NET_CONFIG)}
    argv = [replace.get(a, a).replace("OUT", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.startswith("netsim: error:") and message in error
    assert "Traceback" not in error
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_report_is_self_contained_html(tmp_path, run_file, sobol_file, capsys):
    out = tmp_path / "report.html"
    status = main(
        [
            "report",
            str(run_file),
            "--out",
            str(out),
            "--sensitivity",
            str(sobol_file),
            "--at",
            "region=Europe",
            "modality=PRRT",
        ]
    )
    assert status == 0
    text = out.read_text()
    for table in ("bands-0", "sensitivity", "sobol", "convergence", "inputs"):
        assert f'id="{table}"' in text
    assert "http://" not in text and "https://" not in text  # nothing fetched from outside
    # fan, histogram, Sobol, cross-check; three segments' products, four launches' pages
    assert text.count("data:image/png;base64,") == 4 + 3 + 4
    assert 'id="products"' in text and "Products and their value" in text
    assert "report: " not in text or "assumption" in text
    assert "market.base_scale" in text


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
def test_report_renders_in_headless_chromium(tmp_path, run_file):
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium) -- report not rendered")
    page = tmp_path / "report.html"
    netsim_report = __import__("netsim.present.report", fromlist=["render_report"])
    html = netsim_report.render_report(netsim.open_run(run_file))
    probe = (
        "<script>document.body.setAttribute('data-probe', JSON.stringify({"
        "tables: [...document.querySelectorAll('table')].map(t => "
        "[t.id, Math.round(t.getBoundingClientRect().height), t.rows.length]),"
        "images: [...document.querySelectorAll('img')].map(i => i.naturalWidth)}));</script>"
    )
    page.write_text(html.replace("</body>", probe + "</body>"))
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    import html as html_module
    import json
    import re

    match = re.search(r'data-probe="([^"]*)"', result.stdout)
    assert match, result.stdout[:2000]
    probe_data = json.loads(html_module.unescape(match.group(1)))
    tables = {name: (height, rows) for name, height, rows in probe_data["tables"]}
    for name in (
        "bands-0",
        "bands-1",
        "bands-2",
        "sensitivity",
        "convergence",
        "inputs",
        "assumptions",
        "reconcile-0",
        "reconcile-1",
        "products",
    ):
        height, rows = tables[name]
        assert height > 20 and rows > 2, (name, height, rows)
    assert tables["inputs"][1] == 1 + len(netsim.open_run(run_file)["parameter"])
    # every figure of the scenario with its source: each number (or list of numbers) of
    # the NET file, counted here from the TOML itself
    assert tables["assumptions"][1] == 1 + _figures(tomllib.loads(NET_CONFIG.read_text()))

    # the fan, the histogram, the patient-based cross-check's fans, the three segments'
    # products stacked and the four launches' pages
    assert len(probe_data["images"]) == 3 + 3 + 4 and all(w > 300 for w in probe_data["images"])
    assert tables["products"][1] == 1 + len(netsim.open_run(run_file)["product"])


@pytest.mark.slow
def test_bands_exceedance_and_cagr(run_file, capsys):
    assert main(["bands", str(run_file), "--year", "2031", "--exceed", "4300"]) == 0
    text = capsys.readouterr().out
    run = netsim.open_run(run_file)
    total = netsim.global_total(run["total"]).sel(year=2031).values
    assert f"{np.mean(total > 4300):.4f}" in text
    # every draw above 100: P = 1 with its exact interval reaching below 1, never a zero
    # standard error
    assert main(["bands", str(run_file), "--year", "2031", "--exceed", "100"]) == 0
    text = capsys.readouterr().out
    assert "Clopper-Pearson" in text
    chance = text[text.index("P(value > 100)") :].splitlines()
    row = next(line for line in chance if line.strip().startswith("2031"))
    probability, low, high = (float(v) for v in row.split()[-3:])
    assert probability == 1.0 and 0.99 < low < 1.0 and high == 1.0
    assert main(["bands", str(run_file), "--by", "region", "--cagr", "2026", "2031"]) == 0
    text = capsys.readouterr().out
    assert "CAGR, % per year" in text and re.search(r"2026-2031 +Asia-Pacific", text)
    assert main(["bands", str(run_file), "--cagr", "2031", "2026"]) == 2


def _figures(table: dict) -> int:
    count = 0
    for value in table.values():
        if isinstance(value, dict):
            count += _figures(value)
        elif _number(value) or (isinstance(value, list) and value and all(map(_number, value))):
            count += 1
    return count


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
