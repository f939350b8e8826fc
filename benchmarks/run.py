"""netsim benchmark harness: every performance figure the README quotes, in one run.

Usage::

    .venv/bin/python benchmarks/run.py [--draws 100000] [--repeat 5] [--large-draws 10000000]
                                       [--out benchmarks/results.md]
    .venv/bin/python benchmarks/run.py --only start-up   # (or run-file, simulate, sobol):
                                                          # those rows alone, replaced in
                                                          # --out and the README's table

Runs on the NET scenario. Each timing is the median of ``--repeat`` runs (these
machines are shared and noisy, so ratios matter more than seconds). Prints a
table of measured figures beside their targets and writes it as Markdown. ``--only
<group>`` measures one group of rows and replaces them in the written tables.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np

import netsim
from netsim.analytic import ishigami, sobol_g
from netsim.analyze import sensitivity
from netsim.analyze.saltelli import scrambled_design
from netsim.kernels.propagate import propagate_kernel
from netsim.model.arrays import draw_arrays, model_arrays
from netsim.model.layout import OutputLayout
from netsim.model.numpy_oracle import reference_propagate
from netsim.sampling.uniforms import sample_uniforms
from netsim.scenario.funnel import without_funnel
from netsim.scenario.products import without_products

sys.path.insert(0, str(Path(__file__).resolve().parent))
from files import run_file_rows, scale_out_rows
from fill import fill_kernel  # benchmarks/ is not a package
from peer import monaco_row
from products import product_rows
from scale import scale_rows
from sobol_accuracy import worst_rmse_ratio
from timing import alternating, median_time
from whatif import startup_row, whatif_row

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "net_market.toml"


def process(args: list[str], cache: Path) -> Callable[[], object]:
    """A call that runs ``args`` as a fresh process, its calibration cache in ``cache``."""
    environment = {**os.environ, "NETSIM_CACHE_DIR": str(cache)}
    return lambda: subprocess.run(args, check=True, capture_output=True, cwd=ROOT, env=environment)


def start_time(args: list[str], repeat: int, cache: Path) -> float:
    """Median wall time of a fresh process (seconds), the first call included."""
    return median_time(process(args, cache), repeat, warm_up=False)


def kernel_against_fill(
    kernel: Callable[[], object], shape: tuple[int, int], repeat: int
) -> tuple[float, float, float]:
    """Time the kernel and a numba parallel fill of a same-sized float32 array (this
    machine's memory write bandwidth as a kernel can reach it) in alternation.

    The machine's bandwidth drifts by a factor of two within minutes (other tenants),
    so each kernel run is paired with the fill run beside it and the ratio is the
    median of the pairs' ratios.

    Returns
    -------
    (kernel seconds, fill seconds, fill seconds / kernel seconds), medians.
    """
    target = np.empty(shape, dtype=np.float32)

    def fill() -> None:
        fill_kernel(target, np.float32(1.0))

    kernel_times, fill_times = alternating(kernel, fill, 2 * repeat + 1)
    ratios = [f / k for f, k in zip(fill_times, kernel_times, strict=True)]
    return (
        statistics.median(kernel_times),
        statistics.median(fill_times),
        statistics.median(ratios),
    )


def simulate_breakdown(scenario: netsim.Scenario, draws: int, repeat: int) -> dict[str, float]:
    """Seconds of simulate's parts: sampling, the per-draw arrays, the kernel into a fresh
    cube and into a reused one (the difference is the fresh cube's page faults)."""
    inputs = netsim.sample_inputs(scenario, draws, seed=1)
    model = model_arrays(scenario)
    per_draw = draw_arrays(scenario, inputs)
    layout = OutputLayout.of(scenario)
    reused = layout.allocate(draws, np.float32)

    def into(cube: dict[str, np.ndarray]) -> None:
        axes = tuple(v for k, v in cube.items() if k != "total")
        propagate_kernel(model, per_draw, cube["total"], axes)

    names = scenario.parameter_names
    return {
        "values": inputs.size,
        "sample": median_time(lambda: netsim.sample_inputs(scenario, draws, seed=1), repeat),
        "uniforms": median_time(lambda: sample_uniforms(names, draws, 1), repeat),
        "arrays": median_time(lambda: draw_arrays(scenario, inputs), repeat),
        "fresh": median_time(lambda: into(layout.allocate(draws, np.float32)), repeat),
        "reused": median_time(lambda: into(reused), repeat),
    }


def simulate_rows(
    scenario: netsim.Scenario, draws: int, repeat: int, kernel: Callable[[], object]
) -> tuple[float, list[tuple[str, str, str, str]]]:
    """simulate's throughput against the kernel alone (pairs in alternation), and where
    its time goes: ``(simulate seconds, rows)``."""
    kernel_pairs, simulate_times = alternating(
        kernel, lambda: netsim.simulate(scenario, draws, seed=1), repeat
    )
    simulate_seconds = statistics.median(simulate_times)
    simulate_share = statistics.median(_ratios(kernel_pairs, simulate_times))
    parts = simulate_breakdown(scenario, draws, repeat)
    per_value = 1e9 / parts["values"]
    return simulate_seconds, [
        (
            "simulate throughput / kernel alone",
            f"{simulate_share:.0%}",
            f"simulate (sample + propagate + label) {simulate_seconds:.2f} s for {draws:,} "
            f"draws ({draws / simulate_seconds:,.0f} draws/s), the kernel alone "
            f"{statistics.median(kernel_pairs) * 1e3:.0f} ms; median of {repeat} pairs "
            f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)",
            ">= 50 %",
        ),
        (
            "simulate, where its time goes",
            f"sampling {parts['sample'] / simulate_seconds:.0%}",
            f"sample_inputs {parts['sample'] * 1e3:.0f} ms ({parts['values']:,} values, "
            f"{parts['sample'] * per_value:.1f} ns each; the keyed uniforms alone, into a fresh "
            f"array, {parts['uniforms'] * per_value:.1f} ns); per-draw arrays "
            f"{parts['arrays'] * 1e3:.0f} ms; kernel into a fresh cube "
            f"{parts['fresh'] * 1e3:.0f} ms, into a reused one {parts['reused'] * 1e3:.0f} ms "
            "(the difference: page faults)",
            "-",
        ),
    ]


def kernel_alone(scenario: netsim.Scenario, draws: int) -> Callable[[], object]:
    """The top-down kernel on ``draws`` sampled draws into a cube allocated once."""
    model = model_arrays(scenario)
    per_draw = draw_arrays(scenario, netsim.sample_inputs(scenario, draws, seed=1))
    cube = OutputLayout.of(scenario).allocate(draws, np.float32)
    total, by_axis = cube["total"], tuple(v for k, v in cube.items() if k != "total")
    return lambda: propagate_kernel(model, per_draw, total, by_axis)


def top_down() -> netsim.Scenario:
    """The NET file without its funnel and products: the model the kernel rows time."""
    market = without_products(tomllib.loads(CONFIG.read_text()))
    return netsim.load_scenario(without_funnel(market))


def only_simulate_rows(draws: int, repeat: int) -> list[tuple[str, str, str, str]]:
    """``--only simulate``: the simulate rows alone."""
    scenario = top_down()
    return simulate_rows(scenario, draws, repeat, kernel_alone(scenario, draws))[1]


def only_sobol_rows(draws: int, repeat: int) -> list[tuple[str, str, str, str]]:
    """``--only sobol``: the Sobol timing and accuracy rows alone."""
    return [sobol_timing_row(top_down(), repeat), sobol_accuracy_row()]


# the same evaluations (SALib's estimator on netsim's own design, seed by seed) carry no design
# noise: their ratio is the row's figure. Each on its own design, the worst of 24 ratios is
# noise-bound (it read 1.40x over 100 seeds, 1.30x over 200, where 1,000 seeds put that index
# at 1.02, interval 0.94 to 1.12), so those ratios come over 1,000 seeds with their bootstrap
# intervals, and the count of intervals lying wholly above 1 (chance puts about 1 in 40 there)
SOBOL_ACCURACY_SEEDS = 1000


def sobol_accuracy_row() -> tuple[str, str, str, str]:
    """The Sobol estimates' RMSE against SALib's at the same n, beside the timing row."""
    cases, paired, above, indices = [], [], 0, 0
    for label, reference in (("Ishigami", ishigami()), ("Sobol G", sobol_g())):
        for n in (64, 1024):
            worst = worst_rmse_ratio(reference, n, SOBOL_ACCURACY_SEEDS)
            paired.append(worst.worst_paired)
            above += worst.above_one
            indices += worst.indices
            cases.append(
                f"{label} n={n:,}: {worst.ratio:.2f}x ({worst.where}; 95 % interval over "
                f"the seeds {worst.low:.2f} to {worst.high:.2f}), lowest coverage "
                f"{worst.lowest_coverage:.2f}"
            )
    return (
        "Sobol RMSE / SALib's on the same evaluations, worst index",
        f"{max(paired):.3f}x",
        f"SALib's estimator on netsim's design, seed by seed, {SOBOL_ACCURACY_SEEDS:,} seeds. "
        f"Each on its own design of the same n, the worst ratio: "
        + "; ".join(cases)
        + f"; {above} of {indices} intervals lie wholly above 1 "
        + "(benchmarks/sobol_accuracy.py: bias and coverage of every index)",
        "as SALib's (1x)",
    )


def sobol_timing_row(scenario: netsim.Scenario, repeat: int) -> tuple[str, str, str, str]:
    """A Sobol run on the kernel (the README's 2031 European PRRT question) against the
    kernel alone on as many draws, in alternation."""
    cell = {"year": 2031, "region": "Europe", "modality": "PRRT"}
    model = model_arrays(scenario)

    def run_sobol() -> object:
        return sensitivity.sobol(scenario, 4096, "by_modality", "region", group="driver")

    sobol = run_sobol()
    evaluations = int(sobol.attrs["evaluations"])
    # the kernel alone on as many draws, in calls of n rows into a float64 cube as Sobol's
    # evaluations are
    rows_per_call = 4096
    sobol_draws = draw_arrays(scenario, netsim.sample_inputs(scenario, rows_per_call, seed=2))
    sobol_cube = OutputLayout.of(scenario).allocate(rows_per_call, np.float64)
    sobol_axes = tuple(v for k, v in sobol_cube.items() if k != "total")

    def sobol_kernel() -> None:
        for _ in range(evaluations // rows_per_call):
            propagate_kernel(model, sobol_draws, sobol_cube["total"], sobol_axes)

    sobol_kernel_times, sobol_times = alternating(sobol_kernel, run_sobol, repeat)
    sobol_seconds = statistics.median(sobol_times)
    sobol_over_kernel = statistics.median(_ratios(sobol_times, sobol_kernel_times))
    scramble_seconds = median_time(
        lambda: scrambled_design(2 * len(scenario.parameters), 4096, seed=0), repeat
    )
    top = sensitivity.ranking(sobol, cell)[:3]["parameter"].values
    widths = sobol["total_order_interval"].sel(cell).sel(parameter=top)
    sobol_width = float((widths.sel(bound="high") - widths.sel(bound="low")).max())
    return (
        "Sobol indices (n=4,096, driver groups, every cell) / kernel time of its evaluations",
        f"{sobol_over_kernel:.2f}x",
        f"{sobol_seconds:.2f} s for {evaluations:,} evaluations, the kernel alone on as many "
        f"draws {statistics.median(sobol_kernel_times):.2f} s (median of {repeat} pairs in "
        f"alternation), scipy's scrambling of its Sobol' design {scramble_seconds:.3f} s; "
        f"widest 95 % interval of the top-3 total indices of 2031 European PRRT: "
        f"{sobol_width:.3f}",
        "<= 2x",
    )


def clear_numba_cache() -> None:
    for folder in (ROOT / "netsim").rglob("__pycache__"):
        for path in folder.iterdir():
            if path.suffix in (".nbi", ".nbc"):
                path.unlink()


def start_up_rows(repeat: int) -> list[tuple[str, str, str, str]]:
    """A 1,000-draw ``netsim run`` of the NET file in a fresh process: cold (no compiled
    kernels, no solved calibration), warm against the floor process ``python -c 'import
    numba, xarray'`` in alternation, writing its file, and ``netsim validate``.

    netsim's own bytecode is compiled first, as an installed package's is (an editable
    install's is written on first import, unless ``PYTHONDONTWRITEBYTECODE`` is set: then
    every start compiles netsim's modules anew, about a quarter of the floor process)."""
    compileall.compile_dir(ROOT / "netsim", quiet=1)
    netsim_command = [str(Path(sys.executable).with_name("netsim"))]
    if not Path(netsim_command[0]).exists():
        netsim_command = [sys.executable, "-m", "netsim.cli"]
    run_args = [*netsim_command, "run", str(CONFIG), "--draws", "1000", "--no-progress"]
    floor_args = [sys.executable, "-c", "import numba, xarray"]
    with tempfile.TemporaryDirectory() as cache:
        clear_numba_cache()
        cold_seconds = start_time(run_args, 1, Path(cache))
        # warm start and the floor in alternation: each pair shares the machine's phase
        warm_times, floor_times = alternating(
            process(run_args, Path(cache)), process(floor_args, Path(cache)), repeat
        )
        written_seconds = start_time(
            [*run_args, "--out", str(Path(cache) / "run.nc")], repeat, Path(cache)
        )
        validate_seconds = start_time(
            [*netsim_command, "validate", str(CONFIG)], repeat, Path(cache)
        )
    warm_over_floor = statistics.median(_ratios(warm_times, floor_times))
    return [
        (
            "`netsim run --draws 1000`, cold numba cache",
            f"{cold_seconds:.2f} s",
            "compiles the kernels",
            "-",
        ),
        (
            "`netsim run --draws 1000`, warm cache / floor process",
            f"{warm_over_floor:.2f}x",
            f"{statistics.median(warm_times):.2f} s against `python -c 'import numba, xarray'` "
            f"{statistics.median(floor_times):.2f} s, median of {repeat} pairs in alternation",
            "<= 1.3x",
        ),
        (
            "`netsim run --draws 1000 --out run.nc`, warm cache",
            f"{written_seconds:.2f} s",
            "writes the 1,000-draw cube to NetCDF",
            "-",
        ),
        (
            "`netsim validate`, warm cache",
            f"{validate_seconds:.2f} s",
            "load + calibrate (validate always runs the solver)",
            "-",
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results.md"))
    parser.add_argument(
        "--readme",
        default=str(ROOT / "README.md"),
        help="write the table into this README between its benchmark markers ('' skips)",
    )
    parser.add_argument(
        "--large-draws",
        type=int,
        default=10_000_000,
        help="draws of the bounded-memory run (0 skips it; it takes minutes)",
    )
    parser.add_argument("--peer-cases", type=int, default=2048, help="cases of the monaco peer run")
    parser.add_argument(
        "--only",
        choices=sorted(ROW_GROUPS),
        help="measure only these rows and replace them in --out and the README's table",
    )
    args = parser.parse_args()
    draws, repeat = args.draws, args.repeat
    if args.only:
        rows = ROW_GROUPS[args.only](args.draws, repeat)
        for path in (Path(args.out), Path(args.readme) if args.readme else None):
            if path is not None:
                update_rows(path, rows)
        return 0

    # the top-down model alone for the figures issue after issue compares (the kernel, the
    # cube, start-up); the patient funnel's own cost is measured in funnel_rows (on the
    # market without its products), the products' in product_rows; the scale rows take the
    # NET file as it is, products included
    market = without_products(tomllib.loads(CONFIG.read_text()))
    with_funnel = netsim.load_scenario(CONFIG)
    scenario = netsim.load_scenario(without_funnel(market))
    inputs = netsim.sample_inputs(scenario, draws, seed=1)
    model = model_arrays(scenario)
    per_draw = draw_arrays(scenario, inputs)
    cube = OutputLayout.of(scenario).allocate(draws, np.float32)
    total, by_axis = cube["total"], tuple(v for k, v in cube.items() if k != "total")
    cube_bytes = sum(a.nbytes for a in cube.values())

    def kernel() -> None:
        propagate_kernel(model, per_draw, total, by_axis)

    kernel_seconds, fill_seconds, bandwidth_share = kernel_against_fill(
        kernel, (draws, cube_bytes // 4 // draws), repeat
    )
    bandwidth = cube_bytes / fill_seconds

    # the vectorised-numpy reference of the same model, checked equal to the kernel
    reference_repeat = max(1, min(3, repeat))
    reference_seconds = median_time(
        lambda: reference_propagate(model, per_draw, dtype=np.float32), reference_repeat
    )
    ref_total, ref_segments = reference_propagate(model, per_draw, dtype=np.float32)
    kernel_segments = np.concatenate(by_axis, axis=-1)
    np.testing.assert_allclose(ref_total, total, rtol=1e-6)
    np.testing.assert_allclose(ref_segments, kernel_segments, rtol=1e-6)
    del ref_total, ref_segments, kernel_segments

    # simulate (sample + propagate + label) against the kernel alone, in alternation
    simulate_seconds, simulate_table = simulate_rows(scenario, draws, repeat, kernel)
    dataset = netsim.simulate(scenario, draws, seed=1)
    cube_names = ["total"] + [f"by_{a.name}" for a in scenario.axes]
    q = [0.05, 0.5, 0.95]

    def all_bands() -> None:
        for name in cube_names:
            netsim.bands(dataset[name], q)

    bands_seconds = median_time(all_bands, repeat)
    percentile_seconds = median_time(
        lambda: [np.percentile(dataset[n].values, [5, 50, 95], axis=0) for n in cube_names], 1
    )

    rows = [
        (
            "kernel throughput",
            f"{draws / kernel_seconds:,.0f} draws/s",
            f"{kernel_seconds * 1e3:.0f} ms for {draws:,} draws",
            "-",
        ),
        (
            "cube write rate",
            f"{cube_bytes / kernel_seconds / 1e9:.2f} GB/s",
            f"{cube_bytes / 1e6:,.0f} MB cube",
            "-",
        ),
        (
            "memory write bandwidth (numba parallel fill)",
            f"{bandwidth / 1e9:.2f} GB/s",
            "same-sized array",
            "-",
        ),
        (
            "kernel / write bandwidth",
            f"{bandwidth_share:.0%}",
            f"median of {2 * repeat + 1} kernel/fill pairs run in alternation",
            ">= 40 %",
        ),
        (
            "speed-up over vectorised numpy",
            f"{reference_seconds / kernel_seconds:.1f}x",
            f"numpy {reference_seconds:.2f} s, outputs equal (rtol 1e-6)",
            ">= 15x",
        ),
        *simulate_table,
        (
            "bands of the whole cube / simulate",
            f"{bands_seconds / simulate_seconds:.2f}",
            f"bands {bands_seconds:.2f} s (P5/P50/P95 of total and every by_<axis>)",
            "<= 1",
        ),
        ("bands / kernel alone", f"{bands_seconds / kernel_seconds:.2f}", "", "-"),
        (
            "np.percentile over draws / bands",
            f"{percentile_seconds / bands_seconds:.1f}x",
            f"np.percentile {percentile_seconds:.2f} s",
            "-",
        ),
        *start_up_rows(repeat),
        sobol_timing_row(scenario, repeat),
        sobol_accuracy_row(),
    ]
    rows += funnel_rows(scenario, netsim.load_scenario(market), draws, repeat)
    rows += product_rows(CONFIG, draws, repeat)
    rows += scale_rows(scenario, with_funnel, repeat, args.large_draws, draws / kernel_seconds)
    rows.append(monaco_row(scenario, args.peer_cases, draws / simulate_seconds))
    rows += run_file_rows(repeat)
    scale_out, projection = scale_out_rows()
    rows += scale_out
    rows.append(whatif_row(CONFIG))
    rows.append(startup_row(CONFIG, repeat=repeat))
    header = (
        f"netsim {netsim.__version__} benchmarks: NET scenario, {draws:,} draws, median of "
        f"{repeat}; {os.cpu_count()} cores, numba {numba.__version__} with "
        f"{numba.get_num_threads()} threads, numpy {np.__version__}, Python "
        f"{platform.python_version()}"
    )
    width = max(len(r[0]) for r in rows)
    print(header)
    print(f"{'figure':<{width}}  {'measured':>16}  {'target':>8}  note")
    for name, value, note, target in rows:
        print(f"{name:<{width}}  {value:>16}  {target:>8}  {note}")
    lines = [header, "", "| figure | measured | target | note |", "|---|---|---|---|"]
    lines += [f"| {n} | {v} | {t} | {note} |" for n, v, note, t in rows]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"\nwrote {args.out}")
    print("\n".join(["", "scale-out projection (reduced runs on Dask)", *projection]))
    if args.readme:
        write_readme_block(Path(args.readme), lines)
        write_readme_block(Path(args.readme), projection, PROJECTION_START, PROJECTION_END)
        print(f"wrote the benchmark and projection tables of {args.readme}")
    return 0


def funnel_rows(
    top_down: netsim.Scenario, with_funnel: netsim.Scenario, draws: int, repeat: int
) -> list[tuple[str, str, str, str]]:
    """What the NET patient funnel costs: both kernels against the top-down one alone on
    the same draws, a simulate with and without it, and a reconciliation."""
    inputs = netsim.sample_inputs(with_funnel, draws, seed=1)
    top_inputs = netsim.sample_inputs(top_down, draws, seed=1)
    out = netsim.propagate(with_funnel, inputs[:2], as_arrays=True)  # compile first
    out = OutputLayout.of(with_funnel).allocate(draws, np.float32)
    top_out = OutputLayout.of(top_down).allocate(draws, np.float32)
    both, alone = alternating(
        lambda: netsim.propagate(with_funnel, inputs, as_arrays=True, out=out),
        lambda: netsim.propagate(top_down, top_inputs, as_arrays=True, out=top_out),
        repeat,
    )
    simulate_both, simulate_alone = alternating(
        lambda: netsim.simulate(with_funnel, draws, seed=1),
        lambda: netsim.simulate(top_down, draws, seed=1),
        repeat,
    )
    started = time.perf_counter()
    netsim.reconcile(with_funnel, draws=20_000, seed=1)
    reconcile_seconds = time.perf_counter() - started
    kernels = statistics.median(both)
    extra = len(with_funnel.parameters) - len(top_down.parameters)
    cube = OutputLayout.of(with_funnel).bytes_per_draw / OutputLayout.of(top_down).bytes_per_draw
    return [
        (
            "propagate with the NET funnel / top-down alone",
            f"{statistics.median(_ratios(both, alone)):.2f}x",
            f"{kernels * 1e3:.0f} ms for {draws:,} draws through both models "
            f"({draws / kernels:,.0f} draws/s); alone {statistics.median(alone) * 1e3:.0f} ms",
            "-",
        ),
        (
            "simulate with the NET funnel / top-down alone",
            f"{statistics.median(_ratios(simulate_both, simulate_alone)):.2f}x",
            f"{statistics.median(simulate_both):.2f} s against "
            f"{statistics.median(simulate_alone):.2f} s ({draws:,} draws; {extra} more "
            f"parameters and {cube:.1f}x the cube)",
            "-",
        ),
        (
            "`netsim.reconcile`, 20,000 draws",
            f"{reconcile_seconds:.2f} s",
            "both models, ratio and gap bands, rank correlations, implied values, the "
            "base-year gap by factor (Shapley), count targets and checks",
            "-",
        ),
    ]


ROW_GROUPS: dict[str, Callable[[int, int], list[tuple[str, str, str, str]]]] = {
    "start-up": lambda draws, repeat: start_up_rows(repeat),
    "run-file": lambda draws, repeat: run_file_rows(repeat),
    "simulate": only_simulate_rows,
    "sobol": only_sobol_rows,
}


def update_rows(results: Path, rows: list[tuple[str, str, str, str]]) -> int:
    """Print ``rows`` and put each in place of the row of the same figure in ``results``
    (the Markdown table a whole run wrote)."""
    lines = results.read_text().splitlines()
    for name, value, note, target in rows:
        print(f"{name}  {value}  {target}  {note}")
        row = f"| {name} | {value} | {target} | {note} |"
        found = [i for i, line in enumerate(lines) if line.startswith(f"| {name} |")]
        if not found:
            raise SystemExit(f"{results}: no row {name!r}")
        lines[found[0]] = row
    results.write_text("\n".join(lines) + "\n")
    print(f"wrote {len(rows)} rows of {results}")
    return 0


def _ratios(first: list[float], second: list[float]) -> list[float]:
    return [a / b for a, b in zip(first, second, strict=True)]


README_START = "<!-- benchmark table: written by benchmarks/run.py, do not edit -->"
README_END = "<!-- end of benchmark table -->"


PROJECTION_START = "<!-- scale-out projection: written by benchmarks/run.py, do not edit -->"
PROJECTION_END = "<!-- end of scale-out projection -->"


def write_readme_block(
    readme: Path, lines: list[str], start_mark: str = README_START, end_mark: str = README_END
) -> None:
    """Replace a table of the README (between its markers) with this run's."""
    text = readme.read_text()
    start, end = text.find(start_mark), text.find(end_mark)
    if start < 0 or end < start:
        raise SystemExit(f"{readme}: no markers ({start_mark} ... {end_mark})")
    block = "\n".join([start_mark, *lines, end_mark])
    readme.write_text(text[:start] + block + text[end + len(end_mark) :])


if __name__ == "__main__":
    sys.exit(main())
