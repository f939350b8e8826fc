"""Sobol indices against the exact ones and against SALib's, over many seeds.

For the Ishigami function (a = 7, b = 0.1) and Sobol's G function (netsim.analytic's
coefficients), at each base size n, over many seeds: the bias and RMSE of netsim's
first-order and total indices, the RMSE of SALib's (``SALib.sample.sobol.sample`` and
``SALib.analyze.sobol.analyze`` with ``calc_second_order=False``, on SALib's own scrambled
design of the same n, the same n (d + 2) evaluations), their ratio with a 95 % bootstrap
interval over the seeds, and how often each one's 95 % intervals hold the exact index.
SALib comes with the ``bench`` and ``test`` extras.

The two designs are independent, so the ratio carries the noise of two RMSEs over seeds
(an error of one scrambled design comes in clusters of seeds at 2 to 3 times its RMS:
the RMSE over 200 seeds is uncertain by 10 to 20 %). ``paired`` is the same ratio with
SALib's ``analyze`` run on netsim's own design and evaluations, seed by seed: it tells
the estimators apart with the design's noise taken out.

    .venv/bin/python benchmarks/sobol_accuracy.py [--seeds 200] [--n 64 256 1024 4096]
        [--functions ishigami sobol_g g_reverse g_shuffled] [--without-salib]

The intervals' floor was chosen on Ishigami and Sobol G (the default ``--functions``);
``g_reverse`` and ``g_shuffled`` are Sobol G with its coefficients reversed and shuffled,
held out: the coverage there is the honest test of the floor.

``--without-salib`` measures netsim's bias and coverage alone (fast enough for thousands of
seeds, to tell a coverage of 0.92 from one of 0.95).

The rows print as they are measured; a summary closes the table.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from netsim.analytic import SensitivityReference, ishigami, sobol_g
from netsim.analyze.saltelli import scrambled_design, sobol_indices

# the functions the interval's floor was chosen on, and held-out ones it never saw: Sobol G
# with its coefficients in the reverse order and shuffled
SCORED = {"ishigami": ishigami, "sobol_g": sobol_g}
REFERENCES = {
    **SCORED,
    "g_reverse": lambda: sobol_g((99.0, 99.0, 9.0, 4.5, 1.0, 0.0)),
    "g_shuffled": lambda: sobol_g((9.0, 0.0, 99.0, 4.5, 99.0, 1.0)),
}
ORDERS = {"first_order": ("S1", "first"), "total_order": ("ST", "total")}


@dataclass(frozen=True)
class Study:
    """Estimates over seeds, ``(seeds, inputs)`` per order, and interval hits."""

    netsim: dict[str, np.ndarray]
    salib: dict[str, np.ndarray]
    netsim_hits: dict[str, np.ndarray]
    salib_hits: dict[str, np.ndarray]
    salib_on_netsim_design: dict[str, np.ndarray]


def salib_indices(
    reference: SensitivityReference, n: int, seed: int, own_design: bool = True
) -> dict[str, np.ndarray]:
    """SALib's estimates and 95 % intervals on its own design of ``n`` base rows, or (with
    ``own_design=False``) on netsim's design of the same seed, rows laid out as SALib's
    sampler lays them out (per base row: ``A``, ``AB_1`` .. ``AB_d``, ``B``)."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    d = len(reference.distributions)
    problem = {"num_vars": d, "names": [f"x{i + 1}" for i in range(d)], "bounds": [[0, 1]] * d}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if own_design:
            unit = sample.sample(problem, n, calc_second_order=False, seed=seed + 1)
        else:
            base = scrambled_design(2 * d, n, seed)
            unit = np.repeat(base[:, None, :d], d + 2, axis=1)
            for j in range(d):
                unit[:, j + 1, j] = base[:, d + j]
            unit[:, d + 1] = base[:, d:]
            unit = unit.reshape(-1, d)
        x = np.column_stack(
            [dist.ppf(unit[:, j]) for j, dist in enumerate(reference.distributions)]
        )
        result = analyze.analyze(
            problem, reference.model(x), calc_second_order=False, seed=seed + 1
        )
    return {
        "first_order": np.asarray(result["S1"]),
        "total_order": np.asarray(result["ST"]),
        "first_order_half": np.asarray(result["S1_conf"]),
        "total_order_half": np.asarray(result["ST_conf"]),
    }


