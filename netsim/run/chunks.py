"""A run cut into chunks of draws, each a pure function of the run's settings.

A chunk of draws ``[start, stop)`` depends only on (scenario, draws, seed, sampler,
start, stop): its inputs are keyed by draw index and its outputs follow from the
kernel's per-draw purity. So chunks may run in any order, in any process, be retried
after a worker dies, and be folded into mergeable summaries, and the result is the
same, bit for bit, as one in-memory run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from netsim.errors import ScenarioError
from netsim.model.propagate import propagate
from netsim.sampling.inputs import sample_inputs
from netsim.scenario.schema import Scenario

__all__ = ["ChunkRanges", "chunk_ranges", "compute_chunk"]


@dataclass(frozen=True)
class ChunkRanges(Sequence[tuple[int, int]]):
    """``[start, stop)`` cut into consecutive ranges of at most ``size`` draws.

    Lazy, like :class:`range`: a run of a trillion draws holds no list of its chunks.
    """

    start: int
    stop: int
    size: int

    def __len__(self) -> int:
        return max(0, -(-(self.stop - self.start) // self.size))

    def __getitem__(self, index: int) -> tuple[int, int]:  # type: ignore[override]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        first = self.start + index * self.size
        return first, min(first + self.size, self.stop)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for first in range(self.start, self.stop, self.size):
            yield first, min(first + self.size, self.stop)


def chunk_ranges(start: int, stop: int, chunk_size: int) -> ChunkRanges:
    """``[start, stop)`` cut into consecutive ranges of at most ``chunk_size`` draws."""
    if chunk_size < 1:
        raise ScenarioError(f"chunk_size={chunk_size} must be >= 1")
    return ChunkRanges(int(start), int(stop), int(chunk_size))


def compute_chunk(
    scenario: Scenario,
    draws: int,
    seed: int,
    sampler: str,
    start: int,
    stop: int,
    buffers: Mapping[str, np.ndarray] | None = None,
    funnel: bool = True,
    products: bool = True,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Inputs and outputs (float32 arrays) of draws ``[start, stop)`` of a run.

    ``buffers``: float32 output arrays of at least ``stop - start`` draws to write into
    (their first rows are returned), so a loop over chunks allocates nothing.
    ``funnel``: False for the top-down model's outputs only (the patient funnel's
    kernel is not run); ``products``: False without the products' outputs (their
    kernels are not run).
    """
    inputs = sample_inputs(scenario, draws, seed, sampler, start, stop)
    out = None if buffers is None else {k: v[: stop - start] for k, v in buffers.items()}
    arrays = propagate(  # sampled from the scenario: within every rule by construction
        scenario,
        inputs,
        chunk_size=max(1, stop - start),
        as_arrays=True,
        out=out,
        check=False,
        funnel=funnel,
        products=products,
    )
    return inputs, arrays
