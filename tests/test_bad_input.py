"""Invariant 5: bad input gives a clear error naming file and key path, exit 2, nothing written."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import netsim
from netsim.cli import main
from netsim.errors import ArgumentValueError, ScenarioError

from .conftest import NET_CONFIG
from .helpers import small_scenario

NOT_PSD = """
[correlations.a_b]
parameters = ["drivers.liquid_biopsy.impact", "drivers.orphan_incentives.impact"]
rho = 0.9
source = "assumption: test"

[correlations.b_c]
parameters = ["drivers.orphan_incentives.impact", "drivers.precision_oncology.impact"]
rho = 0.9
source = "assumption: test"

[correlations.a_c]
parameters = ["drivers.liquid_biopsy.impact", "drivers.precision_oncology.impact"]
rho = -0.9
source = "assumption: test"
"""

# (old text, new text, expected message fragment: the key path and the rule)
CASES = {
    "unknown key": (
        "[drivers.rising_prevalence]\nlabel",
        '[drivers.rising_prevalence]\ncolour = "red"\nlabel',
        "drivers.rising_prevalence.colour is not a known key",
    ),
    "missing key": (
        'timeline = "short"\ngeography = "na_europe"\ntilts = { modality = { PRRT = 0.5 }',
        'geography = "na_europe"\ntilts = { modality = { PRRT = 0.5 }',
        "drivers.imaging_diagnostics.timeline is missing",
    ),
    "wrong type": (
        "value = 2890.0",
        'value = "2890"',
        "market.base_size.value='2890' must be a number",
    ),
    "nan": ("value = 2890.0", "value = nan", "market.base_size.value=nan must be finite"),
    "inf": ("low = 0.92", "low = -inf", "market.base_scale.low=-inf must be finite"),
    "negative size": (
        "value = 2890.0",
        "value = -2890.0",
        "market.base_size.value=-2890.0 must be > 0",
    ),
    "shares not 100": ("value = 43.62", "value = 45.62", "shares must sum to 100 %"),
    "low > mode": (
        "low = 0.6, mode = 1.2, high = 1.8",
        "low = 1.4, mode = 1.2, high = 1.8",
        "drivers.rising_prevalence.impact.low=1.4 must be <= mode=1.2",
    ),
    "mode > high": (
        "low = 0.6, mode = 1.2, high = 1.8",
        "low = 0.6, mode = 1.9, high = 1.8",
        "drivers.rising_prevalence.impact.mode=1.9 must be <= high=1.8",
    ),
    "correlation not PSD": ("", NOT_PSD, "is not positive semi-definite"),
    "correlation unknown parameter": (
        '"restraints.isotope_supply.impact"]',
        '"restraints.isotope.impact"]',
        "'restraints.isotope.impact' is not a parameter",
    ),
    "correlation out of range": ("rho = -0.4", "rho = -1.4", "rho=-1.4 must be >= -1"),
    "probability > 1": (
        "probability = { value = 0.15",
        "probability = { value = 1.5",
        "events.isotope_outage.probability.value=1.5 must be <= 1",
    ),
    "probability < 0": (
        "probability = { value = 0.15",
        "probability = { value = -0.1",
        "events.isotope_outage.probability.value=-0.1 must be >= 0",
    ),
    "missing source": (
        "value = 2890.0\nsource = \"report: 'USD 2.89 billion in 2025'\"",
        "value = 2890.0",
        "market.base_size.value has no source",
    ),
    "bad source": (
        "source = \"report: 'USD 2.89 billion in 2025'\"",
        'source = "my guess"',
        "market.base_size.source='my guess' must read 'report: <quoted figure>'",
    ),
    "restraint sign": (
        "low = -1.65, mode = -1.1, high = -0.55",
        "low = 0.55, mode = 1.1, high = 1.65",
        "restraints.high_cost.impact point value 1.1 must be <= 0",
    ),
    "unknown geography": (
        'geography = "emerging"',
        'geography = "mars"',
        "restraints.high_cost.geography='mars' is not a defined geography",
    ),
    "unknown tilt segment": (
        "PRRT = 2.0 }, source",
        "Lutathera = 2.0 }, source",
        "'Lutathera' is not a segment of modality",
    ),
    "event year outside forecast": (
        "values = [2026, 2027]",
        "values = [2026, 2035]",
        "events.cabozantinib_eu.year value 2035 must be a forecast year",
    ),
    "not toml": ("[scenario]", "[scenario", "not valid TOML"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_library_and_cli(case, net_text, tmp_path, capsys):
    old, new, message = CASES[case]
    assert old in net_text
    text = net_text + new if old == "" else net_text.replace(old, new, 1)
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        netsim.load_scenario(path)
    assert isinstance(caught.value, ValueError)
    assert str(path) in str(caught.value) and message in str(caught.value)

    out = tmp_path / "run.nc"
    status = main(["run", str(path), "--draws", "10", "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("netsim: error: ")
    assert message in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [path]  # nothing written


@pytest.mark.slow
def test_unknown_override_key(tmp_path, capsys):
    from .conftest import NET_CONFIG

    status = main(["run", str(NET_CONFIG), "--set", "market.base_size.valeu=3", "--draws", "5"])
    assert status == 2
    assert "market.base_size.valeu is not a key" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "X", "--draws", "0"], "draws=0 must be a whole number >= 1"),
        (["run", "X", "--seed", "-3"], "seed=-3 must be a whole number in [0, 2**63)"),
        (["run", "X", "--sampler", "halton"], "invalid choice"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.slow
def test_output_folder_must_exist(tmp_path, capsys):
    from .conftest import NET_CONFIG

    target = tmp_path / "missing" / "run.nc"
    assert main(["run", str(NET_CONFIG), "--draws", "5", "--out", str(target)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_caller_inputs_with_nan_are_rejected(net):
    import numpy as np

    inputs = netsim.sample_inputs(net, 3, seed=0)
    inputs[1, 4] = np.nan
    with pytest.raises(ScenarioError, match="NaN"):
        netsim.propagate(net, inputs)
    with pytest.raises(ScenarioError, match="shape"):
        netsim.propagate(net, inputs[:, :5])


# Impossible markets, each refused at load with the key path and the rule
IMPOSSIBLE = [
    (
        'market.base_scale={dist="uniform",low=-5,high=-1,source="assumption: test"}',
        "market.base_scale: its draws reach -5",
    ),
    ("restraints.isotope_supply.impact.low=-400", "beyond +-50 (limits.growth_pp)"),
    ("noise.global_sd.value=1e6", "over limits.noise_sd_pp"),
    ("years.final=3000", "must lie within 1900-2200"),
    ("drivers.rising_prevalence.impact.high=1e308", "would overflow"),
    ("drivers.rising_prevalence.impact.high=1e40", "beyond +-50 (limits.growth_pp)"),
    ("axes.modality.segments.SSA.growth_premium.value=1e308", "would overflow"),
    ("axes.modality.segments.SSA.growth_premium.value=400", "limits.growth_pp"),
    ("drivers.rising_prevalence.impact.mode=1e4", "must be <= high"),
    (
        'market.base_scale={dist="fixed",value=0,source="assumption: test"}',
        "a scale of the market must stay > 0",
    ),
    (
        'market.base_scale={dist="normal",mean=1,sd=0.2,source="assumption: test"}',
        "a scale of the market must stay > 0",
    ),
    ("years.base=2025.0", "must be a whole number"),
    # a target so loose that any calibration meets it checks nothing
    ("market.targets.size_2026.tolerance=3100", "market.targets.size_2026.tolerance=3100 is not"),
    ("market.targets.cagr_2026_2031.tolerance=60", "tolerance=60 pp is over limits.growth_pp"),
    ("years.final=2100", "over limits.max_years"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "message"), IMPOSSIBLE)
def test_impossible_markets_are_refused(assignment, message, capsys):
    assert main(["validate", str(NET_CONFIG), "--set", assignment]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.slow
def test_a_mistyped_target_is_not_met_by_an_absurd_rate():
    import tomllib

    document = tomllib.loads(NET_CONFIG.read_text())
    del document["market"]["targets"]["cagr_2026_2031"]
    document["market"]["targets"]["size_2031"]["value"] = 95000.0  # 9,500 typed with a 0
    with pytest.raises(ScenarioError, match=r"baseline = \+98.* size_2031 = 95000"):
        netsim.load_scenario(document)


def test_a_worst_draw_below_minus_100_percent_is_refused():
    from .helpers import small_scenario

    document = small_scenario()
    document["restraints"]["d1"]["impact"] = {
        "dist": "pert",
        "low": -49.0,
        "mode": -20.0,
        "high": -1.0,
        "source": "assumption: x",
    }
    document["restraints"]["d2"] = {**document["restraints"]["d1"]}
    document["restraints"]["d3"] = {**document["restraints"]["d1"]}
    with pytest.raises(ScenarioError, match="a market cannot fall by 100 % or more"):
        netsim.load_scenario(document)


@pytest.mark.slow
@pytest.mark.parametrize("value", ['"no"', "0", '"false"', "1"])
def test_recalibrate_is_a_boolean(tmp_path, value, capsys):
    overlay = tmp_path / "overlay.toml"
    overlay.write_text(f'[overlay]\nextends = "{NET_CONFIG}"\nrecalibrate = {value}\n')
    assert main(["validate", str(overlay)]) == 2
    assert "overlay.recalibrate" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize(
    ("limits", "assignment", "status"),
    [
        ("", "drivers.rising_prevalence.impact.high=60", 2),
        (
            'growth_pp = 80\nsource = "assumption: a test moves the bound"',
            "drivers.rising_prevalence.impact.high=60",
            0,
        ),
        (
            'growth_pp = "a lot"\nsource = "assumption: test"',
            "restraints.isotope_supply.impact.low=-1",
            2,
        ),
        ("growth_pp = 80", "drivers.rising_prevalence.impact.high=60", 2),  # no source
    ],
)
def test_limits_can_be_moved_with_a_source(tmp_path, limits, assignment, status, capsys):
    config = tmp_path / "limited.toml"
    config.write_text(NET_CONFIG.read_text() + (f"\n[limits]\n{limits}\n" if limits else ""))
    assert main(["validate", str(config), "--set", assignment]) == status, capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[overlay]\nextends = "/dev/zero"\n', "not a regular file"),
        pytest.param(
            "[a]\nb = " + "[" * 5000 + "]" * 5000 + "\n",
            "nested too deeply",
            id="arrays nested 5000 deep",
        ),
        ("\x00\xff\xfe binary", "not text"),
        ('[overlay]\nextends = "."\n', "overlay.extends='.' is not a regular file"),
    ],
)
def test_documents_that_are_not_scenarios_give_one_line(tmp_path, content, message, capsys):
    config = tmp_path / "bad.toml"
    config.write_bytes(content.encode("latin-1"))
    assert main(["validate", str(config)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.slow
def test_messages_show_the_value_given(capsys):
    assert (
        main(
            [
                "validate",
                str(NET_CONFIG),
                "--set",
                "events.isotope_outage.probability.value=1.0000001",
            ]
        )
        == 2
    )
    assert "value=1.0000001 must be <= 1" in capsys.readouterr().err


@pytest.mark.slow
def test_seed_beyond_64_bits_is_refused(capsys):
    assert main(["run", str(NET_CONFIG), "--seed", str(2**64), "--draws", "10"]) == 2
    assert "seed=" in capsys.readouterr().err


@pytest.mark.slow
def test_tornado_alone_works_on_the_global_cell(capsys):
    assert main(["sensitivity", str(NET_CONFIG), "--method", "tornado", "--top", "3"]) == 0
    assert "tornado of total (global) at year=2031" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sensitivity", "CONFIG", "--method", "spearman", "--draws", "0"], "draws=0"),
        (["plot", "tornado", "CONFIG", "--top", "0", "--out", "OUT/t.png"], "--top 0"),
        (["plot", "tornado", "CONFIG", "--top", "-3", "--out", "OUT/t.png"], "--top -3"),
        (["run", "CONFIG", "--draws", "10", "--scheduler", "not a url"], "cannot connect"),
    ],
)
def test_small_lies_are_one_line_errors(tmp_path, argv, message, capsys):
    argv = [str(NET_CONFIG) if a == "CONFIG" else a.replace("OUT", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_a_failed_scheduler_connection_leaves_no_default_client(capsys):
    # a Client that failed to connect must not stay the process's default: xarray's
    # to_netcdf would find it and ask that address for a lock (seen after a run in-process)
    distributed = pytest.importorskip("dask.distributed")
    gc.disable()  # the failed client stays alive: nothing hides a leftover default
    try:
        argv = ["run", str(NET_CONFIG), "--draws", "10", "--scheduler", "not a url"]
        assert main(argv) == 2
        with pytest.raises(ValueError, match="No clients found"):
            distributed.default_client()
        # and no half-made Client is left to wait 20 s in its close when collected
        assert not [o for o in gc.get_objects() if isinstance(o, distributed.Client)]
    finally:
        gc.enable()
    capsys.readouterr()


@pytest.mark.slow
def test_a_sobol_run_of_other_than_a_power_of_two_says_so(capsys):
    assert main(["run", str(NET_CONFIG), "--draws", "1000", "--sampler", "sobol"]) == 0
    assert "not a power of two" in capsys.readouterr().err
    assert main(["run", str(NET_CONFIG), "--draws", "1024", "--sampler", "sobol"]) == 0
    assert "not a power of two" not in capsys.readouterr().err


def test_a_market_too_small_for_float32_cells_is_refused():
    document = small_scenario()
    document["market"]["base_size"]["value"] = 1e-300
    with pytest.raises(ScenarioError, match=r"market\.base_size\.value.*float32"):
        netsim.load_scenario(document)


def test_out_arrays_of_another_dtype_than_asked_are_refused(net):
    inputs = netsim.sample_inputs(net, 10, seed=1)
    out = netsim.propagate(net, inputs, as_arrays=True)  # float32
    with pytest.raises(ArgumentValueError, match="dtype=float64 but the out arrays are float32"):
        netsim.propagate(net, inputs, as_arrays=True, out=out, dtype=np.float64)
    assert netsim.propagate(net, inputs, as_arrays=True, out=out)["total"].dtype == np.float32


@pytest.mark.parametrize(
    ("where", "key"),
    [
        ("countries", r'countries\."R0-a"\.share\.value'),
        ("country_shares", r'regions\."R0"\.country_shares\."R0-a"'),
    ],
)
def test_a_country_too_small_for_float32_cells_is_refused(where, key):
    document = small_scenario()
    if where == "countries":
        document["countries"] = {"R0-a": {"share": {"value": 1e-300, "source": "assumption: t"}}}
    else:
        document["regions"]["R0"]["country_shares"]["R0-a"] = 1e-300
        document["regions"]["R0"]["country_shares"]["R0-b"] = 100.0
    with pytest.raises(ScenarioError, match=rf"{key}: R0-a's base value reaches .* float32"):
        netsim.load_scenario(document)


def test_a_country_in_two_regions_is_refused_naming_its_key():
    document = small_scenario()
    document["regions"]["R1"]["country_shares"]["R0-a"] = document["regions"]["R1"][
        "country_shares"
    ].pop("R1-a")
    with pytest.raises(
        ScenarioError,
        match=r'regions\."R1"\.country_shares\."R0-a": R0-a is already a country of R0',
    ):
        netsim.load_scenario(document)