def study(reference: SensitivityReference, n: int, seeds: int, with_salib: bool = True) -> Study:
    """netsim's and SALib's indices of ``reference`` at base size ``n`` over ``seeds`` seeds."""
    exact = {"first_order": reference.first_order, "total_order": reference.total_order}
    ours: dict[str, list] = {name: [] for name in ORDERS}
    theirs: dict[str, list] = {name: [] for name in ORDERS}
    our_hits: dict[str, list] = {name: [] for name in ORDERS}
    their_hits: dict[str, list] = {name: [] for name in ORDERS}
    theirs_on_ours: dict[str, list] = {name: [] for name in ORDERS}
    for seed in range(seeds):
        result = sobol_indices(reference.model, reference.distributions, n, seed=seed)
        peer = salib_indices(reference, n, seed) if with_salib else None
        paired = salib_indices(reference, n, seed, own_design=False) if with_salib else None
        for name in ORDERS:
            ours[name].append(result[name].values)
            low, high = result[f"{name}_interval"].values
            our_hits[name].append((low <= exact[name]) & (exact[name] <= high))
            if peer is not None and paired is not None:
                theirs[name].append(peer[name])
                their_hits[name].append(np.abs(peer[name] - exact[name]) <= peer[f"{name}_half"])
                theirs_on_ours[name].append(paired[name])
    as_arrays = {name: np.array(v) for name, v in ours.items()}
    return Study(
        as_arrays,
        {name: np.array(v) for name, v in theirs.items()},
        {name: np.array(v) for name, v in our_hits.items()},
        {name: np.array(v) for name, v in their_hits.items()},
        {name: np.array(v) for name, v in theirs_on_ours.items()},
    )


