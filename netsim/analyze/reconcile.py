"""Reconciling the patient-based (bottom-up) model with the top-down one, draw by draw.

Both models run on the same draws (:func:`netsim.propagate` fills both), so their
ratio per draw is a paired comparison: its bands say how far apart the two forecasts
are, P(patient-based > top-down) which one is larger, and the inputs whose rank
correlation with the ratio is strongest say which assumptions drive the gap. Beside
each ratio stands the absolute gap (patient-based - top-down, the market's unit) with
each cell's share of the summed gap. In the base year the deterministic base cases give
the implied values at which the two agree: the factor on every price, and the treated
share, each solved and then checked by running the funnel again with it; and each cell's
gap decomposed into the funnel's factors (:mod:`netsim.analyze.gap`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from netsim.analyze.gap import decompose_gap
from netsim.analyze.product_reconcile import PRODUCT_LEVELS, reconcile_products
from netsim.analyze.sensitivity import centred_ranks
from netsim.defaults import DEFAULT_CHUNK
from netsim.errors import ArgumentValueError, ScenarioError
from netsim.kernels.funnel import split_share_kernel
from netsim.model.arrays import draw_arrays, expected_draw_arrays, funnel_arrays
from netsim.model.funnel_targets import funnel_target_rows
from netsim.model.layout import HEADLINE_QUANTILES, OutputLayout
from netsim.model.layout import aggregate as layout_aggregate
from netsim.model.propagate import propagate, run_kernel
from netsim.run.planning import check_fits_in_memory
from netsim.sampling.inputs import sample_inputs
from netsim.sampling.uniforms import check_request
from netsim.scenario.funnel import split_segments
from netsim.scenario.schema import Scenario
from netsim.stats.intervals import band_intervals, coverage_attrs
from netsim.stats.proportions import PROPORTION_INTERVAL, proportion_interval

__all__ = ["PLACE_LEVELS", "reconcile", "reconcile_cells", "reconcile_run"]

PLACE_LEVELS = ("global", "region", "country")
DEFAULT_DRAWS = 20_000
TOP_FACTORS = 3  # the inputs a table names for each cell
AGREEMENT_TOLERANCE = 1e-9  # a solved value must bring the base-year ratio this near 1


def _outputs(scenario: Scenario, by: str) -> tuple[str, str, str]:
    """(top-down output, patient-based output, level) compared ``by`` a place or an axis."""
    funnel = scenario.funnel
    if funnel is None:
        raise ScenarioError(
            f"scenario {scenario.name!r} has no patient funnel: add a [funnel] table "
            "(docs/config.md) to reconcile it",
            path=scenario.path,
            key="funnel",
        )
    if by in PLACE_LEVELS:
        return "total", "patient_total", by
    if by in funnel.splits:
        return f"by_{by}", f"patient_by_{by}", "global"
    choices = ", ".join([*PLACE_LEVELS, *funnel.splits])
    if by in (a.name for a in scenario.axes):
        raise ScenarioError(
            f"by={by!r}: the funnel does not split its patients over {by} (it splits over "
            f"{', '.join(funnel.splits) or 'no axis'}); choose one of {choices}"
        )
    raise ArgumentValueError(f"by={by!r} is not one of {choices}", argument="by")


def reconcile_cells(
    scenario: Scenario, arrays: dict[str, np.ndarray], by: str
) -> tuple[xr.DataArray, xr.DataArray]:
    """The top-down and patient-based values of the cells compared ``by`` a level, from
    plain kernel arrays (``propagate(as_arrays=True)``): each ``(draw, year[, cell])``,
    float64."""
    top_down, patient_based, level = _outputs(scenario, by)
    layout = OutputLayout.of(scenario)
    return (
        layout.aggregate_arrays(arrays, top_down, level),
        layout.aggregate_arrays(arrays, patient_based, level),
    )


def _check_counts(
    scenario: Scenario, arrays: dict[str, np.ndarray], inputs: np.ndarray
) -> np.ndarray:
    """Each funnel check's count in every draw, (draw, check), float64: the stage's
    patients in its places, times the split's shares of its segments (which apply at every
    stage), computed from the draws' own inputs."""
    funnel = scenario.funnel
    layout = OutputLayout.of(scenario)
    patients = arrays["patients"]
    counts = np.empty((patients.shape[0], len(funnel.checks)))
    region_of = layout.region_index
    per_draw = draw_arrays(scenario, inputs) if any(c.axis for c in funnel.checks) else None
    for j, check in enumerate(funnel.checks):
        year = layout.years.index(check.year)
        places = [layout.countries.index(c) for c in check.countries]
        stage = funnel.stages.index(check.stage)
        people = patients[:, year, places, stage].astype(np.float64)
        if check.axis is not None:
            segments = split_segments(funnel, check.axis)
            shares = np.empty((patients.shape[0], len(layout.regions), len(segments)))
            split_share_kernel(
                funnel_arrays(scenario),
                per_draw,
                year,
                funnel.splits.index(check.axis),
                shares,
            )
            picked = shares[..., [segments.index(s) for s in check.segments]].sum(axis=-1)
            people = people * picked[:, region_of[places]]
        counts[:, j] = people.sum(axis=1)
    return counts


