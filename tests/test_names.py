"""Names that cannot break a file: awkward names run, write, read back and analyse;
names that would break a file, a dimension or a parameter are refused at load."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import netsim
from netsim.cli import main
from netsim.errors import ScenarioError

from .helpers import small_scenario, write_toml

# regions whose names hold dots: as Sobol groups they must stay apart (they were split
# on dots once, so "St. Kitts" and "St. Lucia" both became "noise.St")
REGIONS = ("St. Kitts", "St. Lucia")
COUNTRIES = ("Côte d'Ivoire", "A/B Land <b>&amp;</b>")
SEGMENTS = ('50% "quoted" $cost$ <i>', "a/b.c = d")


def awkward_document() -> dict:
    """The small test scenario, renamed with every awkward name that is allowed."""
    doc = small_scenario()
    old_regions = list(doc["regions"])
    regions = {}
    for new, old in zip(REGIONS, old_regions, strict=True):
        table = copy.deepcopy(doc["regions"][old])
        shares = table["country_shares"]
        old_countries = [k for k in shares if k != "source"]
        renamed = {f"{c} ({new})": shares[o] for c, o in zip(COUNTRIES, old_countries, strict=True)}
        table["country_shares"] = {**renamed, "source": shares["source"]}
        regions[new] = table
    doc["regions"] = regions
    for geography in doc["geographies"].values():
        for key in ("weights", "weights_end"):
            if key in geography:
                values = list(geography[key].values())
                geography[key] = dict(zip(REGIONS, values, strict=True))
    axis = doc["axes"]["axis0"]
    axis["segments"] = dict(zip(SEGMENTS, axis["segments"].values(), strict=True))
    for table in (*doc["drivers"].values(), *doc["restraints"].values(), *doc["events"].values()):
        tilts = table.get("tilts", {})
        if "axis0" in tilts:
            tilts["axis0"] = {SEGMENTS[int(k[1:])]: v for k, v in tilts["axis0"].items()}
        if table.get("segment", {}).get("axis") == "axis0":
            table["segment"]["name"] = SEGMENTS[int(table["segment"]["name"][1:])]
    return doc


@pytest.fixture(scope="module")
def awkward():
    return netsim.load_scenario(awkward_document())


def test_awkward_names_run_write_read_and_analyse(awkward, tmp_path):
    run = netsim.simulate(awkward, 600, seed=3)
    assert list(run["axis0"].values) == list(SEGMENTS)
    path = netsim.write_netcdf(run, tmp_path / "awkward.nc")
    back = netsim.open_run(path)
    for name in ("total", "by_axis0", "inputs"):
        np.testing.assert_array_equal(back[name].values, run[name].values)
    assert list(back["region"].values) == list(run["region"].values)
    regional = netsim.select_output(back, "total", "region")
    assert list(regional["region"].values) == list(REGIONS)
    # noise of each region is its own Sobol group, named whole
    sobol = netsim.sobol(awkward, 64, "total", "global", group="driver")
    groups = [str(p) for p in sobol["parameter"].values]
    assert "noise.St. Kitts" in groups and "noise.St. Lucia" in groups
    assert not any(g in ("noise.St", "noise.St. Kitts + noise.St. Lucia") for g in groups)


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        ["bands", "RUN", "--by", "region"],
        ["bands", "RUN", "--by", "axis0", "--csv", "OUT/b.csv"],
        ["bands", "BANDS", "--by", "country"],
        ["bands", "ZARR", "--by", "region"],
        [
            "plot",
            "hist",
            "RUN",
            "--by",
            "region",
            "--at",
            f"region={REGIONS[1]}",
            "--out",
            "OUT/h.svg",
        ],
        [
            "plot",
            "fan",
            "RUN",
            "--output",
            "by_axis0",
            "--at",
            f"axis0={SEGMENTS[0]}",
            "--out",
            "OUT/f.png",
        ],
        ["report", "RUN", "--out", "OUT/r.html"],
        ["report", "BANDS", "--out", "OUT/rb.html"],
    ],
)
def test_awkward_names_through_every_command(awkward, tmp_path, argv, capsys):
    config = tmp_path / "awkward.toml"
    write_toml(awkward_document(), config)
    runs = {
        "RUN": tmp_path / "run.nc",
        "BANDS": tmp_path / "bands.nc",
        "ZARR": tmp_path / "run.zarr",
    }
    assert (
        main(["run", str(config), "--draws", "500", "--no-progress", "--out", str(runs["RUN"])])
        == 0
    )
    needed = {a for a in argv if a in runs}
    if "BANDS" in needed:
        assert (
            main(["run", str(config), "--draws", "500", "--reduce", "--out", str(runs["BANDS"])])
            == 0
        )
    if "ZARR" in needed:
        assert main(["run", str(config), "--draws", "500", "--out", str(runs["ZARR"])]) == 0
    capsys.readouterr()
    argv = [str(runs[a]) if a in runs else a.replace("OUT", str(tmp_path)) for a in argv]
    assert main(argv) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    if argv[0] == "report":
        html = (tmp_path / argv[-1].rsplit("/", 1)[-1]).read_text()
        assert "$cost$ <i>" not in html  # escaped, never markup
        assert "$cost$ &lt;i&gt;" in html
    elif argv[0] == "bands":
        assert any(name in out for name in (*REGIONS, *SEGMENTS, COUNTRIES[0]))


REFUSED = [
    ("axis", "region", "one of netsim's own names"),
    ("axis", "year", "one of netsim's own names"),
    ("axis", "total", "one of netsim's own names"),
    ("axis", "a/b", "must be a letter followed by"),
    ("axis", "modality_global", "ends in one of"),
    ("axis", "x_region", "ends in one of"),
    ("axis", "by_x", "starts with by_"),
    ("axis", "value", "one of netsim's own names"),
    ("axis", "first_order", "one of netsim's own names"),
    ("axis", "contribution", "one of netsim's own names"),
    ("axis", "a.b", "must be a letter followed by"),
    ("axis", "end user", "must be a letter followed by"),
    ("region", "global", "name 'global' is taken"),
    ("region", "East\x00Asia", "control characters"),
    ("region", " Europe", "start or end with a space"),
    ("country", "Line\nbreak", "control characters"),
    ("segment", "tab\there", "control characters"),
    ("segment", "", "must not be empty"),
]


@pytest.mark.parametrize(("kind", "name", "message"), REFUSED)
def test_names_that_would_break_a_file_are_refused(kind, name, message):
    doc = small_scenario()
    if kind == "axis":
        doc["axes"] = {name: doc["axes"].pop("axis1"), **doc["axes"]}
    elif kind == "region":
        old = next(iter(doc["regions"]))
        doc["regions"] = {name: doc["regions"].pop(old), **doc["regions"]}
        for geography in doc["geographies"].values():
            for key in ("weights", "weights_end"):
                if key in geography:
                    geography[key] = {name if k == old else k: v for k, v in geography[key].items()}
    elif kind == "country":
        shares = next(iter(doc["regions"].values()))["country_shares"]
        first = next(k for k in shares if k != "source")
        shares[name] = shares.pop(first)
    else:
        segments = doc["axes"]["axis1"]["segments"]
        segments[name] = segments.pop("s1")
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(")):
        netsim.load_scenario(doc)


def renamed(document: dict, old: str, new: str) -> dict:
    """``document`` with the name ``old`` (a key, or a value naming it) renamed ``new``
    everywhere, parameter names of correlations included."""

    def walk(value):
        if isinstance(value, dict):
            return {(new if k == old else k): walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            if value == old:
                return new
            for group in ("drivers", "restraints", "events"):
                if value.startswith(f"{group}.{old}."):
                    return f"{group}.{new}.{value[len(group) + len(old) + 2 :]}"
        return value

    return walk(copy.deepcopy(document))


# (what is renamed, to what, the key path the line names, why): each refused by validate in
# one line naming the file and the key path, exit status 2, nothing on stdout
ODD_REFUSED = [
    # invisible characters: a name must look like what it is
    ("s1", "A\u200bB", 'axes.axis0.segments."A\\u200bB"', "invisible characters"),
    ("R0", "\u202eevil", 'regions."\\u202eevil"', "invisible characters"),
    ("R0-a", "\ufeffX", 'country_shares."\\ufeffX"', "invisible characters"),
    ("d0", "a\u200fb", 'drivers."a\\u200fb"', "invisible characters"),
    # other line breaks and C1 controls
    ("outage", "a\x85b", 'events."a\\x85b"', "control characters"),
    ("R1", "a\u2028b", 'regions."a\\u2028b"', "control characters"),
    # a spreadsheet opening a CSV file runs these
    ("R0", "=1+2", 'regions."=1+2"', "must not start with =, +, -, @"),
    ("R0-b", "+cmd|' /C calc'!A0", "country_shares.", "must not start with =, +, -, @"),
    ("s0", "-2+3", 'segments."-2+3"', "must not start with =, +, -, @"),
    ("d1", "@SUM(1,2)", 'restraints."@SUM(1,2)"', "must not start with =, +, -, @"),
    # the key of a table's source, beside the names of places and segments in some tables
    ("R0", "source", "regions.source", "is taken: it is the key of a table's source"),
    ("s0", "source", "axes.axis0.segments.source", "is taken"),
    # two spaces in a row: a web page shows them as one ("a b")
    ("R0-a", "a  b", 'country_shares."a  b"', "two spaces in a row"),
    ("s0", "a\u00a0 b", "segments.", "two spaces in a row"),
    # too long for a column, a legend or a heading
    pytest.param("s1", "x" * 10_000, "(10,000 characters)", "more than 200", id="s1-x*10000"),
    # timelines and geographies are names too
    ("short", "a\tb", 'timelines."a\\tb"', "control characters"),
    ("first", "a\nb", 'geographies."a\\nb"', "control characters"),
    ("moving", "\u200b", 'geographies."\\u200b"', "invisible characters"),
    # two names that a reader, a spreadsheet or a file system takes for one
    ("R1", "r0", "regions.r0", "differs from 'R0' at regions.R0 only by case"),
    ("R1-a", "r0-A", "regions.R1.country_shares.r0-A", "only by case or Unicode form"),
    ("s1", "S0", "axes.axis0.segments.S0", "only by case"),
    ("d1", "D0", "restraints.D0", None),  # a driver and a restraint may share an id's case
    ("launch", "OUTAGE", "events.OUTAGE", "only by case"),
    ("long", "Short", "timelines.Short", "only by case"),
    ("moving", "ＦＩＲＳＴ", 'geographies."ＦＩＲＳＴ"', "only by case or Unicode form"),
    # a key path in a message is one TOML (and --set) reads back: a part not ASCII is quoted
    ("R0", "Île\u200b", 'regions."Île\\u200b"', "invisible characters"),
    ("axis1", "Axis0", "axes.Axis0", "only by case"),
    # a country named like another region: prices and growth given by place read for both
    ("R0-a", "R1", 'regions."R0".country_shares."R1"', "has the name of region 'R1'"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("old", "new", "key", "message"), ODD_REFUSED)
def test_odd_names_are_refused_in_one_line_naming_file_and_key(
    tmp_path, old, new, key, message, capsys
):
    config = tmp_path / "odd.toml"
    write_toml(renamed(small_scenario(), old, new), config)
    status = main(["validate", str(config)])
    out, err = capsys.readouterr()
    if message is None:
        assert status == 0, err
        return
    assert status == 2, out
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"netsim: error: {config}: ")
    assert key in err and message in err
    # the line shows what a terminal would not as escapes: it cannot break or turn around
    assert err[:-1].isprintable(), repr(err)
    assert len(err) < 1_000


def test_names_differing_by_unicode_form_are_refused():
    nfc, nfd = "Caf\u00e9", "Cafe\u0301"
    doc = renamed(renamed(small_scenario(), "R0-a", nfc), "R0-b", nfd)
    with pytest.raises(ScenarioError, match=r"only by case or Unicode form") as caught:
        netsim.load_scenario(doc)
    assert "'Cafe\\u0301' against 'Caf\\xe9'" in str(caught.value)
    assert caught.value.name == nfd


def test_a_stage_named_like_the_first_stage_is_refused(net_text):
    import tomllib

    doc = renamed(tomllib.loads(net_text), "advanced", "Cases")
    with pytest.raises(ScenarioError, match=r"stage name 'Cases' .* differs from 'cases'"):
        netsim.load_scenario(doc)


def test_odd_names_that_are_allowed_stay_exact():
    """Markup, quotes, backslashes, CSV separators, %, {}, /, ., emoji (an emoji joined by a
    zero-width joiner too), netsim's own words and a name as long as allowed load as
    they are."""
    names = {
        "R0": "<script>alert(1)</script>",
        "R1": "total",
        "R0-a": '"><img src=x onerror=alert(1)>',
        "R0-b": "a'b\"c\\d,e;f",
        "R1-a": "%s %d {0} {}",
        "R1-b": "../x/.y",
        "s0": "\U0001f469\u200d\U0001f52c Lab \U0001f680",
        "s1": "quantile",
        "d0": "draw",
        "outage": "year",
        "short": "a/b",
        "first": "a.b",
    }
    doc = small_scenario()
    for old, new in names.items():
        doc = renamed(doc, old, new)
    doc = renamed(doc, "s2", "y" * 200)
    scenario = netsim.load_scenario(doc)
    assert [r.name for r in scenario.regions] == [names["R0"], names["R1"]]
    countries = [c.name for r in scenario.regions for c in r.countries]
    assert countries == [names[k] for k in ("R0-a", "R0-b", "R1-a", "R1-b")]
    assert [s.name for s in scenario.axes[1].segments] == [names["s0"], names["s1"], "y" * 200]
    assert scenario.drivers[0].id == "draw"
    assert scenario.events[0].id == "year"


@pytest.mark.slow
def test_a_csv_cell_a_spreadsheet_would_run_is_written_as_text(tmp_path, capsys):
    """Labels that are not checked names (a scenario's file name) are written after a ``'``
    when a spreadsheet would read them as a formula; numbers, negative ones too, are not."""
    base = tmp_path / "=HYPERLINK(1).toml"
    write_toml(small_scenario(), base)
    table = tmp_path / "compare.csv"
    argv = ["compare", str(base), "--set", "noise.global_sd.value=0.9", "--draws", "200"]
    assert main([*argv, "--by", "region", "--csv", str(table)]) == 0, capsys.readouterr().err
    rows = table.read_text(encoding="utf-8").splitlines()
    assert rows[1].startswith("'=HYPERLINK(1) with noise.global_sd.value=0.9,")
    assert not any(line.startswith(("=", "+", "@")) for line in rows)
    assert any(",-" in line for line in rows[1:])  # a negative difference stays a number


@pytest.mark.slow
@pytest.mark.parametrize("region", ["a=b, c=d", 'a"b\\c', "St. Kitts's = 'x'"])
def test_set_reaches_a_region_whose_name_holds_an_equals_sign_or_quotes(tmp_path, region, capsys):
    from netsim.scenario.documents import apply_overrides

    doc = renamed(small_scenario(), "R1", region)
    config = tmp_path / "odd.toml"
    write_toml(doc, config)
    path = f"regions.{json.dumps(region)}.growth_premium.value"
    changed = apply_overrides(doc, [f"{path}=0.7"])
    assert changed["regions"][region]["growth_premium"]["value"] == 0.7
    assert main(["validate", str(config), "--set", f"{path}=0.7"]) == 0, capsys.readouterr().err


@pytest.mark.slow
def test_characters_no_font_draws_are_named_in_one_line_not_a_warning_per_glyph(tmp_path, capsys):
    name = "\U0010fffd Land"  # a private-use character: no font draws it
    config = tmp_path / "odd.toml"
    write_toml(renamed(small_scenario(), "R1", name), config)
    run = tmp_path / "run.nc"
    assert main(["run", str(config), "--draws", "200", "--no-progress", "--out", str(run)]) == 0
    capsys.readouterr()
    picture = tmp_path / "fan.png"
    argv = ["plot", "fan", str(run), "--by", "region", "--at", f"region={name}"]
    assert main([*argv, "--out", str(picture)]) == 0
    err = capsys.readouterr().err
    assert err == (
        f"netsim: note: {picture}: no installed font draws '\\U0010fffd' (U+10FFFD): shown "
        "there as boxes (tables, CSV, workbooks and the report keep them)\n"
    )
    assert picture.stat().st_size > 0
