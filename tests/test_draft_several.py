"""Several reports of one market drafted as one scenario (``netsim draft A B C``).

The three cold-chain-monitoring reports in tests/fixtures/reports/ are one market in three
publishers' layouts (Mordor Intelligence's, Grand View Research's, Fortune Business
Insights'), written for the project with invented figures: base years 2025, 2024 and
2024 (the last also sizing 2025), CAGRs 14.69 %, 13.2 % and 15.8 % over different years.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

import netsim
from netsim.cli import main
from netsim.drafting import draft, load, summary

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reports"
NAMES = ("cold_chain_mordor.txt", "cold_chain_grandview.txt", "cold_chain_fortune.txt")
# each report's base size brought to 2025, USD billion: Mordor's own; Grand View's 2024
# size grown one year at its own 13.2 %; Fortune's stated 2025 size
IN_2025 = {"cold_chain_mordor.txt": 8.42, "cold_chain_grandview.txt": 6.95 * 1.132}
IN_2025["cold_chain_fortune.txt"] = 8.71
CAGRS = {"cold_chain_mordor.txt": 14.69, "cold_chain_grandview.txt": 13.2}
CAGRS["cold_chain_fortune.txt"] = 15.8
# each report's own words for its base size and its CAGR
WORDS = {
    "cold_chain_mordor.txt": ("USD 8.42 billion in 2025", "CAGR of 14.69%"),
    "cold_chain_grandview.txt": ("USD 6.95 billion in 2024", "CAGR of 13.2% from 2025 to 2030"),
    "cold_chain_fortune.txt": ("USD 8.71 billion in 2025", "CAGR of 15.8%"),
}


def _texts(names=NAMES) -> list[tuple[str, str]]:
    return [(name, (FIXTURES / name).read_text(encoding="utf-8")) for name in names]


@pytest.fixture(scope="module")
def merged():
    return draft(_texts())


def test_the_merged_draft_validates_and_calibrates_at_the_central_figures(merged):
    scenario = load(merged)
    doc = tomllib.loads(merged.toml)
    assert doc["years"] == {"base": 2025, "final": 2032, "source": doc["years"]["source"]}
    assert doc["market"]["base_size"]["value"] == pytest.approx(np.median(list(IN_2025.values())))
    (target,) = [t for t in doc["market"]["targets"].values() if t["kind"] == "cagr"]
    assert target["value"] == pytest.approx(np.median(list(CAGRS.values())))
    assert (target["start"], target["end"]) == (2025, 2032)
    total = netsim.deterministic(scenario)["total"].sum("country")
    achieved = 100 * ((float(total.sel(year=2032)) / float(total.sel(year=2025))) ** (1 / 7) - 1)
    assert abs(achieved - target["value"]) <= target["tolerance"] + 1e-9


def test_the_merged_base_case_meets_every_figure_it_places(merged):
    """Every central figure (sizes, CAGRs, shares) reproduced by the deterministic base
    case within its tolerance, as for one report's draft."""
    from tests.test_draft import check_round_trip

    check_round_trip(merged)


def test_the_base_size_pert_spans_the_three_reports_sizes(merged):
    doc = tomllib.loads(merged.toml)
    base = doc["market"]["base_size"]["value"]
    scale = doc["market"]["base_scale"]
    assert scale["dist"] == "pert" and scale["mode"] == 1.0
    assert base * scale["low"] == pytest.approx(min(IN_2025.values()), rel=1e-4)
    assert base * scale["high"] == pytest.approx(max(IN_2025.values()), rel=1e-4)
    # and the sampled base-year market stays within the reports' sizes
    run = netsim.simulate(load(merged), 2000, seed=5)
    first = run["total"].sum("country").sel(year=2025).values
    assert first.min() >= min(IN_2025.values()) * (1 - 1e-4)
    assert first.max() <= max(IN_2025.values()) * (1 + 1e-4)
    assert first.max() - first.min() > 0.5 * (max(IN_2025.values()) - min(IN_2025.values()))