def reconcile(
    scenario: Scenario,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    sampler: str = "mc",
    by: str = "global",
    q: Sequence[float] = HEADLINE_QUANTILES,
    confidence: float = 0.95,
    chunk_size: int = DEFAULT_CHUNK,
) -> xr.Dataset:
    """Compare the patient-based model with the top-down one, per year and cell.

    Parameters
    ----------
    scenario : Scenario
        With a ``[funnel]``.
    draws, seed, sampler
        As :func:`netsim.simulate`: the same arguments give the same draws.
    by : str
        ``global``, ``region``, ``country``, or an axis the funnel splits over (its
        segments, summed globally); ``product`` or ``company``: each one's two views
        (:func:`netsim.analyze.product_reconcile.reconcile_products`).
    q : sequence of float
        Quantiles of the bands.
    confidence : float
        Of the bands' order-statistic intervals.
    chunk_size : int
        Draws propagated at a time (only the compared cells are kept).

    Returns
    -------
    xarray.Dataset
        Over ``year`` and the cell dimension (none for ``global``):

        - ``ratio`` (quantile, ...): bands of patient-based / top-down, with
          ``ratio_low`` and ``ratio_high`` (their intervals);
        - ``gap`` (quantile, ...): bands of patient-based - top-down (the market's
          unit), ``gap_mean`` its mean and ``gap_share`` the cell's share of the mean
          gap summed over the cells (additive: the shares sum to 1);
        - ``top_down``, ``patient_based`` (quantile, ...): the two models' bands, in the
          market's unit, and ``top_down_base``, ``patient_based_base``: their base cases;
        - ``prob_patient_above``: P(patient-based > top-down), and
          ``prob_patient_above_interval`` (bound, ...): its 95 % Clopper-Pearson interval
          (:mod:`netsim.stats.proportions`), honest where every draw agrees;
        - ``explained`` (..., parameter): the squared rank correlation of each input with
          the ratio, the share of its variance that input explains alone;
        - per cell, in the base year: ``implied_price_factor`` (x every price) and
          ``implied_treated_share`` (%) at which the two base cases agree, each checked
          (``*_agrees``) and compared with the funnel's plausible range
          (``*_plausible``), and ``implied_treated_patients`` against
          ``treated_patients``;
        - ``gap_base_year``, ``gap_factor_point``, ``gap_factor_implied``,
          ``gap_closed_alone``, ``gap_closed_shapley`` (factor, ...) and
          ``gap_implied_mix``: the base-year gap by factor
          (:func:`netsim.analyze.gap.decompose_gap`; the Shapley values sum to the gap);
        - ``check_*`` (check, quantile): the funnel's count of each stated figure, and
          for a count target the factor solved and its solved point.

    Raises
    ------
    ScenarioError
        Without a funnel, for an unknown ``by``, or for a request the sampler refuses.
    """
    if by in PRODUCT_LEVELS:  # each product's two views (netsim.analyze.product_reconcile)
        return reconcile_products(scenario, draws, seed, sampler, by, q, confidence, chunk_size)
    _outputs(scenario, by)
    check_request(draws, seed, sampler, 0, draws if isinstance(draws, int) else 0)
    if chunk_size < 1:
        raise ArgumentValueError(f"chunk_size={chunk_size} must be >= 1", argument="chunk_size")
    layout = OutputLayout.of(scenario)
    probe_td, _ = reconcile_cells(
        scenario, {o: np.zeros((1, *layout.shape(o)), np.float32) for o in layout.outputs}, by
    )
    cells = int(np.prod(probe_td.shape[1:]))
    check_fits_in_memory(
        draws * (2 * 8 * cells + 8 * len(scenario.parameters)),
        f"reconciling {draws:,} draws (each keeps its cells and inputs)",
    )
    inputs = sample_inputs(scenario, draws, seed, sampler)
    top_down = np.empty((draws, *probe_td.shape[1:]))
    patient_based = np.empty_like(top_down)
    counts = np.empty((draws, len(scenario.funnel.checks)))
    buffers = None
    for start in range(0, draws, chunk_size):
        stop = min(start + chunk_size, draws)
        if buffers is not None and stop - start != buffers["total"].shape[0]:
            buffers = None
        buffers = propagate(  # sampled from the scenario: within every rule
            scenario, inputs[start:stop], as_arrays=True, out=buffers, check=False
        )
        td, pb = reconcile_cells(scenario, buffers, by)
        top_down[start:stop], patient_based[start:stop] = td.values, pb.values
        counts[start:stop] = _check_counts(scenario, buffers, inputs[start:stop])
    template = probe_td.isel(draw=0, drop=True)
    result = summarise(scenario, top_down, patient_based, inputs, template, by, q, confidence)
    result = result.merge(_checks(scenario, counts, q))
    result.attrs.update({"draws": draws, "seed": seed, **coverage_attrs(sampler)})
    return result


