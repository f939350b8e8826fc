"""Where the gap between the two models is: the base-year gap of each cell decomposed
into the patient funnel's factors.

The gap of a cell is its patient-based base case minus its top-down base case (the
market's unit). Each factor of the funnel that changes the value (the rate and duration,
each stage's share, each cost, and the mix over the cost axis's segments) is given the
value the top-down model implies for it:

* the mix: the top-down model's own split of the market over those segments (its base-year
  value shares), turned into patient shares at the funnel's costs;
* every other factor: the one value of all of them together at which the funnel meets the
  cell's top-down value, the log-gap left after the mix shared among them in proportion to
  the variance of each one's log (its distribution's spread: the funnel's own statement of
  how unsure it is). For independent lognormal factors these are the most likely values
  whose product meets the top-down value; a fixed factor keeps its value.

With all factors at those values the cell's two models agree, so the gap is fully
decomposed. Each factor's share is its Shapley value (the gap it closes, averaged over
every order in which the factors could be moved: the shares add up to the gap exactly),
beside the gap it closes alone (moved first, the others as in the file). Shapley values
of the players that do not move are 0 and leave the others' unchanged, so only the moved
factors are enumerated (2^n base cases, one batch per cell). The base year only: no driver
or event acts yet, so the decomposition is of the two files' own figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr

from netsim.model.arrays import expected_draw_arrays, funnel_arrays, funnel_scales
from netsim.model.numpy_oracle import reference_funnel
from netsim.scenario.schema import Scenario

__all__ = ["MAX_MOVED_FACTORS", "decompose_gap", "log_variance"]

MAX_MOVED_FACTORS = 16  # 2^16 base cases a cell: an exact Shapley value stays cheap
LOG_VARIANCE_POINTS = 4001  # quantiles of a distribution its log-variance is taken over
BATCH_ROWS = 4096  # base cases evaluated at once (bounds the memory of one batch)
SOLVER_TOLERANCE = 1e-13  # on the common step t of the factors' logs


@dataclass(frozen=True)
class _Player:
    """A factor of the decomposition: the funnel factors (columns) it moves together."""

    name: str
    columns: tuple[int, ...]
    weight: float  # variance of its log (0: it keeps its value); the mix is set instead
    is_mix: bool = False

    @property
    def moves(self) -> bool:
        return self.is_mix or self.weight > 0


def log_variance(distribution: object) -> float:
    """The variance of the log of a positive distribution's values, from its quantiles
    (0 for a fixed one; values at 0 are taken at the smallest positive one)."""
    if distribution.is_constant:
        return 0.0
    u = (np.arange(LOG_VARIANCE_POINTS) + 0.5) / LOG_VARIANCE_POINTS
    values = np.asarray(distribution.ppf(u), dtype=np.float64)
    positive = values[values > 0]
    if positive.size == 0:
        return 0.0
    return float(np.var(np.log(np.maximum(values, positive.min()))))


def _players(scenario: Scenario) -> list[_Player]:
    """The rate, duration, stages and costs one by one, then the cost axis's mix."""
    funnel = scenario.funnel
    players = []
    for i, factor in enumerate(funnel.factors):
        if factor.kind in ("cases", "stage", "cost"):
            weight = log_variance(factor.parameter.distribution)
            players.append(_Player(factor.parameter.name, (i,), weight))
    if funnel.cost_axis is not None:
        members = tuple(
            i
            for i, f in enumerate(funnel.factors)
            if f.kind == "split" and f.axis == funnel.cost_axis
        )
        players.append(_Player(f"funnel.split.{funnel.cost_axis}", members, 0.0, is_mix=True))
    return players


class _BaseYear:
    """The funnel's base-year value of every cell for rows of factor values (the kernel's
    units): the numpy oracle on the base year alone, where no driver or event acts."""

    def __init__(self, scenario: Scenario, by: str, level: str):
        arrays = funnel_arrays(scenario)
        self.arrays = arrays._replace(
            population=arrays.population[:, :1],
            forecast_years=arrays.forecast_years[:0],
            driver_geo=arrays.driver_geo[:, :, :0],
            event_geo=arrays.event_geo[:, :, :0],
        )
        self.draws = expected_draw_arrays(scenario)
        self.splits = scenario.funnel.splits
        self.by, self.level = by, level
        self.n_regions = len(scenario.regions)

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        """(row, factor) -> (row, cell), in the market's unit."""
        out = []
        for start in range(0, rows.shape[0], BATCH_ROWS):
            draws = self.draws._replace(funnel_base=rows[start : start + BATCH_ROWS])
            with np.errstate(all="ignore"):
                result = reference_funnel(self.arrays, draws, self.splits)
            if self.level == "axis":
                out.append(result[f"patient_by_{self.by}"][:, 0].sum(axis=1))
                continue
            total = result["patient_total"][:, 0]  # (row, country)
            if self.level == "country":
                out.append(total)
            elif self.level == "region":
                summed = np.zeros((total.shape[0], self.n_regions))
                np.add.at(summed.T, self.arrays.region_of, total.T)
                out.append(summed)
            else:
                out.append(total.sum(axis=1, keepdims=True))
        return np.concatenate(out, axis=0)