def test_growth_spreads_over_the_reports_cagrs_with_no_effect_at_its_point(merged):
    doc = tomllib.loads(merged.toml)
    central = np.median(list(CAGRS.values()))
    impact = doc["drivers"]["publishers_growth_spread"]["impact"]
    assert impact["dist"] == "pert" and impact["mode"] == 0.0
    assert impact["low"] == pytest.approx(min(CAGRS.values()) - central)
    assert impact["high"] == pytest.approx(max(CAGRS.values()) - central)
    assert all(words[1] in impact["source"] for words in WORDS.values())


def test_every_report_s_figure_is_quoted_with_its_report(merged):
    doc = tomllib.loads(merged.toml)
    base = doc["market"]["base_size"]["source"]
    (target,) = [t for t in doc["market"]["targets"].values() if t["kind"] == "cagr"]
    texts = dict(_texts())
    for name, (size, cagr) in WORDS.items():
        assert re.search(rf"'{re.escape(size)}[^']*' \({re.escape(name)}\)", base), name
        assert re.search(rf"'{re.escape(cagr)}[^']*' \({re.escape(name)}\)", target["source"])
        assert size in texts[name] and cagr in " ".join(texts[name].split())
    # brought to one base year with the report's own CAGR, and said so
    assert (
        "cold_chain_grandview.txt's 6.95 billion in 2024 brought to 2025 with its own 13.2 %"
        in (base)
    )
    assert base.count("assumption: draft default, review: ") == 1
    north = doc["regions"]["North America"]["share"]
    assert north["value"] == 38.2  # the median of 38.2, 40.5 and 35.2
    for name in NAMES:
        assert f"({name})" in north["source"]


def test_the_disagreement_table_lists_every_report_s_figures(merged):
    rows = {row.figure: row for row in merged.several.disagreements}
    base = rows["base size 2025, USD billion"]
    assert base.values == pytest.approx(tuple(IN_2025[name] for name in NAMES))
    central = np.median(list(IN_2025.values()))
    assert base.spread == pytest.approx(
        100 * (max(IN_2025.values()) - min(IN_2025.values())) / central
    )
    growth = next(row for figure, row in rows.items() if figure.startswith("CAGR"))
    assert growth.values == tuple(CAGRS[name] for name in NAMES)
    region = rows["North America (region) share, %"]
    assert region.values == (38.2, 40.5, 35.2)
    printed = summary(merged)
    table = printed[printed.index("where the reports disagree") :]
    for name in NAMES:
        assert name in table
    assert "8.42" in table and "7.867" in table and "8.71" in table and "10.0%" in table
    # kept in the file as comments
    comments = [line for line in merged.toml.splitlines() if line.startswith("#")]
    assert any("base size 2025, USD billion" in line and "8.71" in line for line in comments)


def test_a_central_report_can_be_chosen():
    chosen = draft(_texts(), central="cold_chain_fortune.txt")
    doc = tomllib.loads(chosen.toml)
    assert doc["market"]["base_size"]["value"] == 8.71
    scale = doc["market"]["base_scale"]
    assert 8.71 * scale["low"] == pytest.approx(min(IN_2025.values()), rel=1e-4)
    assert scale["high"] == 1.0
    load(chosen)


@pytest.mark.parametrize(
    ("other", "words"),
    [
        pytest.param(
            (
                "dental.txt",
                "Dental Implants Market\nThe dental implants market is valued at USD "
                "5.10 billion in 2025 and is expected to reach USD 7.20 billion by 2030.\n",
            ),
            "the reports name different markets: 'Cold Chain Monitoring Market' "
            "(cold_chain_mordor.txt) and 'Dental Implants Market' (dental.txt)",
            id="another-market",
        ),
        pytest.param(
            (
                "euro.txt",
                "Cold Chain Monitoring Market\nThe cold chain monitoring market stands "
                "at EUR 7.80 billion in 2025 and is expected to reach EUR 14.90 billion by 2030.\n",
            ),
            "the reports' units are incompatible: cold_chain_mordor.txt sizes the market in USD, "
            "euro.txt in EUR",
            id="another-currency",
        ),
    ],
)
def test_a_report_of_another_market_among_them_is_refused_in_one_line(other, words):
    with pytest.raises(netsim.ScenarioError) as caught:
        draft([*_texts(), other])
    message = str(caught.value)
    assert words in message and len(message.splitlines()) == 1