def summarise(
    scenario: Scenario,
    top_down: np.ndarray,
    patient_based: np.ndarray,
    inputs: np.ndarray,
    template: xr.DataArray,
    by: str,
    q: Sequence[float] = HEADLINE_QUANTILES,
    confidence: float = 0.95,
) -> xr.Dataset:
    """The reconciliation of paired draws: ``top_down`` and ``patient_based`` are
    ``(draw, year[, cell])``, ``inputs`` ``(draw, parameter)``; ``template`` labels one
    draw's cells."""
    n = top_down.shape[0]
    if n < 2:
        raise ScenarioError(f"reconciling needs at least 2 draws, got {n}")
    if not (np.isfinite(top_down).all() and np.isfinite(patient_based).all()):
        raise ScenarioError("the draws hold NaN or inf: the run is damaged")
    if (top_down <= 0).any():
        raise ScenarioError("a top-down value is not > 0, so no ratio can be formed")
    dims = ("draw", *template.dims)
    coords = {k: v for k, v in template.coords.items()}

    def labelled(values: np.ndarray, units: str) -> xr.DataArray:
        return xr.DataArray(values, dims=dims, coords=coords, attrs={"units": units})

    unit = scenario.unit
    ratio = band_intervals(labelled(patient_based / top_down, "1"), q, confidence)
    td = band_intervals(labelled(top_down, unit), q, confidence)["value"]
    pb = band_intervals(labelled(patient_based, unit), q, confidence)["value"]
    gap = band_intervals(labelled(patient_based - top_down, unit), q, confidence)["value"]
    gap_mean = (patient_based - top_down).mean(axis=0)  # (year[, cell]): additive over cells
    cell_axes = tuple(range(1, gap_mean.ndim))
    total_gap = gap_mean.sum(axis=cell_axes, keepdims=True) if cell_axes else gap_mean
    with np.errstate(divide="ignore", invalid="ignore"):
        gap_share = gap_mean / total_gap
    above_low, above_high = proportion_interval((patient_based > top_down).sum(axis=0), n)
    above = (patient_based > top_down).mean(axis=0)
    ranks_in = centred_ranks(inputs)
    ranks_out = centred_ranks((patient_based / top_down).reshape(n, -1))
    explained = (ranks_out.T @ ranks_in) ** 2  # (cells, parameter)
    explained = explained.reshape((*template.shape, inputs.shape[1]))
    base = _base_cases(scenario, by)
    result = xr.Dataset(
        {
            "ratio": ratio["value"].assign_attrs(units="1", long_name="patient-based / top-down"),
            "ratio_low": ratio["low"],
            "ratio_high": ratio["high"],
            "top_down": td.assign_attrs(units=unit, long_name="top-down market value"),
            "patient_based": pb.assign_attrs(units=unit, long_name="patient-based market value"),
            "gap": gap.assign_attrs(units=unit, long_name="patient-based - top-down"),
            "gap_mean": (
                template.dims,
                gap_mean,
                {"units": unit, "long_name": "mean of patient-based - top-down"},
            ),
            "gap_share": (
                template.dims,
                gap_share,
                {"units": "1", "long_name": "the cell's share of the summed mean gap"},
            ),
            "prob_patient_above": (
                template.dims,
                above,
                {"long_name": "P(patient-based > top-down)"},
            ),
            "prob_patient_above_interval": (
                ("bound", *template.dims),
                np.stack([above_low, above_high]),
                {"long_name": f"95 % {PROPORTION_INTERVAL} interval"},
            ),
            "explained": (
                (*template.dims, "parameter"),
                explained,
                {"long_name": "share of the ratio's rank variance one input explains alone"},
            ),
            **base,
        },
        coords={**coords, "parameter": list(scenario.parameter_names), "bound": ["low", "high"]},
        attrs={
            "by": by,
            "confidence": confidence,
            "units": unit,
            "scenario": scenario.name,
            "base_year": scenario.years[0],
            "price_unit": scenario.funnel.price_unit,
        },
    )
    return result.merge(_decomposition(scenario, by))


