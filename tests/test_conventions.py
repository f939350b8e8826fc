"""Files by the conventions: the CF-1.10 attributes of every NetCDF file netsim writes
(checked by the IOOS compliance checker), and a unit in the header of every CSV."""

from __future__ import annotations

import csv
import io
import json

import pytest
import xarray as xr

import netsim
from netsim.cli import main
from netsim.run.conventions import NETSIM_UNITS

from .conftest import CONFIGS, NET_CONFIG

# the checker's own failure on string coordinates (it subtracts labels to test that they
# increase): a limit of the checker, not a finding about the file
CHECKER_EXCEPTION = "check_coordinate_variables_strict_monotonicity"


@pytest.fixture(scope="module")
def written(tmp_path_factory, net) -> dict[str, object]:
    """One file of each kind netsim writes to NetCDF, by kind."""
    folder = tmp_path_factory.mktemp("cf")
    files = {}
    run = netsim.simulate(net, 200, seed=5)
    files["run"] = netsim.write_netcdf(run, folder / "run.nc")
    files["reduced run"] = netsim.write_netcdf(
        netsim.simulate(net, 600, seed=5, reduce="bands"), folder / "reduced.nc"
    )
    files["base case"] = netsim.write_netcdf(netsim.deterministic(net), folder / "base.nc")
    files["sobol"] = netsim.write_netcdf(netsim.sobol(net, 64, "total", "region"), folder / "s.nc")
    files["spearman"] = netsim.write_netcdf(
        netsim.spearman(run, "total", "global").to_dataset(name="spearman"), folder / "r.nc"
    )
    bull = netsim.load_scenario(CONFIGS / "bull.toml")
    files["comparison"] = netsim.write_netcdf(
        netsim.compare(net, {"bull": bull}, draws=200, seed=5), folder / "c.nc"
    )
    files["reconciliation"] = netsim.write_netcdf(
        netsim.reconcile(net, draws=200, seed=5, by="region"), folder / "rec.nc"
    )
    return files


KINDS = ["run", "reduced run", "base case", "sobol", "spearman", "comparison", "reconciliation"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", [pytest.param(k, id=k.replace(" ", "-")) for k in KINDS])
def test_every_netcdf_file_passes_the_cf_checker(kind, written, tmp_path, capsys):
    """Every check of the compliance checker at CF-1.10, strict criteria, passes: no error
    and no warning."""
    from compliance_checker.runner import CheckSuite, ComplianceChecker

    CheckSuite.load_all_available_checkers()
    report = tmp_path / "report.json"
    # its second value says whether a check raised (the one on string coordinates does)
    passed, _ = ComplianceChecker.run_checker(
        str(written[kind]),
        ["cf:1.10"],
        verbose=0,
        criteria="strict",
        output_filename=str(report),
        output_format="json",
    )
    result = json.loads(report.read_text())["cf:1.10"]
    messages = [
        f"{check['name']}: {message}"
        for check in result["all_priorities"]
        for message in check["msgs"]
    ]
    assert messages == []
    assert result["scored_points"] == result["possible_points"]
    assert passed
    printed = capsys.readouterr()
    exceptions = [line for line in printed.out.splitlines() if line.startswith("cf:1.10.")]
    assert all(CHECKER_EXCEPTION in line for line in exceptions), exceptions


@pytest.mark.slow
def test_a_unit_udunits_does_not_know_is_named_in_the_file_and_read_back(written):
    """In the file, 'USD million' and 'patients' are in each variable's long_name (CF's
    units would have to be UDUNITS); netsim reads them back as units."""
    with xr.open_dataset(written["run"], engine="h5netcdf") as raw:
        assert raw.attrs["Conventions"] == "CF-1.10"
        assert raw.attrs["title"] == "NET treatment market: Monte Carlo market forecast, 200 draws"
        assert raw.attrs["history"].startswith(f"netsim {netsim.__version__}: written (seed 5")
        assert "scenario_document" in raw.attrs["references"]
        assert "units" not in raw["total"].attrs
        assert raw["total"].attrs["long_name"] == "market value (USD million)"
        assert raw["total"].attrs[NETSIM_UNITS] == "USD million"
        assert raw["patients"].attrs["long_name"].endswith("(patients)")
        assert raw["year"].attrs == {"long_name": "calendar year"}  # a label, no unit
        assert raw["draw"].attrs["units"] == "1"
        assert raw["country"].attrs["long_name"] == "country"
    run = netsim.open_run(written["run"])
    assert run["total"].attrs == {"long_name": "market value", "units": "USD million"}
    assert run["patients"].attrs["units"] == "patients"
    assert "long_name" not in run["year"].attrs  # as the run in memory: nothing added
    with xr.open_dataset(written["reconciliation"], engine="h5netcdf") as raw:
        assert raw["ratio"].attrs["units"] == "1"  # a unit UDUNITS reads is kept


@pytest.mark.slow
def test_a_file_written_again_keeps_its_history(written, tmp_path):
    again = netsim.write_netcdf(netsim.open_run(written["run"]), tmp_path / "again.nc")
    with xr.open_dataset(again, engine="h5netcdf") as raw:
        lines = raw.attrs["history"].splitlines()
    assert len(lines) == 2 and lines[0] == lines[1]


def _csv_headers(path) -> list[str]:
    return next(csv.reader(io.StringIO(path.read_text())))


@pytest.mark.slow
def test_every_csv_names_its_units(tmp_path, capsys):
    """bands, compare and reconcile: every column of numbers names its unit."""
    run = tmp_path / "run.nc"
    assert main(["run", str(NET_CONFIG), "--draws", "300", "--out", str(run)]) == 0
    growth = ["bands", str(run), "--cagr", "2026", "2031"]
    assert main([*growth, "--csv", str(tmp_path / "g.csv")]) == 0
    assert main(["bands", str(run), "--by", "region", "--csv", str(tmp_path / "b.csv")]) == 0
    compare = ["compare", str(NET_CONFIG), str(CONFIGS / "bull.toml"), "--draws", "300"]
    assert main([*compare, "--csv", str(tmp_path / "c.csv")]) == 0
    reconcile = ["reconcile", str(NET_CONFIG), "--draws", "300", "--no-plot"]
    assert main([*reconcile, "--csv", str(tmp_path / "r.csv")]) == 0
    capsys.readouterr()
    bands = _csv_headers(tmp_path / "b.csv")
    assert bands[:2] == ["year", "region"]
    assert all(h.endswith("(USD million)") for h in bands[2:])
    assert _csv_headers(tmp_path / "g.csv")[1] == "P5 (% per year)"
    compared = _csv_headers(tmp_path / "c.csv")
    assert compared[:2] == ["scenario", "year"]
    assert [h for h in compared if h.startswith("diff")] == [
        "diff P5 (USD million)",
        "diff P50 (USD million)",
        "diff P95 (USD million)",
    ]
    reconciled = _csv_headers(tmp_path / "r.csv")
    assert "top-down P50 (USD million)" in reconciled
    assert "patient P50 (USD million)" in reconciled
    assert "ratio P50" in reconciled  # patient-based / top-down: a ratio, no unit