@pytest.mark.parametrize(
    "again",
    [
        pytest.param(lambda name, text: (name, text), id="same-name"),
        pytest.param(
            lambda name, text: ("copy.txt", text + "\n\n"), id="a-copy-under-another-name"
        ),
    ],
)
def test_a_report_given_twice_is_refused_in_one_line(again):
    """Given twice, a report's figures counted twice: the median of the sizes became the
    repeated report's own."""
    texts = _texts()
    with pytest.raises(netsim.ScenarioError) as caught:
        draft([*texts, again(*texts[1])])
    message = str(caught.value)
    assert "has the same text as cold_chain_grandview.txt" in message
    assert len(message.splitlines()) == 1


def test_market_names_are_compared_loosely():
    from netsim.drafting.several import same_market

    assert same_market(
        "Neuroendocrine Tumor Treatment Market",
        "Global Neuroendocrine Tumour Treatment Market Size",
    )
    assert same_market("Cold Chain Monitoring Market", "cold-chain monitoring market")
    assert not same_market("Cold Chain Monitoring Market", "Cold Chain Logistics Market")


def test_unnamed_texts_are_named_by_their_publisher_or_their_place():
    texts = [text for _, text in _texts()]
    texts[1] = texts[1].replace(
        "The global cold chain", "According to Kings Research, the global cold chain"
    )
    result = draft(texts)
    assert result.several.labels == ("report 1", "Kings Research", "report 3")


def test_one_report_in_a_list_is_drafted_as_one():
    ((name, text),) = _texts(NAMES[:1])
    assert draft([(name, text)]).toml == draft(text).toml


@pytest.mark.slow
def test_cli_drafts_several_reports_into_one_file_and_refuses_another_market(tmp_path, capsys):
    paths = []
    for name, text in _texts():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    out = tmp_path / "cold_chain.toml"
    assert main(["draft", *paths, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "where the reports disagree" in printed and "validated and calibrated" in printed
    assert tomllib.loads(out.read_text())["market"]["base_size"]["value"] == 8.42
    other = tmp_path / "dental.txt"
    other.write_text(
        "Dental Implants Market\nThe dental implants market is valued at USD 5.10 billion in "
        "2025 and is expected to reach USD 7.20 billion by 2030.\n",
        encoding="utf-8",
    )
    refused = tmp_path / "refused.toml"
    assert main(["draft", *paths, str(other), "--out", str(refused)]) == 2
    error = capsys.readouterr().err
    assert "different markets" in error and len(error.strip().splitlines()) == 1
    assert "Traceback" not in error and not refused.exists()


def test_a_report_that_states_no_growth_keeps_its_size_and_says_so():
    """One report sizes 2024 only, in millions; the other 2025 in billions, with a CAGR:
    the first's size is used for 2025 unchanged (marked), in the first report's unit."""
    only = "Widget Market\nThe widget market was valued at USD 950 million in 2024.\n"
    grows = (
        "Widget Market Size\nThe global widget market is valued at USD 1.02 billion in 2025 and "
        "is expected to reach USD 1.45 billion by 2030, at a CAGR of 7.3% from 2025 to 2030.\n"
    )
    result = draft([("a.txt", only), ("b.txt", grows)])
    load(result)
    doc = tomllib.loads(result.toml)
    assert doc["market"]["unit"] == "USD million"
    assert doc["market"]["base_size"]["value"] == 985.0  # the median of 950 and 1,020
    assert (
        "a.txt's 950 million in 2024 used for 2025 unchanged (it states no growth)"
        in (doc["market"]["base_size"]["source"])
    )
    (growth,) = [row for row in result.several.disagreements if row.figure.startswith("CAGR")]
    assert growth.values == (None, 7.3)