def _decomposition(scenario: Scenario, by: str) -> xr.Dataset:
    """Each cell's base-year gap decomposed into the funnel's factors
    (:func:`netsim.analyze.gap.decompose_gap`)."""
    funnel = scenario.funnel
    _, _, level = _outputs(scenario, by)
    base = run_kernel(scenario, expected_draw_arrays(scenario))
    td, _ = reconcile_cells(scenario, base, by)
    first = td.isel(draw=0, year=0, drop=True)
    mix = np.zeros(0)
    if funnel.cost_axis is not None:
        mix = base[f"by_{funnel.cost_axis}"][0, 0].sum(axis=0)
    return decompose_gap(
        scenario,
        by,
        level if by in PLACE_LEVELS else "axis",
        list(first.dims),
        first.shape,
        first.values.reshape(-1),
        mix,
    )


def _base_cases(scenario: Scenario, by: str) -> dict[str, Any]:
    """The base cases of both models, and the implied price factor and treated share at
    which they agree in the base year (solved, then checked by running them). A cell
    whose patient-based value is 0 has no solution: its factor is inf, flagged as not
    agreeing (numpy's warnings about it are expected)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _solve_base_cases(scenario, by)


def _solve_base_cases(scenario: Scenario, by: str) -> dict[str, Any]:
    funnel = scenario.funnel
    base = run_kernel(scenario, expected_draw_arrays(scenario))
    td, pb = reconcile_cells(scenario, base, by)
    td, pb = td.isel(draw=0, drop=True), pb.isel(draw=0, drop=True)
    first_td = td.isel(year=0).values.reshape(-1)
    first_pb = pb.isel(year=0).values.reshape(-1)
    factor = first_td / first_pb  # the base-year value is linear in each of them
    cell_dims = [d for d in td.dims if d != "year"]
    cell_shape = td.isel(year=0).shape
    stage_parameters = [f.parameter for f in funnel.factors if f.kind == "stage"]
    treated_parameter = stage_parameters[-1]
    price_parameters = [
        f.parameter.name
        for f in funnel.factors
        if f.kind == "cost" and not f.name.endswith("doses_per_year")
    ]
    point = {p.name: p.distribution.point for p in scenario.parameters}
    price_rows = [{name: point[name] * m for name in price_parameters} for m in factor]
    share_rows = [{treated_parameter.name: point[treated_parameter.name] * m} for m in factor]
    finite = np.isfinite(factor)
    achieved = {}
    for key, rows in (("price", price_rows), ("share", share_rows)):
        safe = [row if ok else {} for row, ok in zip(rows, finite, strict=True)]
        arrays = run_kernel(scenario, expected_draw_arrays(scenario, safe))
        a_td, a_pb = reconcile_cells(scenario, arrays, by)
        diagonal = np.array(
            [
                a_pb.isel(year=0).values.reshape(len(rows), -1)[i, i]
                / a_td.isel(year=0).values.reshape(len(rows), -1)[i, i]
                for i in range(len(rows))
            ]
        )
        achieved[key] = np.where(finite, diagonal, np.nan)
    # the share the cell's patients get: the file's figure (x the multiplier a count
    # target solved) x its region's multiplier, and a country's own (a global or segment
    # cell: the file's figure, which every region scales)
    treated_factor = [f for f in funnel.factors if f.kind == "stage"][-1]
    multiplier = np.ones(factor.size)
    if by == "region":
        multiplier = np.array([treated_factor.by_region[r.name] for r in scenario.regions])
    elif by == "country":
        multiplier = np.array(
            [
                treated_factor.by_region[c.region] * treated_factor.by_country.get(c.name, 1.0)
                for c in scenario.countries
            ]
        )
    solved = scenario.calibration.funnel_scale.get(treated_factor.name, 1.0)
    share = treated_parameter.distribution.point * solved * factor * multiplier  # percent
    implied_treated = _treated_patients(scenario, base, by) * factor
    agrees_price = np.abs(achieved["price"] - 1.0) <= AGREEMENT_TOLERANCE
    agrees_share = (np.abs(achieved["share"] - 1.0) <= AGREEMENT_TOLERANCE) & (share <= 100.0)
    low_p, high_p = funnel.plausible_price or (np.nan, np.nan)
    low_s, high_s = funnel.plausible_treated or (np.nan, np.nan)
    treated = _treated_patients(scenario, base, by)

    def cell(values: np.ndarray, attrs: dict[str, Any] | None = None) -> tuple:
        return (cell_dims, np.asarray(values).reshape(cell_shape), attrs or {})

    return {
        "top_down_base": td.assign_attrs(units=scenario.unit),
        "patient_based_base": pb.assign_attrs(units=scenario.unit),
        "implied_price_factor": cell(
            factor, {"long_name": "factor on every price at which the base cases agree"}
        ),
        "implied_price_factor_agrees": cell(agrees_price),
        "implied_price_factor_plausible": cell(
            agrees_price & (factor >= low_p) & (factor <= high_p)
        ),
        "implied_treated_share": cell(
            np.where(agrees_share, share, np.nan),
            {
                "units": "%",
                "long_name": f"the cell's {treated_parameter.name} (x by_region) at which "
                "they agree",
            },
        ),
        "implied_treated_share_agrees": cell(agrees_share),
        "implied_treated_share_plausible": cell(
            agrees_share & (share >= 100 * low_s) & (share <= 100 * high_s)
        ),
        "treated_patients": cell(treated, {"units": "patients"}),
        "implied_treated_patients": cell(implied_treated, {"units": "patients"}),
    }


def _treated_patients(scenario: Scenario, arrays: dict[str, np.ndarray], by: str) -> np.ndarray:
    """The base case's treated patients of each cell in the base year."""
    layout = OutputLayout.of(scenario)
    _, _, level = _outputs(scenario, by)
    if by in PLACE_LEVELS:
        treated = layout.aggregate_arrays(arrays, "patients", level)
        return treated.isel(draw=0, year=0).isel(stage=-1).values.reshape(-1)
    return layout.aggregate_arrays(arrays, f"treated_by_{by}", "global").isel(draw=0, year=0).values


