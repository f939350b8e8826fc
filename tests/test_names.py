"""Names that cannot break a file: awkward names run, write, read back and analyse;
names that would break a file, a dimension or a parameter are refused at load."""

from __future__ import annotations

import copy

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
