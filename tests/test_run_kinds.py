"""Every analysis, on the command line and in the library, against every kind of run.

``netsim run`` writes four kinds of run: a NetCDF cube (``cube``, ``--cube``), a NetCDF
record of the same draws (``record``: the inputs and the answer, the cube recomputed), the
same draws as a Zarr store (``zarr``) and a NetCDF of the run reduced to bands
(``reduced``). Each analysis either works on a run (the cube, the record and the store
giving identical numbers, the bands within 0.1 % of the cube's), or says in one line
that it needs the draws. Any path that is not a netsim run is refused in one line naming
it, with exit status 2.
"""

from __future__ import annotations

import contextlib
import html
import io
import re

import numpy as np
import pytest
import xarray as xr

import netsim
from netsim.analyze.bands import run_bands, run_exceedance
from netsim.analyze.sensitivity import analyze
from netsim.cli import main
from netsim.errors import ScenarioError
from netsim.present.plots import fan_chart
from netsim.present.report import render_report
from netsim.present.tables import run_summary

from .conftest import NET_CONFIG
from .run_kinds import DRAWS, KINDS, NON_RUNS, SEED

EXACT = ("record", "zarr")  # the cube's draws, bit for bit: every result equal to the cube's
RTOL = 1e-3  # a reduced run's bands are within 0.1 % of the exact ones


@pytest.mark.parametrize("kind", ["record", "zarr", "reduced"])
def test_netsim_run_prints_the_same_summary_for_every_kind(run_kinds_made, kind):
    def tables(text):  # the summary without its header line and the "wrote" lines
        return "\n".join(line for line in text.splitlines()[1:] if not line.startswith("wrote"))

    summary, reference = run_kinds_made[kind][1], run_kinds_made["cube"][1]
    if kind in ("record", "zarr"):
        assert tables(summary) == tables(reference)
    else:
        assert_tables_close(summary, reference, atol=0.051)  # one decimal printed


# --- helpers --------------------------------------------------------------------------------