def _checks(scenario: Scenario, counts: np.ndarray, q: Sequence[float]) -> xr.Dataset:
    checks = scenario.funnel.checks
    if not checks:
        return xr.Dataset()
    ids = [c.id for c in checks]
    above = counts > np.array([c.value for c in checks])
    bands = band_intervals(xr.DataArray(counts, dims=("draw", "check"), coords={"check": ids}), q)[
        "value"
    ]
    solved = {row["id"]: row for row in funnel_target_rows(scenario)}
    return xr.Dataset(
        {
            "check_funnel": bands.assign_attrs(units="patients"),
            "check_solves": (
                "check",
                [solved[c.id]["parameter"] if c.id in solved else "" for c in checks],
                {"long_name": "the funnel factor a count target is solved with ('' for a check)"},
            ),
            "check_solved": (
                "check",
                [solved[c.id]["solved"] if c.id in solved else np.nan for c in checks],
                {"long_name": "the solved factor's point, in its unit"},
            ),
            "check_solved_unit": (
                "check",
                [solved[c.id]["unit"] if c.id in solved else "" for c in checks],
            ),
            "check_stated": ("check", [c.value for c in checks], {"units": "patients"}),
            "check_label": ("check", [c.label for c in checks]),
            "check_stage": ("check", [c.stage for c in checks]),
            "check_year": ("check", [c.year for c in checks]),
            "check_source": ("check", [c.source for c in checks]),
            "check_prob_above": ("check", above.mean(axis=0)),
            "check_prob_above_interval": (
                ("bound", "check"),
                np.stack(proportion_interval(above.sum(axis=0), above.shape[0])),
                {"long_name": f"95 % {PROPORTION_INTERVAL} interval"},
            ),
        },
        coords={"check": ids, "bound": ["low", "high"]},
    )


