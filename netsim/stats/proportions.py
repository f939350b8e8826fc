"""How sure an estimated probability is: exact (Clopper-Pearson) binomial intervals.

A probability estimated as the share of ``n`` independent draws in which something
happens (``P(value > x)``, ``P(patient-based > top-down)``, ``P(other > base)``) is a
binomial proportion. Its Clopper-Pearson interval (Clopper & Pearson 1934) holds the
true probability at least ``confidence`` of the time for every ``p`` and ``n``, and stays
honest at the edges: 0 of 20,000 draws gives ``[0, 1.8e-4]`` at 95 %, never the zero-width
interval ``p +- sqrt(p (1 - p) / n)`` gives there. It is what
``scipy.stats.binomtest(k, n).proportion_ci(method="exact")`` returns, taken here for whole
arrays at once (tested against it).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from netsim.errors import ArgumentValueError

__all__ = ["PROPORTION_INTERVAL", "proportion_interval", "share_with_interval"]

PROPORTION_INTERVAL = "Clopper-Pearson (exact binomial)"


def proportion_interval(
    successes: np.ndarray, trials: int, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson interval of a binomial proportion, element by element.

    Parameters
    ----------
    successes : array of int
        Draws in which the event happened, each in ``[0, trials]``.
    trials : int
        Draws (>= 1).
    confidence : float
        In (0, 1).

    Returns
    -------
    low, high : ndarray of float64
        ``low = 0`` where no draw had the event, ``high = 1`` where every draw had it.
    """
    if not 0.0 < confidence < 1.0:
        raise ArgumentValueError(
            f"confidence={confidence} must lie in (0, 1)", argument="confidence"
        )
    if trials < 1:
        raise ArgumentValueError(f"trials={trials} must be >= 1", argument="trials")
    from scipy import special  # imported on use: a plain run never needs scipy

    k = np.asarray(successes, dtype=np.float64)
    tail = (1.0 - confidence) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(k > 0, special.betaincinv(k, trials - k + 1.0, tail), 0.0)
        high = np.where(k < trials, special.betaincinv(k + 1.0, trials - k, 1.0 - tail), 1.0)
    return low, high


def share_with_interval(
    happened: xr.DataArray, dim: str = "draw", confidence: float = 0.95
) -> tuple[xr.DataArray, xr.DataArray]:
    """The share of ``dim`` where ``happened`` is true, and its interval over ``(bound, ...)``.

    Returns
    -------
    probability : DataArray
        The share of draws, over the other dims.
    interval : DataArray
        Its Clopper-Pearson interval, ``bound`` (low, high) first; attrs ``method`` and
        ``confidence``.
    """
    trials = happened.sizes[dim]
    count = happened.sum(dim)
    low, high = proportion_interval(count.values, trials, confidence)
    interval = xr.concat([count.copy(data=low), count.copy(data=high)], dim="bound").assign_coords(
        bound=["low", "high"]
    )
    interval.attrs = {
        "method": PROPORTION_INTERVAL,
        "confidence": confidence,
        "long_name": f"{100 * confidence:g} % {PROPORTION_INTERVAL} interval",
    }
    return count / trials, interval