def rmse(estimates: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """Root mean squared error over seeds (axis 0), per input."""
    return np.sqrt(np.mean((estimates - exact) ** 2, axis=0))


def rmse_ratio_interval(
    ours: np.ndarray, theirs: np.ndarray, exact: np.ndarray, resamples: int = 2000
) -> tuple[np.ndarray, np.ndarray]:
    """A 95 % percentile bootstrap interval of the RMSE ratio ``ours / theirs`` per input,
    the seeds (axis 0 of both) resampled with replacement, the same seeds for both (the
    generator is seeded, so the interval is reproducible)."""
    generator = np.random.default_rng(20260)
    ours_squared, theirs_squared = (ours - exact) ** 2, (theirs - exact) ** 2
    picks = generator.integers(0, ours.shape[0], size=(resamples, ours.shape[0]))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.sqrt(ours_squared[picks].mean(axis=1) / theirs_squared[picks].mean(axis=1))
    low, high = np.nanpercentile(ratios, [2.5, 97.5], axis=0)
    return low, high


@dataclass(frozen=True)
class Worst:
    """The largest RMSE ratio over the inputs and both orders of one function at one n."""

    ratio: float
    where: str
    low: float  # its 95 % bootstrap interval over the seeds
    high: float
    paired: float  # the same index's ratio to SALib's estimator on netsim's own design
    lowest_coverage: float  # of netsim's 95 % intervals, over every index
    worst_paired: float = 1.0  # the largest paired ratio over every index
    above_one: int = 0  # how many indices' bootstrap intervals lie wholly above 1
    indices: int = 0  # how many indices were compared


def worst_rmse_ratio(reference: SensitivityReference, n: int, seeds: int) -> Worst:
    """The largest RMSE ratio netsim / SALib (SALib on its own design) over the inputs and
    both orders, where, its bootstrap interval, the paired ratio of the same index, and
    the lowest coverage of netsim's 95 % intervals."""
    result = study(reference, n, seeds)
    worst = Worst(0.0, "", 0.0, 0.0, 0.0, 1.0)
    worst_paired, above_one, indices = 0.0, 0, 0
    for name, (short, _) in ORDERS.items():
        exact = getattr(reference, name)
        ratio = rmse(result.netsim[name], exact) / rmse(result.salib[name], exact)
        low, high = rmse_ratio_interval(result.netsim[name], result.salib[name], exact)
        paired = rmse(result.netsim[name], exact) / rmse(result.salib_on_netsim_design[name], exact)
        worst_paired = max(worst_paired, float(np.max(paired)))
        above_one += int(np.sum(low > 1.0))
        indices += int(np.size(ratio))
        i = int(np.argmax(ratio))
        if ratio[i] > worst.ratio:
            where = f"{short} of x{i + 1}"
            worst = Worst(
                float(ratio[i]), where, float(low[i]), float(high[i]), float(paired[i]), 1.0
            )
    lowest = min(float(hits.mean(axis=0).min()) for hits in result.netsim_hits.values())
    return Worst(
        worst.ratio,
        worst.where,
        worst.low,
        worst.high,
        worst.paired,
        lowest,
        worst_paired,
        above_one,
        indices,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--n", type=int, nargs="+", default=[64, 256, 1024, 4096])
    parser.add_argument("--functions", nargs="+", default=list(SCORED), choices=REFERENCES)
    parser.add_argument("--without-salib", action="store_true", help="netsim's figures alone")
    args = parser.parse_args()
    with_salib = not args.without_salib
    header = (
        f"{'function':<9} {'n':>5} {'index':<6} {'exact':>7} {'bias':>8} {'SALib bias':>10} "
        f"{'RMSE':>7} {'SALib RMSE':>10} {'ratio':>6} {'95 % interval':>14} {'paired':>6} "
        f"{'coverage':>8} {'SALib cov.':>10}"
    )
    print(
        f"{args.seeds} seeds a row; 95 % intervals; ratio = netsim RMSE / SALib RMSE (SALib "
        "on its own design), its bootstrap interval over the seeds; paired = the same with "
        "SALib on netsim's design"
    )
    print(header)
    ratios, above, paired_ratios, coverages = [], 0, [], []
    for function in args.functions:
        reference = REFERENCES[function]()
        for n in args.n:
            result = study(reference, n, args.seeds, with_salib)
            for name, (short, _) in ORDERS.items():
                exact = getattr(reference, name)
                ours = result.netsim[name]
                nan = np.full_like(ours, np.nan)
                theirs = result.salib[name] if with_salib else nan
                ratio = rmse(ours, exact) / rmse(theirs, exact)
                low, high = rmse_ratio_interval(ours, theirs, exact)
                on_ours = result.salib_on_netsim_design[name] if with_salib else nan
                paired = rmse(ours, exact) / rmse(on_ours, exact)
                coverage = result.netsim_hits[name].mean(axis=0)
                peer_coverage = (result.salib_hits[name] if with_salib else nan).mean(axis=0)
                for i in range(exact.size):
                    print(
                        f"{function:<9} {n:>5} {short} x{i + 1:<2} {exact[i]:>7.4f} "
                        f"{ours[:, i].mean() - exact[i]:>+8.4f} "
                        f"{theirs[:, i].mean() - exact[i]:>+10.4f} "
                        f"{rmse(ours, exact)[i]:>7.4f} {rmse(theirs, exact)[i]:>10.4f} "
                        f"{ratio[i]:>6.2f} {f'[{low[i]:.2f}, {high[i]:.2f}]':>14} "
                        f"{paired[i]:>6.3f} {coverage[i]:>8.3f} {peer_coverage[i]:>10.3f}",
                        flush=True,
                    )
                ratios.append(ratio)
                above += int(np.sum(low > 1.0))
                paired_ratios.append(paired)
                coverages.append(coverage)
    every_ratio, every_coverage = np.concatenate(ratios), np.concatenate(coverages)
    every_paired = np.concatenate(paired_ratios)
    ratio_text = (
        f"RMSE ratio netsim / SALib median {np.median(every_ratio):.2f}, largest "
        f"{every_ratio.max():.2f}, {above} of {every_ratio.size} intervals above 1; paired "
        f"ratio {every_paired.min():.3f} to {every_paired.max():.3f}; "
        if with_salib
        else ""
    )
    print(
        f"summary: {ratio_text}coverage of netsim's 95 % intervals lowest "
        f"{every_coverage.min():.3f}, median {np.median(every_coverage):.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
