"""The what-if page's state: the base run kept in memory, and a changed scenario run
on the same draws.

A change is an overlay of the scenario file (:mod:`netsim.present.whatif.controls`),
loaded by the scenario loader with the parent's solved growth kept (no
recalibration, as an overlay file defaults). The changed scenario draws every input
from the same keyed streams as the base (common random numbers): the inputs whose
distribution did not change are the base's, bit for bit, and a changed one is its
new inverse CDF at the base's (correlated) uniforms, which is what sampling the
changed scenario afresh with the same seed gives. Only the top-down model and its
products are propagated (the page shows no patient-based output), and the products only
for a product's or a company's view (the base run keeps them for every view).
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import shlex
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba
import numpy as np

from netsim.errors import OutputExistsError, ScenarioError
from netsim.model.layout import OutputLayout, sum_countries
from netsim.model.load import load_scenario
from netsim.model.propagate import propagate
from netsim.output_files import OutputFile
from netsim.present.whatif.controls import (
    Control,
    changed_tables,
    controls_of,
    overlay_text,
    overlay_tree,
)
from netsim.run.planning import check_fits_in_memory
from netsim.sampling.inputs import sample_inputs
from netsim.scenario.documents import load_document
from netsim.scenario.schema import Scenario
from netsim.stats.quantiles import quantiles

__all__ = ["FAN_QUANTILES", "ChangeError", "View", "WhatIf"]

FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
BAND_QUANTILES = (0.05, 0.5, 0.95)
PRODUCT_OUTPUTS = ("by_product", "by_company")  # the views that need a run's products
# <stem>.whatif-<n>.toml: n counts up to this (each file is a few kB at most: it holds
# only the page's own controls, changed)
MAX_SAVED = 1_000


class ChangeError(ScenarioError):
    """Changes the page cannot run: ``errors`` maps a control key (or ``""`` for the
    scenario as a whole) to the rule's one-line message."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {m}" if k else m for k, m in self.errors.items()))


@dataclass(frozen=True)
class View:
    """What a chart shows: the global total, a region's, or a segment's (summed over
    countries).

    Attributes
    ----------
    id : str
        ``global``, ``region:<name>`` or ``<axis>:<segment>``.
    label : str
    group : str
        The list it is picked from (``Regions`` or an axis label).
    output : str
        ``total`` or ``by_<axis>``.
    index : int or None
        The region's or segment's position in its sum (None for the global total).
    """

    id: str
    label: str
    group: str
    output: str
    index: int | None