@dataclass
class _Moves:
    """The moved players, their values at the start, and the mix the top-down implies."""

    players: list[_Player]
    base_row: np.ndarray  # every factor's point, in the kernel's unit
    mix: np.ndarray | None  # the implied split shares of the cost axis (sum 1)

    def rows(self, moved: np.ndarray, multipliers: np.ndarray) -> np.ndarray:
        """One row of factor values per coalition (``moved``: (coalition, player))."""
        rows = np.repeat(self.base_row[None, :], moved.shape[0], axis=0)
        for j, player in enumerate(self.players):
            picked = np.ix_(moved[:, j], list(player.columns))
            if player.is_mix:
                rows[picked] = self.mix[None, :]
            else:
                rows[picked] *= multipliers[j]
        return rows


def _implied_mix(scenario: Scenario, base_row: np.ndarray, top_down_mix: np.ndarray) -> np.ndarray:
    """The top-down model's value shares over the cost axis, as the funnel's split shares
    (patients) at its own costs per patient-year (sum 1)."""
    funnel = scenario.funnel
    costs = [i for i, f in enumerate(funnel.factors) if f.kind == "cost"]
    per_patient = base_row[costs[0::2]] * base_row[costs[1::2]]  # one cost per segment
    safe = np.where(per_patient > 0, per_patient, 1.0)
    patients = np.where(per_patient > 0, top_down_mix / safe, 0.0)
    if not patients.sum() > 0:  # no top-down value on the axis: the funnel's own mix
        members = [
            i
            for i, f in enumerate(funnel.factors)
            if f.kind == "split" and f.axis == funnel.cost_axis
        ]
        patients = base_row[members]
    return patients / patients.sum()


def _solve_step(value_of: _BaseYear, moves: _Moves, cell: int, wanted: float) -> np.ndarray | None:
    """The multipliers ``exp(t x weight)`` of the moved players at which, the mix set, the
    funnel meets ``wanted`` in ``cell`` (one common step ``t``); None when none can."""
    from scipy.optimize import brentq

    weights = np.array([p.weight for p in moves.players])
    everyone = np.ones((1, len(moves.players)), dtype=bool)

    def miss(t: float) -> float:
        with np.errstate(over="ignore"):  # far steps overflow: the value is then inf
            got = value_of(moves.rows(everyone, np.exp(t * weights)))[0, cell]
        if np.isnan(got):
            return math.nan
        return math.log(got) - math.log(wanted) if got > 0 else -math.inf

    if not wanted > 0:
        return None
    at_zero = miss(0.0)
    if at_zero == 0.0:
        return np.ones(len(weights))
    if not (np.isfinite(at_zero) and weights.max(initial=0.0) > 0):
        return None
    direction, span = (-1.0 if at_zero > 0 else 1.0), 1.0
    while not miss(direction * span) * at_zero <= 0:  # the same side of the target still
        span *= 2.0
        if span > 1e6:  # capped shares or vanishing factors: the target is out of reach
            return None
    low, high = sorted((0.0, direction * span))
    step = brentq(miss, low, high, xtol=SOLVER_TOLERANCE, rtol=4 * np.finfo(float).eps)
    return np.exp(step * weights)