def _in_scenario_order(dataset: xr.Dataset, layout: OutputLayout, label: str) -> xr.Dataset:
    """The run with its labels in its scenario's order (a run re-ordered or cut after it
    was written is read by label, or refused when labels are missing)."""
    wanted = {"year": list(layout.years), "country": list(layout.countries)}
    wanted["stage"] = list(layout.stages)
    wanted.update({a: list(s) for a, s in zip(layout.axes, layout.segments, strict=True)})
    for dim, labels in wanted.items():
        held = dataset[dim].values.tolist() if dim in dataset.coords else []
        if sorted(map(str, held)) != sorted(map(str, labels)):
            raise ScenarioError(
                f"{label}: its {dim} labels differ from its scenario's ({len(held)} against "
                f"{len(labels)}): a run cut or changed after it was written cannot be reconciled"
            )
    return dataset.sel({dim: labels for dim, labels in wanted.items()})


def reconcile_run(dataset: xr.Dataset, by: str = "global", label: str = "the run") -> xr.Dataset:
    """:func:`reconcile` from the draws of a run of a scenario with a funnel (the base
    cases and implied values from the scenario the run stores).

    Raises
    ------
    ScenarioError
        If the run has no patient-based outputs or no draws.
    """
    from netsim.analyze.cells import load_draws, require_draws
    from netsim.model.load import scenario_of_run

    require_draws(dataset, "a reconciliation")
    if "patient_total" not in dataset or "inputs" not in dataset:
        raise ScenarioError(f"{label} holds no patient-based outputs (its scenario has no funnel)")
    scenario = scenario_of_run(
        str(dataset.attrs.get("scenario_document", "{}")),
        str(dataset.attrs.get("calibration", "")),
        label,
    )
    if dataset.attrs.get("scenario_hash") != scenario.scenario_hash:
        raise ScenarioError(f"{label}: its stored scenario does not match its hash")
    top_down, patient_based, level = _outputs(scenario, by)
    layout = OutputLayout.of(scenario)
    dataset = _in_scenario_order(dataset, layout, label)
    td = layout_aggregate(dataset[top_down], level)
    pb = layout_aggregate(dataset[patient_based], level)
    td = load_draws(td, f"the draws of {top_down}").transpose("draw", ...)
    pb = load_draws(pb, f"the draws of {patient_based}").transpose("draw", ...)
    inputs = np.asarray(dataset["inputs"].sel(parameter=list(layout.parameters)).values)
    result = summarise(
        scenario,
        np.asarray(td.values, dtype=np.float64),
        np.asarray(pb.values, dtype=np.float64),
        inputs,
        td.isel(draw=0, drop=True),
        by,
    )
    patients = {"patients": np.asarray(dataset["patients"].transpose("draw", ...).values)}
    counts = _check_counts(scenario, patients, inputs)
    result = result.merge(_checks(scenario, counts, HEADLINE_QUANTILES))
    if "seed" in dataset.attrs:
        result.attrs["seed"] = dataset.attrs["seed"]
    result.attrs.update(coverage_attrs(dataset.attrs.get("sampler")))
    result.attrs["draws"] = int(td.sizes["draw"])
    return result
