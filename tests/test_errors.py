"""The kinds of error (netsim.errors): scenario documents, call arguments' values and
types, each naming what it refuses."""

from __future__ import annotations

import pytest

import netsim
from netsim.cli import main
from netsim.errors import ArgumentTypeError, ArgumentValueError, ScenarioError

from .conftest import NET_CONFIG


def test_an_argument_error_is_its_own_kind_naming_the_argument():
    assert issubclass(ArgumentValueError, ValueError)
    assert not issubclass(ArgumentValueError, ScenarioError)
    assert issubclass(ArgumentTypeError, TypeError)
    assert netsim.ArgumentValueError is ArgumentValueError
    assert netsim.ArgumentTypeError is ArgumentTypeError


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        pytest.param(lambda s: netsim.sample_inputs(s, 0), "draws", id="draws"),
        pytest.param(lambda s: netsim.sample_inputs(s, 5, seed=-1), "seed", id="seed"),
        pytest.param(lambda s: netsim.sobol(s, 100, "total", "global"), "n", id="sobol-n"),
    ],
)
def test_a_value_refused_names_its_argument(net, call, argument):
    with pytest.raises(ArgumentValueError) as refused:
        call(net)
    assert refused.value.argument == argument
    assert str(refused.value).startswith(f"{argument}=")


def test_a_scenario_document_is_still_a_scenario_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(NET_CONFIG.read_text().replace("value = 2890.0", 'value = "2890"', 1))
    with pytest.raises(ScenarioError, match=r"market\.base_size\.value='2890' must be a number"):
        netsim.load_scenario(path)


@pytest.mark.slow
def test_the_command_line_says_an_argument_error_in_one_line(capsys):
    assert main(["run", str(NET_CONFIG), "--draws", "0"]) == 2
    err = capsys.readouterr().err
    assert err == "netsim: error: draws=0 must be a whole number >= 1\n"


def test_a_file_that_is_not_toml_keeps_the_parser_s_error_as_its_cause(tmp_path):
    import tomllib

    path = tmp_path / "broken.toml"
    path.write_text("[scenario\n")
    with pytest.raises(ScenarioError, match="not valid TOML") as refused:
        netsim.load_scenario(path)
    assert isinstance(refused.value.__cause__, tomllib.TOMLDecodeError)