def _shapley(values: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """Each player's Shapley value of the gap closed, from the value of every coalition
    (``values[k]`` for coalition ``moved[k]``, all 2^n of them in binary order)."""
    n = moved.shape[1]
    size = moved.sum(axis=1)
    weight = np.array([math.factorial(s) * math.factorial(n - s - 1) for s in range(n)])
    weight = weight / math.factorial(n)
    out = np.zeros(n)
    index = np.arange(values.shape[0])
    for j in range(n):
        without = index[~moved[:, j]]
        closed = values[without] - values[without | (1 << j)]
        out[j] = (weight[size[without]] * closed).sum()
    return out


def decompose_gap(
    scenario: Scenario,
    by: str,
    level: str,
    cell_dims: list[str],
    cell_shape: tuple[int, ...],
    top_down: np.ndarray,
    top_down_mix: np.ndarray,
) -> xr.Dataset:
    """The decomposition of each cell's base-year gap into the funnel's factors.

    Parameters
    ----------
    scenario : Scenario
        With a funnel.
    by, level : str
        What the cells are: ``by`` a place level or a split axis; ``level`` one of
        ``global``, ``region``, ``country`` or ``axis``.
    cell_dims, cell_shape
        The cells' dimensions and shape (none for ``global``).
    top_down : ndarray, shape (cell,)
        The top-down base case of each cell in the base year, in the market's unit.
    top_down_mix : ndarray, shape (segment,)
        The top-down base case's global value of each segment of the funnel's cost axis.

    Returns
    -------
    xarray.Dataset
        Over ``factor`` and the cells: ``gap_base_year`` (the funnel's base case minus
        the top-down one), ``gap_factor_point`` and ``gap_factor_implied`` (each factor's
        point, as any count target solved it, and the value the top-down model implies,
        in its unit; none for the mix), ``gap_closed_alone`` and ``gap_closed_shapley``
        (the market's unit; the Shapley values add up to the gap), and, with a cost axis,
        ``gap_implied_mix`` (% of the treated patients).
    """
    funnel = scenario.funnel
    players = _players(scenario)
    base_row = np.array([f.parameter.distribution.point for f in funnel.factors])
    base_row = base_row * funnel_scales(scenario)
    mix = next((p for p in players if p.is_mix), None)
    moves = _Moves(
        [p for p in players if p.moves],
        base_row,
        None if mix is None else _implied_mix(scenario, base_row, top_down_mix),
    )
    decomposable = len(moves.players) <= MAX_MOVED_FACTORS
    value_of = _BaseYear(scenario, by, level)
    point = np.array(
        [
            base_row[p.columns[0]] / funnel.factors[p.columns[0]].scale if not p.is_mix else np.nan
            for p in players
        ]
    )
    n_cells = int(np.prod(cell_shape)) if cell_shape else 1
    n = len(moves.players)
    moved = ((np.arange(2**n if decomposable else 1)[:, None] >> np.arange(n)) & 1).astype(bool)
    own = value_of(moves.rows(moved[:1], np.ones(n)))[0]
    gap = own - top_down
    implied = np.where(np.isnan(point), np.nan, point)[:, None].repeat(n_cells, axis=1)
    alone = np.zeros((len(players), n_cells))
    shapley = np.zeros((len(players), n_cells))
    for cell in range(n_cells):
        multipliers = None
        if decomposable:  # else too many coalitions to enumerate: left undecomposed (NaN)
            multipliers = _solve_step(value_of, moves, cell, float(top_down[cell]))
        if multipliers is None or not np.isfinite(gap[cell]):
            implied[:, cell] = alone[:, cell] = shapley[:, cell] = np.nan
            continue
        values = value_of(moves.rows(moved, multipliers))[:, cell]
        for k, value in enumerate(_shapley(values, moved)):
            j = players.index(moves.players[k])
            shapley[j, cell] = value
            alone[j, cell] = values[0] - values[1 << k]
            implied[j, cell] = point[j] * multipliers[k]
    arrays = {"point": point, "gap": gap, "implied": implied, "alone": alone, "shapley": shapley}
    return _labelled(scenario, players, moves, cell_dims, cell_shape, arrays)


def _labelled(
    scenario: Scenario,
    players: list[_Player],
    moves: _Moves,
    cell_dims: list[str],
    cell_shape: tuple[int, ...],
    arrays: dict[str, np.ndarray],
) -> xr.Dataset:
    """The decomposition as a Dataset (see :func:`decompose_gap`); ``arrays`` holds the
    factors' ``point``, each cell's ``gap``, and ``implied``, ``alone`` and ``shapley``
    (factor, cell)."""
    point, gap, implied = arrays["point"], arrays["gap"], arrays["implied"]
    alone, shapley = arrays["alone"], arrays["shapley"]
    mix = next((p for p in players if p.is_mix), None)
    unit = scenario.unit
    shape = (len(players), *cell_shape)
    dims = ("factor", *cell_dims)
    variables = {
        "gap_base_year": (
            cell_dims,
            gap.reshape(cell_shape),
            {"units": unit, "long_name": "base-year gap, patient-based - top-down base case"},
        ),
        "gap_factor_point": ("factor", point, {"long_name": "the factor's point (as solved)"}),
        "gap_factor_implied": (
            dims,
            implied.reshape(shape),
            {"long_name": "the value the top-down model implies for the factor"},
        ),
        "gap_closed_alone": (
            dims,
            alone.reshape(shape),
            {"units": unit, "long_name": "gap closed by moving the factor alone"},
        ),
        "gap_closed_shapley": (
            dims,
            shapley.reshape(shape),
            {"units": unit, "long_name": "gap closed by the factor (Shapley value)"},
        ),
    }
    coords = {"factor": [p.name for p in players]}
    if mix is not None:
        variables["gap_implied_mix"] = (
            "mix_segment",
            100.0 * moves.mix,
            {"units": "%", "long_name": "the top-down model's mix, in treated patients"},
        )
        coords["mix_segment"] = [scenario.funnel.factors[i].segment for i in mix.columns]
    return xr.Dataset(variables, coords=coords)