def cli(capsys, *argv):
    """(exit status, stdout, stderr) of one in-process ``netsim`` command."""
    capsys.readouterr()
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status, err, *needles):
    assert status == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("netsim: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, err)


def assert_needs_draws(text):
    assert "\n" not in text.strip(), text
    assert re.search(r"needs? .*draws", text), text


NUMBER = re.compile(r"-?\d[\d,]*\.\d+")


def table_numbers(text):
    """Label -> the numbers of each row of printed tables (labels have no decimals; a
    label met again, in a second table, is suffixed with its table's number)."""
    rows, table = {}, 0
    for line in text.splitlines():
        numbers = NUMBER.findall(line)
        if not line.startswith("  "):
            table += 1
        elif numbers:
            label = line[: line.index(numbers[0])].strip()
            key = label if label not in rows else f"{label} #{table}"
            rows[key] = [float(n.replace(",", "")) for n in numbers]
    return rows


def without_moments(text):
    """Printed tables without the mean and sd columns a bands table has from a run's draws
    (a run reduced to bands has none): the columns every kind of run prints."""
    lines, moments = [], False
    for line in text.splitlines():
        if line.startswith("  ") and not NUMBER.search(line):  # a header
            moments = line.split()[-2:] == ["mean", "sd"]
        elif not line.startswith("  "):
            moments = False
        numbers = list(NUMBER.finditer(line))
        if moments and line.startswith("  ") and len(numbers) > 2:
            line = line[: numbers[-2].start()]
        lines.append(line)
    return "\n".join(lines)


def assert_tables_close(text, reference, rtol=RTOL, atol=0.0):
    text, reference = without_moments(text), without_moments(reference)
    got, want = table_numbers(text), table_numbers(reference)
    assert got.keys() == want.keys() and got
    for label in want:
        np.testing.assert_allclose(got[label], want[label], rtol=rtol, atol=atol, err_msg=label)


def html_numbers(page, table_id):
    """The numbers of a table of the report, without its mean and sd columns (a bands
    table has them from a run's draws; a run reduced to bands has none)."""
    match = re.search(rf'<table id="{table_id}">.*?</table>', page, re.S)
    assert match, table_id
    headers = re.findall(r"<th[^>]*>(.*?)</th>", match.group(0))
    dropped = {i for i, h in enumerate(headers) if h in ("mean", "sd")}
    numbers = []
    for row in re.findall(r"<tr>(.*?)</tr>", match.group(0), re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        kept = " | ".join(c for i, c in enumerate(cells) if i not in dropped)
        numbers += [float(n.replace(",", "")) for n in NUMBER.findall(kept)]
    return np.array(numbers)


def same_text(text, runs, kind):
    """``text`` with the run's path replaced, to compare the output of two runs."""
    return text.replace(str(runs[kind]), "RUN")


# --- the command line ------------------------------------------------------------------------

BANDS = {
    "default": [],
    "by-region": ["--by", "region"],
    "by-country": ["--by", "country"],
    "by-modality": ["--by", "modality"],
    "year": ["--year", "2031"],
    "q-three": ["--q", "0.05", "0.5", "0.95"],
    "q-one": ["--q", "0.1"],
    "exceed": ["--exceed", "4000"],
    "cagr": ["--cagr", "2026", "2031"],
    "csv": ["--csv", "{out}/bands.csv"],
}
COMMANDS = {f"bands {name}": ["bands", "{run}", *flags] for name, flags in BANDS.items()}
COMMANDS.update(
    {
        "report": ["report", "{run}", "--out", "{out}/report.html"],
        "plot fan": ["plot", "fan", "{run}", "--out", "{out}/fan.png"],
        "plot hist": ["plot", "hist", "{run}", "--out", "{out}/hist.png"],
        **{
            f"sensitivity {m}": ["sensitivity", NET_CONFIG, "--method", m, "--run", "{run}"]
            for m in ("spearman", "prcc", "tail")
        },
    }
)
# what a run reduced to bands cannot answer
NEEDS_DRAWS = {
    "bands q-one",
    "bands exceed",
    "bands cagr",
    "plot hist",
    "sensitivity spearman",
    "sensitivity prcc",
    "sensitivity tail",
}
FILES = {"bands csv": "bands.csv", "report": "report.html", "plot fan": "fan.png"}
FILES["plot hist"] = "hist.png"


def command(name, run, out):
    return [str(a).format(run=run, out=out) for a in COMMANDS[name]]


@pytest.fixture(scope="module")
def cli_results(run_kinds, tmp_path_factory):
    """(status, stdout, stderr, output folder) of a command on a kind of run, made once
    (the cube's are the reference of every other kind)."""
    done = {}

    def get(name, kind):
        if (name, kind) not in done:
            out = tmp_path_factory.mktemp("cli")
            stdout, stderr = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                status = main(command(name, run_kinds[kind], out))
            text = same_text(stdout.getvalue(), run_kinds, kind).replace(str(out), "OUT")
            done[name, kind] = (status, text, stderr.getvalue(), out)
        return done[name, kind]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", list(COMMANDS))
def test_cli_command_on_every_run_kind(name, kind, cli_results):
    status, out, err, folder = cli_results(name, kind)
    if kind == "reduced" and name in NEEDS_DRAWS:
        assert_one_line_error(status, err)
        assert_needs_draws(err)
        assert not list(folder.iterdir())  # nothing written
        return
    assert status == 0, err
    assert err == ""
    _, reference, _, reference_folder = cli_results(name, "cube")
    written = folder / FILES[name] if name in FILES else None
    if written is not None:
        assert written.is_file() and written.stat().st_size > 0
        reference_file = reference_folder / FILES[name]
    if name.startswith("bands"):  # sane: P5 <= P50 <= P95, each inside its interval
        rows = [r for r in table_numbers(without_moments(out)).values() if len(r) % 3 == 0]
        assert rows
        for row in rows:
            values, low, high = row[0::3], row[1::3], row[2::3]
            assert values == sorted(values)
            assert all(a <= v <= b for a, v, b in zip(low, values, high, strict=True))
    if kind == "cube":
        return
    if name.startswith(("bands", "sensitivity")):
        if kind in EXACT:
            assert out == reference
        else:
            assert_tables_close(out, reference, atol=0.006)  # two decimals printed
    if name == "bands csv":
        got, want = written.read_text(), reference_file.read_text()
        if kind in EXACT:
            assert got == want
        else:
            got, want = (np.loadtxt(io.StringIO(t), delimiter=",", skiprows=1) for t in (got, want))
            # the reference's last two columns: the mean and sd of its draws
            np.testing.assert_allclose(got, want[:, : got.shape[1]], rtol=RTOL)
    if name == "report":
        page, reference_page = written.read_text(), reference_file.read_text()
        for table in ("bands-0", "bands-1", "bands-2"):
            got, want = html_numbers(page, table), html_numbers(reference_page, table)
            if kind in EXACT:
                np.testing.assert_array_equal(got, want)
            else:
                np.testing.assert_allclose(got, want, rtol=RTOL, atol=0.051)  # one decimal
        if kind in EXACT:
            assert page == reference_page
        else:
            assert "need the run's draws" in html.unescape(page)
    if name.startswith("plot"):
        if kind in EXACT:
            assert written.read_bytes() == reference_file.read_bytes()
        else:
            assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@pytest.mark.parametrize("path", NON_RUNS)
@pytest.mark.parametrize("name", list(COMMANDS))
def test_cli_command_refuses_what_is_not_a_run(name, path, non_runs, tmp_path, capsys):
    target = non_runs[path]
    status, out, err = cli(capsys, *command(name, target, tmp_path))
    assert_one_line_error(status, err, str(target))
    assert out == ""
    assert not list(tmp_path.iterdir())  # nothing written
    if path == "incomplete-zarr":
        assert f"netsim run --resume {target}" in err


# --- the library -------------------------------------------------------------------------------


def _bands(**kwargs):
    def call(dataset, scenario, folder):
        return run_bands(dataset, **kwargs)

    return call


def _select(dataset, scenario, folder):
    return netsim.select_output(dataset, "by_modality", "region").compute()


def _spearman(dataset, scenario, folder):
    return netsim.spearman(dataset, "total", "region")


def _prcc(dataset, scenario, folder):
    return netsim.prcc(dataset, "total", "global")


def _tail(dataset, scenario, folder):
    return netsim.tail_attribution(scenario, dataset, {"year": 2031}, "total", "global")


def _exceedance(dataset, scenario, folder):
    return run_exceedance(dataset, 4000.0, "total", "region")


def _analyze(dataset, scenario, folder):
    result, cell = analyze(
        scenario, "prcc", "by_modality", "global", run=dataset, cell={"modality": "PRRT"}
    )
    assert cell == {"year": 2031, "modality": "PRRT"}
    return result


def _report(dataset, scenario, folder):
    return render_report(dataset)


def _summary(dataset, scenario, folder):
    return run_summary(dataset, base_case=netsim.deterministic(scenario))


def _fan(dataset, scenario, folder):
    path = fan_chart({"run": dataset}, folder / "fan.png", "global total")
    return path.read_bytes()


LIBRARY = {
    "run_bands": _bands(),
    "run_bands by region": _bands(by="region"),
    "run_bands by country": _bands(by="country"),
    "run_bands by_modality": _bands(output="by_modality", by="region", years=[2031]),
    "run_bands q": _bands(q=[0.05, 0.5, 0.95], years=[2026, 2031]),
    "run_bands q=0.1": _bands(q=0.1),
    "run_bands cagr": _bands(cagr=(2026, 2031)),
    "run_exceedance": _exceedance,
    "select_output": _select,
    "spearman": _spearman,
    "prcc": _prcc,
    "tail_attribution": _tail,
    "analyze": _analyze,
    "render_report": _report,
    "run_summary": _summary,
    "fan_chart": _fan,
}
LIBRARY_NEEDS_DRAWS = {
    "run_bands q=0.1",
    "run_bands cagr",
    "run_exceedance",
    "select_output",
    "spearman",
    "prcc",
    "tail_attribution",
    "analyze",
}


@pytest.fixture(scope="module")
def cube_results(run_kinds_opened, net, tmp_path_factory):
    done = {}

    def get(name):
        if name not in done:
            done[name] = LIBRARY[name](
                run_kinds_opened["cube"], net, tmp_path_factory.mktemp("cube")
            )
        return done[name]

    return get


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", list(LIBRARY))
def test_library_function_on_every_run_kind(
    name, kind, run_kinds_opened, net, cube_results, tmp_path
):
    call = LIBRARY[name]
    if kind == "reduced" and name in LIBRARY_NEEDS_DRAWS:
        with pytest.raises(ScenarioError) as error:
            call(run_kinds_opened[kind], net, tmp_path)
        assert_needs_draws(str(error.value))
        return
    reference = cube_results(name)
    # the cube's result is the reference itself: the same call on the same run, made once
    # (tail_attribution and render_report take seconds a call)
    result = reference if kind == "cube" else call(run_kinds_opened[kind], net, tmp_path)
    if name == "render_report":
        assert result.startswith("<!DOCTYPE html>") and "bands-0" in result
        if kind in EXACT:
            assert result == reference
        elif kind == "reduced":
            for table in ("bands-0", "bands-1", "bands-2"):
                got, want = html_numbers(result, table), html_numbers(reference, table)
                np.testing.assert_allclose(got, want, rtol=RTOL, atol=0.051)
    elif name == "run_summary":
        if kind in EXACT:
            assert result == reference
        else:
            assert_tables_close(result, reference, atol=0.051)  # one decimal printed
    elif name == "fan_chart":
        assert result[:8] == b"\x89PNG\r\n\x1a\n"
        if kind in EXACT:
            assert result == reference
    elif kind in EXACT:
        xr.testing.assert_identical(result, reference)
    elif kind == "reduced":  # bands of a reduced run
        assert result["value"].dims == reference["value"].dims
        assert int(result.attrs["draws"]) == DRAWS
        for variable in ("value", "low", "high"):
            np.testing.assert_allclose(
                result[variable].transpose(*reference[variable].dims).values,
                reference[variable].values,
                rtol=RTOL,
            )


@pytest.mark.parametrize("name", list(LIBRARY))
def test_library_function_refuses_a_dataset_that_is_not_a_run(name, net, tmp_path):
    foreign = xr.Dataset({"temperature": ("time", np.arange(4.0))}, coords={"time": np.arange(4)})
    with pytest.raises(ScenarioError) as error:
        LIBRARY[name](foreign, net, tmp_path)
    assert "\n" not in str(error.value)
    assert "not a netsim run" in str(error.value) or "draws" in str(error.value)


# --- runs reduced to other quantiles -------------------------------------------------------------


@pytest.fixture(scope="module")
def other_bands(tmp_path_factory, net):
    """Runs reduced (by the library) to quantiles other than P5, P50 and P95: with a
    median and symmetric pairs, 90 % intervals; and without a median."""
    folder = tmp_path_factory.mktemp("other-bands")
    runs = {}
    for name, q in (("quartiles", (0.1, 0.25, 0.5, 0.75, 0.9)), ("no-median", (0.1, 0.9))):
        bands = netsim.simulate(net, 600, seed=SEED, reduce="bands", q=q, confidence=0.9)
        runs[name] = netsim.write_netcdf(bands, folder / f"{name}.nc")
    return runs


@pytest.mark.slow
def test_bands_of_a_run_reduced_to_other_quantiles(other_bands, tmp_path, capsys):
    path = other_bands["quartiles"]
    status, out, err = cli(capsys, "bands", path, "--by", "region")
    assert status == 0 and err == ""
    assert "P10 low" in out and "P90 high" in out and "P5 " not in out
    assert "90 % order-statistic interval" in out
    for row in table_numbers(out).values():
        values = row[0::3]
        assert values == sorted(values) and len(values) == 5
    for flags in (["--q", "0.05"], ["--confidence", "0.95"], ["--exceed", "4000"]):
        status, out, err = cli(capsys, "bands", path, *flags)
        assert_one_line_error(status, err)
        assert_needs_draws(err)
    dataset = netsim.open_run(path)
    summary = run_summary(dataset)
    assert "P25" in summary and "P75" in summary
    page = render_report(dataset)
    assert "P10 90 % CI" in page and "No fan chart" not in page
    assert cli(capsys, "plot", "fan", path, "--out", tmp_path / "fan.png")[0] == 0


@pytest.mark.slow
def test_a_run_reduced_without_a_median(other_bands, tmp_path, capsys):
    path = other_bands["no-median"]
    dataset = netsim.open_run(path)
    assert "P10" in run_summary(dataset) and "P50" not in run_summary(dataset)
    assert "No fan chart" in render_report(dataset)
    status, _, err = cli(capsys, "plot", "fan", path, "--out", tmp_path / "fan.png")
    assert_one_line_error(status, err, "median")
    assert not list(tmp_path.iterdir())
    status, _, err = cli(capsys, "report", path, "--out", tmp_path / "report.html")
    assert status == 0 and err == ""
