"""A run record's cube, recomputed from its inputs and checked against what it keeps.

A record (:mod:`netsim.run.record`) keeps every draw's inputs, a checksum of each
output's cells chunk by chunk, and the global and regional totals of every draw. The
cube is recomputed chunk by chunk (at once when it fits the memory budget, else lazily
as Dask arrays, each chunk when it is read), and each chunk is checked:

* its checksum equals the stored one: the cube is the one the run made, bit for bit,
  and the stored totals must then equal the recomputed ones exactly;
* it differs (another CPU or math library may change the last bits of a value): the
  recomputed totals must agree with the stored ones within :data:`RELATIVE_TOLERANCE`;
* anything else (the totals or the inputs edited, another kernel) is a damaged or
  foreign run, refused in one line (:class:`~netsim.errors.RunFileError`).

A record's inputs must also be the ones its seed and sampler give, chunk by chunk (a
chunk's sampling costs a fraction of its propagation): inputs, totals and checksums
copied together from another run are as consistent with each other as the run's own,
and only the seed tells them apart.

The opened run says which held in its attr ``recomputed``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from netsim.errors import RunFileError, ScenarioError
from netsim.model.layout import OutputLayout
from netsim.model.load import scenario_of_run
from netsim.model.propagate import propagate
from netsim.run.chunks import chunk_ranges
from netsim.run.planning import memory_budget
from netsim.run.record import RECORD_KIND, kept_sums, output_checksums, sum_name
from netsim.sampling.inputs import sample_inputs
from netsim.scenario.schema import Scenario

__all__ = [
    "BIT_FOR_BIT",
    "RELATIVE_TOLERANCE",
    "WITHIN_TOLERANCE",
    "check_chunk",
    "check_sampled_inputs",
    "is_record",
    "recomputed_cube",
]

# a float32 cell recomputed by another CPU or math library may differ in its last bits
# (relative 6e-8 a rounding); summed over countries and compounded over years, a total
# that differs by more than this is not the same run
RELATIVE_TOLERANCE = 1e-5
BIT_FOR_BIT = "bit for bit: every chunk's checksum is the stored one"
WITHIN_TOLERANCE = (
    f"within tolerance: the stored checksums differ (another CPU or math library), the "
    f"totals of every draw agree within {RELATIVE_TOLERANCE:g} relative"
)
# what a record keeps beside the recipe, left out of the cube it opens as
RECORD_ATTRS = ("run_file", "histogram_bins", "max_relative_bin_width", "bands_accuracy")


def recomputed_cube(record: xr.Dataset, label: str) -> xr.Dataset:
    """The cube of a run record (opened from ``label``): every output over ``draw``,
    with the inputs and the run's attrs, as a run file of the cube opens.

    Raises
    ------
    RunFileError
        If the record's scenario no longer loads, its arrays do not fit its scenario, or
        a recomputed chunk does not agree with the stored checksums or totals.
    """
    scenario = _scenario(record, label)
    layout = OutputLayout.of(scenario)
    inputs = np.ascontiguousarray(record["inputs"].values, dtype=np.float64)
    checksums = _checksums(record, layout, inputs.shape[0], label)
    attrs = {k: v for k, v in record.attrs.items() if k not in (*RECORD_ATTRS, "labels_digest")}
    if inputs.shape[0] * layout.bytes_per_draw <= memory_budget():
        arrays, verdict = _at_once(scenario, record, inputs, checksums, label)
    else:
        arrays, verdict = _lazily(scenario, record, inputs, checksums, label)
    attrs["recomputed"] = verdict
    return layout.label(arrays, draw=record["draw"].values, inputs=inputs, attrs=attrs)


def _scenario(record: xr.Dataset, label: str) -> Scenario:
    attrs = record.attrs
    try:
        scenario = scenario_of_run(
            str(attrs["scenario_document"]), str(attrs["calibration"]), label
        )
    except (KeyError, ScenarioError) as error:
        raise RunFileError(f"{label}: its scenario cannot be rebuilt ({error})") from error
    if scenario.scenario_hash != attrs.get("scenario_hash"):
        raise RunFileError(
            f"{label}: its scenario document does not give its scenario_hash (edited or damaged)"
        )
    return scenario


def _checksums(record: xr.Dataset, layout: OutputLayout, draws: int, label: str) -> np.ndarray:
    """The stored checksums as (chunk, output, 2) uint64, checked against the layout."""
    chunks = len(chunk_ranges(0, draws, _chunk(record, label)))
    stored = record.get("output_checksum")
    outputs = [str(o) for o in record["output"].values] if "output" in record.coords else []
    if (
        stored is None
        or outputs != list(layout.outputs)
        or stored.shape != (chunks, len(outputs), 2)
        or stored.dtype != np.int64
    ):
        raise RunFileError(f"{label}: its output checksums do not fit its run (edited or damaged)")
    for output, by in kept_sums(layout):
        name = sum_name(output, by)
        if name not in record or record[name].shape != (draws, *layout.shape(output, by)):
            raise RunFileError(f"{label}: its {name} does not fit its run (edited or damaged)")
    return np.ascontiguousarray(stored.values).view(np.uint64)


def _chunk(record: xr.Dataset, label: str) -> int:
    try:
        chunk = int(record.attrs["checksum_chunk"])
    except (KeyError, TypeError, ValueError) as error:
        raise RunFileError(f"{label}: its checksum_chunk is missing or damaged") from error
    if chunk < 1:
        raise RunFileError(f"{label}: its checksum_chunk is impossible ({chunk})")
    return chunk


def check_chunk(
    layout: OutputLayout,
    totals: dict[str, np.ndarray],
    arrays: dict[str, np.ndarray],
    stored: np.ndarray,
    first: int,
    label: str,
) -> bool:
    """Check one recomputed chunk (its ``arrays``, draws from ``first`` on) against its
    stored checksums ``stored`` (outputs, 2) and the stored ``totals`` of its draws (by
    name, :func:`kept_sums`). True: bit for bit; False: within tolerance; else
    :class:`RunFileError`."""
    exact = bool(np.array_equal(output_checksums(layout, arrays), stored))
    for output, by in kept_sums(layout):
        name = sum_name(output, by)
        kept = totals[name]
        found = layout.sum_arrays(arrays, output, by)
        agree = (
            np.array_equal(found, kept)
            if exact
            else np.allclose(found, kept, rtol=RELATIVE_TOLERANCE, atol=0.0)
        )
        if not agree:
            worst = int(np.argmax(np.abs(found - kept).reshape(found.shape[0], -1).max(axis=1)))
            raise RunFileError(
                f"{label}: its {name} of draw {first + worst} is not what its inputs give "
                "(a damaged file, or one written by another kernel)"
            )
    return exact


def _at_once(
    scenario: Scenario, record: xr.Dataset, inputs: np.ndarray, checksums: np.ndarray, label: str
) -> tuple[dict[str, np.ndarray], str]:
    layout = OutputLayout.of(scenario)
    arrays = layout.allocate(inputs.shape[0], np.float32)
    exact = True
    ranges = chunk_ranges(0, inputs.shape[0], _chunk(record, label))
    totals = _totals(record, layout)
    for index, (a, b) in enumerate(ranges):
        chunk = {name: values[a:b] for name, values in arrays.items()}
        check_sampled_inputs(scenario, record.attrs, inputs[a:b], a, inputs.shape[0], label)
        # rows the file's own scenario sampled: within every rule by construction
        propagate(scenario, inputs[a:b], as_arrays=True, out=chunk, check=False)
        mine = {name: values[a:b] for name, values in totals.items()}
        exact &= check_chunk(layout, mine, chunk, checksums[index], a, label)
    return arrays, BIT_FOR_BIT if exact else WITHIN_TOLERANCE


def _lazily(
    scenario: Scenario, record: xr.Dataset, inputs: np.ndarray, checksums: np.ndarray, label: str
) -> tuple[dict[str, Any], str]:
    """Dask arrays of the cube, one block a chunk, each recomputed and checked when read."""
    import dask
    import dask.array

    layout = OutputLayout.of(scenario)
    totals = _totals(record, layout)
    columns: dict[str, list[Any]] = {name: [] for name in layout.outputs}
    ranges = chunk_ranges(0, inputs.shape[0], _chunk(record, label))
    shared = dask.delayed(scenario)
    for index, (a, b) in enumerate(ranges):
        chunk = dask.delayed(_checked_chunk, pure=True)(
            shared,
            {name: values[a:b] for name, values in totals.items()},
            inputs[a:b],
            checksums[index],
            (a, inputs.shape[0], dict(record.attrs)),
            label,
        )
        for name in layout.outputs:
            columns[name].append(
                dask.array.from_delayed(chunk[name], (b - a, *layout.shape(name)), np.float32)
            )
    arrays = {name: dask.array.concatenate(parts) for name, parts in columns.items()}
    return arrays, (
        "checked as each chunk is read: bit for bit where its checksum is the stored one, "
        f"else its totals within {RELATIVE_TOLERANCE:g} relative"
    )


def _checked_chunk(
    scenario: Scenario,
    totals: dict[str, np.ndarray],
    inputs: np.ndarray,
    stored: np.ndarray,
    where: tuple[int, int, dict[str, Any]],
    label: str,
) -> dict[str, np.ndarray]:
    first, draws, attrs = where
    check_sampled_inputs(scenario, attrs, inputs, first, draws, label)
    layout = OutputLayout.of(scenario)
    arrays = propagate(scenario, inputs, as_arrays=True, check=False)
    check_chunk(layout, totals, arrays, stored, first, label)
    return arrays


def check_sampled_inputs(
    scenario: Scenario,
    attrs: dict[str, Any],
    inputs: np.ndarray,
    first: int,
    draws: int,
    label: str,
) -> None:
    """Refuse a record's ``inputs`` of draws ``first`` on (of ``draws``) unless they are
    the ones its seed and sampler (``attrs``) give, bit for bit. A record without a seed
    (of inputs a caller brought) has nothing to check."""
    if "seed" not in attrs or "sampler" not in attrs:
        return
    try:
        seed, sampler = int(attrs["seed"]), str(attrs["sampler"])
        expected = sample_inputs(scenario, draws, seed, sampler, first, first + inputs.shape[0])
    except (TypeError, ValueError) as error:  # ScenarioError is a ValueError
        raise RunFileError(f"{label}: its seed or sampler is damaged ({error})") from error
    if not np.array_equal(expected, inputs):
        raise RunFileError(
            f"{label}: its inputs of draws {first}-{first + inputs.shape[0] - 1} are not the "
            f"ones its seed {seed} and sampler {sampler} give (copied from another run, or "
            "edited)"
        )


def _totals(record: xr.Dataset, layout: OutputLayout) -> dict[str, np.ndarray]:
    """The stored per-draw totals, by name, as float64 arrays."""
    return {
        sum_name(o, by): np.asarray(record[sum_name(o, by)].values, dtype=np.float64)
        for o, by in kept_sums(layout)
    }


def is_record(dataset: xr.Dataset) -> bool:
    """Whether a run file's Dataset is a run record (recipe and answer, no cube)."""
    return dataset.attrs.get("run_file") == RECORD_KIND