class WhatIf:
    """A scenario, its base run in memory, and runs of changes to it on the same draws.

    Parameters
    ----------
    config : path
        The scenario file (an overlay file works too).
    draws, seed : int
        Of every run (the ``mc`` sampler).
    threads : int
        numba threads of the page's runs. One by default: a run of 10,000 draws is a
        few parallel regions of milliseconds each, and on a machine whose cores are
        busy each region waits for a second core longer than it saves (measured: 23
        against 100-150 ms for the kernel on a loaded 2-core machine).

    Raises
    ------
    ScenarioError
        If the file is invalid, or two runs of these draws would not fit in memory.
    """

    def __init__(self, config: str | Path, draws: int = 10_000, seed: int = 0, threads: int = 1):
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ScenarioError(f"threads={threads!r} must be a whole number >= 1")
        self.threads = min(threads, numba.config.NUMBA_NUM_THREADS)
        self.config = Path(config)
        self.document, _ = load_document(self.config)
        self.base = load_scenario(self.config)
        self.draws, self.seed = int(draws), int(seed)
        self.layout = OutputLayout.of(self.base)
        cells = sum(int(np.prod(self.layout.shape(n))) for n in self.layout.market_outputs)
        check_fits_in_memory(
            2 * self.draws * (cells * 4 + len(self.layout.parameters) * 16),
            f"the what-if page at {self.draws:,} draws (the base run and a changed one)",
        )
        self.controls: dict[str, Control] = {c.key: c for c in controls_of(self.document)}
        self.views = self._views()
        self.lock = threading.Lock()  # one run (or save) at a time: the buffers are shared
        self.revision = 0
        with self._threads():
            inputs, uniforms = sample_inputs(
                self.base, self.draws, self.seed, "mc", return_uniforms=True
            )
            self.base_inputs, self.uniforms = inputs, uniforms
            self.base_arrays = propagate(self.base, inputs, as_arrays=True, funnel=False)
        self._inputs = np.empty_like(inputs)
        self._arrays = {name: np.empty_like(a) for name, a in self.base_arrays.items()}
        regions = list(dict.fromkeys(self.layout.country_regions))
        self._region_of = np.array(
            [regions.index(r) for r in self.layout.country_regions], dtype=np.int64
        )
        self._regions = regions
        self._base_views: dict[str, np.ndarray] = {}

    @contextlib.contextmanager
    def _threads(self) -> Iterator[None]:
        """numba's threads set to the page's for the block, as they were after it (the
        setting is per calling thread: a caller's own thread is left as it was)."""
        previous = numba.get_num_threads()
        numba.set_num_threads(self.threads)
        try:
            yield
        finally:
            numba.set_num_threads(previous)

    # --- what the page lists -------------------------------------------------------
    def _views(self) -> dict[str, View]:
        views = [View("global", "Global", "Global", "total", None)]
        regions = list(dict.fromkeys(self.layout.country_regions))
        views += [View(f"region:{r}", r, "Regions", "total", i) for i, r in enumerate(regions)]
        for axis, label, segments in zip(
            self.layout.axes, self.layout.axis_labels, self.layout.segments, strict=True
        ):
            views += [
                View(f"{axis}:{s}", f"{s}", label or axis, f"by_{axis}", i)
                for i, s in enumerate(segments)
            ]
        products = [p.label for p in self.base.products]
        views += [
            View(f"product:{i}", p, "Products", "by_product", i) for i, p in enumerate(products)
        ]
        views += [
            View(f"company:{i}", c, "Companies", "by_company", i)
            for i, c in enumerate(self.layout.companies)
        ]
        return {v.id: v for v in views}

    def default_view(self) -> str:
        """The view picked when the page opens: the first region."""
        return next(v for v in self.views if v != "global")

    def state(self) -> dict[str, Any]:
        """Everything the page needs to draw itself, with the unchanged scenario's result."""
        return {
            "scenario": self.base.name,
            "config": self.config.name,
            "draws": self.draws,
            "seed": self.seed,
            "unit": self.layout.unit,
            "controls": [c.as_json() for c in self.controls.values()],
            "views": [
                {"id": v.id, "label": v.label, "group": v.group} for v in self.views.values()
            ],
            "view": self.default_view(),
            "result": self.evaluate({}, self.default_view()),
        }

    # --- changes -------------------------------------------------------------------
    def parse_changes(self, changes: Any) -> dict[str, float]:
        """``{control key: number}`` from the browser, as floats.

        Raises
        ------
        ChangeError
            For anything else: not a table, an unknown key, a value that is not a number.
        """
        if not isinstance(changes, dict):
            raise ChangeError({"": "changes must be a table of parameter key: number"})
        unknown = [k for k in changes if k not in self.controls]
        if unknown:
            raise ChangeError({"": f"{str(unknown[0])[:200]!r} is not a parameter of this page"})
        values, errors = {}, {}
        for key, value in changes.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                errors[key] = f"{key}={json_text(value)} must be a number"
                continue
            try:
                values[key] = float(value)
            except OverflowError:
                errors[key] = f"{key}={value} is too large"
        if errors:
            raise ChangeError(errors)
        return values

    def overlay(self, changes: Mapping[str, float]) -> dict[tuple[str, ...], dict[str, Any]]:
        """The overlay's changed tables (see :func:`controls.changed_tables`)."""
        return changed_tables(self.document, self.controls, changes)

    def scenario(self, changes: Mapping[str, float]) -> Scenario:
        """The changed scenario, loaded as its overlay file would be.

        Raises
        ------
        ChangeError
            With the loader's rule, beside the control it names.
        """
        tables = self.overlay(changes)
        if not tables:
            return self.base
        merged = _merge(self.document, overlay_tree(tables))
        merged["overlay"] = {
            "extends": str(self.config.resolve()),
            "recalibrate": False,
            "parent": self.document,
        }
        try:
            return load_scenario(merged, parent=self.base)
        except ScenarioError as error:
            message = str(error)
            if error.path and message.startswith(f"{error.path}: "):
                message = message[len(error.path) + 2 :]
            raise ChangeError({self._control_of(error.key, message, changes): message}) from None

    def _control_of(self, key: str | None, message: str, changes: Mapping[str, float]) -> str:
        """The control a loader's error belongs to: the one its message starts with
        (``<key>=<value> must be ...``), else a changed one inside the table its key
        path names; ``""`` for the scenario as a whole."""
        named = message.split("=", 1)[0]
        if named in self.controls:
            return named
        if not key:
            return ""
        if key in self.controls:
            return key
        inside = [k for k in changes if k.startswith(f"{key}.") or key.startswith(f"{k}.")]
        return inside[-1] if inside else ""

    # --- runs ----------------------------------------------------------------------
    def _run(self, scenario: Scenario, products: bool = True) -> dict[str, np.ndarray]:
        """The top-down outputs of ``scenario`` on the base's draws, with its products'
        unless ``products`` is False (a view of a region or segment draws none)."""
        if scenario is self.base:
            return self.base_arrays
        names = scenario.parameter_names
        if names != self.base.parameter_names or scenario.correlations != self.base.correlations:
            inputs = sample_inputs(scenario, self.draws, self.seed, "mc")
        else:
            inputs = self._inputs
            np.copyto(inputs, self.base_inputs)
            for j, (new, old) in enumerate(
                zip(scenario.parameters, self.base.parameters, strict=True)
            ):
                if new.distribution != old.distribution:
                    inputs[:, j] = new.distribution.ppf(self.uniforms[:, j])
        return propagate(
            scenario, inputs, as_arrays=True, funnel=False, products=products, out=self._arrays
        )

    def _view_values(
        self, arrays: Mapping[str, np.ndarray], view: View, sums: dict[str, Any]
    ) -> np.ndarray:
        """(draw, year) float64 values of a view, summed over countries by the kernel
        every analysis sums with (each cell's sum in country order, so a segment summed
        on its own is the same sum). ``sums`` keeps the total's sums for the next view."""
        if view.output == "total":
            if "total" not in sums:
                sums["total"] = sum_countries(
                    arrays["total"], 2, self._region_of, len(self._regions)
                )
            by_region, world = sums["total"]
            return world if view.index is None else by_region[:, :, view.index]
        segment = arrays[view.output][:, :, :, view.index]
        return sum_countries(segment, 2, self._region_of, len(self._regions))[1]

    def _base_view(self, view: View) -> np.ndarray:
        if view.id not in self._base_views:
            self._base_views[view.id] = self._view_values(self.base_arrays, view, {})
        return self._base_views[view.id]

    def _summary(self, values: np.ndarray, view: View) -> dict[str, Any]:
        base = self._base_view(view)
        fan = quantiles(values, FAN_QUANTILES)
        base_fan = quantiles(base, FAN_QUANTILES)
        difference = values[:, -1] - base[:, -1]
        return {
            "id": view.id,
            "label": view.label,
            "group": view.group,
            "fan": fan.tolist(),
            "base_fan": base_fan.tolist(),
            "difference": quantiles(difference, BAND_QUANTILES).tolist(),
            "prob_greater": float(np.mean(values[:, -1] > base[:, -1])),
        }

    def evaluate(self, changes: Mapping[str, Any], view: str) -> dict[str, Any]:
        """Run the changes and summarise the global total and ``view``.

        Returns
        -------
        dict
            ``years``, ``quantiles`` (of the fans), ``band_quantiles`` (of the
            differences), and for ``global`` and ``picked``: ``fan`` and ``base_fan``
            (quantile x year), ``difference`` (bands of changed - base in the final year,
            paired draws) and ``prob_greater`` (P(changed > base) then); ``changes`` as
            run and ``milliseconds`` spent.

        Raises
        ------
        ChangeError
            For an unknown view or key, or a value the scenario's rules refuse
            (nothing runs).
        """
        start = time.perf_counter()
        if not isinstance(view, str) or view not in self.views:
            raise ChangeError({"": f"{str(view)[:200]!r} is not a view of this page"})
        values = self.parse_changes(changes)
        with self.lock, self._threads():
            scenario = self.scenario(values)
            picked, sums = self.views[view], {}
            arrays = self._run(scenario, products=picked.output in PRODUCT_OUTPUTS)
            result = {
                "years": list(self.layout.years),
                "quantiles": list(FAN_QUANTILES),
                "band_quantiles": list(BAND_QUANTILES),
                "changes": {k: v for k, v in values.items() if v != self.controls[k].value},
                "global": self._summary(
                    self._view_values(arrays, self.views["global"], sums), self.views["global"]
                ),
                "picked": self._summary(self._view_values(arrays, picked, sums), picked),
            }
            self.revision += 1
            result["revision"] = self.revision
        result["milliseconds"] = round(1000 * (time.perf_counter() - start), 2)
        return result

    # --- saving --------------------------------------------------------------------
    def save(self, changes: Mapping[str, Any]) -> Path:
        """Write the changes as an overlay beside the scenario file:
        ``<stem>.whatif-<n>.toml``, the first free ``n``.

        Raises
        ------
        ChangeError
            When nothing is changed or a value is refused (nothing is written).
        OutputError
            When the file cannot be written.
        """
        values = self.parse_changes(changes)
        with self.lock, self._threads():
            self.scenario(values)  # the rules first: an invalid overlay is never written
            tables = self.overlay(values)
            if not tables:
                raise ChangeError({"": "nothing is changed: there is no overlay to save"})
            for n in range(1, MAX_SAVED + 1):
                path = self.config.parent / f"{self.config.stem}.whatif-{n}.toml"
                if path.exists() or path.is_symlink():
                    continue
                comment = (
                    f"What-if changes to {self.config.name}, saved by netsim serve "
                    f"({self.draws:,} draws, seed {self.seed}).\n"
                    f"netsim compare {shlex.quote(self.config.name)} {shlex.quote(path.name)} "
                    f"--draws {self.draws} "
                    f"--seed {self.seed} gives the page's difference."
                )
                text = overlay_text(self.config.name, tables, comment)
                try:
                    # another netsim serve on the same folder may take the name first
                    with OutputFile(path, [self.config], new_only=True) as out:
                        return out.write_text(text)
                except OutputExistsError:
                    continue
            raise ChangeError(
                {"": f"{MAX_SAVED} what-if overlays exist beside the file: move some away"}
            )


def _merge(document: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`merge_overlay`, copying only the tables on the changes' paths and sharing
    the rest (the loader reads a document and never changes it): the same document for
    a fraction of a deep copy of the whole scenario."""
    merged = dict(document)
    for key, value in changes.items():
        old = merged.get(key)
        if (
            isinstance(value, dict)
            and "dist" not in value
            and isinstance(old, dict)
            and "dist" not in old
        ):
            merged[key] = _merge(old, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def json_text(value: Any) -> str:
    """A short text of a JSON value for a message."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return json.dumps(value)[:60]
