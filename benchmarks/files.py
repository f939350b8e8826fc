"""Run-file and scale-out figures for the benchmark harness (called by ``run.py``).

The run file of ``make run`` against the in-memory cube, the 100,000-draw file, the
cost of ``--out`` and the peak memory of that run, the bytes a reduced run's task ships
and the client's merge rate, and from those the throughput projected at 10, 100 and
1,000 Dask workers.
"""

from __future__ import annotations

import pickle
import statistics
import tempfile
import time
from pathlib import Path

import numba
from scale import CONFIG, measured_command  # benchmarks/ is on sys.path (run.py)

import netsim
from netsim.kernels.histogram import BIN_BLOCK
from netsim.model.layout import OutputLayout
from netsim.run.chunks import compute_chunk
from netsim.run.reduced import PILOT_DRAWS, CellLayout, _fold_range
from netsim.stats.quantiles import as_quantiles
from netsim.stats.sketches import DEFAULT_BINS

Row = tuple[str, str, str, str]
HEADLINE = (0.05, 0.5, 0.95)  # the bands a reduced run reports by default
TASK_DRAWS = 45_000  # draws a reduced task folds (a 10 M run on 100 workers: 50,000)
WORKER_COUNTS = (10, 100, 1_000)
NETWORK_BYTES_PER_SECOND = 125e6  # the client's link, assumed 1 Gbit/s


def _run_command(draws: int, out: Path | None) -> list[str]:
    import sys

    netsim_command = str(Path(sys.executable).with_name("netsim"))
    command = [netsim_command, "run", str(CONFIG), "--draws", str(draws), "--seed", "1"]
    command.append("--no-progress")
    return [*command, "--out", str(out)] if out is not None else command


def run_file_rows(repeat: int) -> list[Row]:
    """The run file's size at 20,000 and 100,000 draws, ``--out``'s cost and peak memory."""
    net = netsim.load_scenario(CONFIG)
    per_draw = OutputLayout.of(net).bytes_per_draw
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        small = Path(folder) / "make_run.nc"
        measured_command(_run_command(20_000, small))
        share = small.stat().st_size / (20_000 * per_draw)
        rows.append(
            (
                "run file, 20,000 draws (`make run`) / the in-memory cube",
                f"{share:.1%}",
                f"{small.stat().st_size / 1e6:,.1f} MB against {20_000 * per_draw / 1e6:,.0f} MB "
                "of cube and inputs (inputs, totals per draw, bands of every output, checksums)",
                "<= 10 %",
            )
        )
        large = Path(folder) / "run.nc"
        written, bare, peaks = [], [], []
        for _ in range(max(1, repeat // 2)):  # in alternation: each pair shares a phase
            seconds, peak, _ = measured_command(_run_command(100_000, large))
            written.append(seconds)
            peaks.append(peak)
            bare.append(measured_command(_run_command(100_000, None))[0])
        size = large.stat().st_size
    ratio = statistics.median(w / b for w, b in zip(written, bare, strict=True))
    rows += [
        (
            "run file, 100,000 draws",
            f"{size / 1e6:,.0f} MB",
            f"the cube and inputs in memory would take {100_000 * per_draw / 1e9:.2f} GB",
            "<= 250 MB",
        ),
        (
            "`netsim run --draws 100000 --out run.nc` / the same without --out",
            f"{ratio:.2f}x",
            f"{statistics.median(written):.2f} s against {statistics.median(bare):.2f} s, "
            f"median of {len(written)} pairs in alternation (the file's bands: every cell "
            "by region and worldwide folded into histograms)",
            "<= 1.3x",
        ),
        (
            "peak memory of `netsim run --draws 100000 --out run.nc`",
            f"{statistics.median(peaks) / 1e9:.2f} GB",
            "peak RSS; the run streams chunk by chunk, the printed tables from the totals "
            "kept per draw",
            "<= 1 GB",
        ),
    ]
    return rows


def scale_out_rows() -> tuple[list[Row], list[str]]:
    """A reduced task's shipped summary and the client's merge rate (measured), and the
    throughput they allow at 10, 100 and 1,000 workers (projected): rows, and the README's
    projection table as Markdown lines."""
    net = netsim.load_scenario(CONFIG)
    layout = OutputLayout.of(net)
    cells = CellLayout(layout)
    arrays = compute_chunk(net, 10**7, 1, "mc", 0, PILOT_DRAWS, layout.allocate(PILOT_DRAWS))[1]
    # the bins a reduced run of the default bands keeps: those around P5, P50 and P95
    template = cells.pilot_summary(arrays, DEFAULT_BINS, as_quantiles(HEADLINE))
    started = time.perf_counter()
    part = _fold_range(
        net, template, 10**7, 1, "mc", PILOT_DRAWS, PILOT_DRAWS, PILOT_DRAWS + TASK_DRAWS
    )
    task_seconds = (time.perf_counter() - started) * numba.get_num_threads()  # one core's
    started = time.perf_counter()
    shipped = pickle.dumps(part, protocol=5)
    pack = time.perf_counter() - started
    merges = []
    total = template.empty_like()
    for _ in range(3):
        started = time.perf_counter()
        total.merge(pickle.loads(shipped))
        merges.append(time.perf_counter() - started)
    merge = statistics.median(merges)
    draws = TASK_DRAWS
    worker_rate = draws / (task_seconds + pack)  # draws/s of one single-threaded worker
    client_rate = draws / merge  # draws/s the client can merge
    network_rate = draws * NETWORK_BYTES_PER_SECOND / len(shipped)
    table = [
        "| workers | workers' draws/s | client merge limit | client network limit (1 Gbit/s) "
        "| projected draws/s | bottleneck |",
        "|---|---|---|---|---|---|",
    ]
    for workers in WORKER_COUNTS:
        limits = {
            "the workers": workers * worker_rate,
            "the client's merge": client_rate,
            "the client's network": network_rate,
        }
        slowest = min(limits, key=limits.get)
        table.append(
            f"| {workers:,} | {workers * worker_rate:,.0f} | {client_rate:,.0f} | "
            f"{network_rate:,.0f} | {limits[slowest]:,.0f} | {slowest} |"
        )
    rows = [
        (
            "a reduced run's summary shipped per task (NET file with its funnel)",
            f"{len(shipped) / 1e6:.1f} MB",
            f"{part.counts.nbytes / 1e6:,.0f} MB of int64 counts ({part.cells:,} cells x "
            f"{part.counts.size / part.cells:,.0f} counts: the bins around P5, P50 and P95 of "
            f"{part.bins + 2:,} kept bin by bin, the others one count a block of "
            f"{BIN_BLOCK}), lossless: narrowest type + zlib; a task of "
            f"{draws:,} draws; packed in {pack:.2f} s",
            "<= 25 MB",
        ),
        (
            "client's merge of a shipped summary",
            f"{1 / merge:.1f} tasks/s",
            f"{merge:.2f} s a task (unpack and add), {client_rate:,.0f} draws/s at {draws:,} "
            f"draws a task; one worker thread folds {worker_rate:,.0f} draws/s; projected "
            f"at 10 / 100 / 1,000 workers: "
            + " / ".join(line.split("|")[5].strip() for line in table[2:])
            + " draws/s (README table)",
            "-",
        ),
    ]
    return rows, table
