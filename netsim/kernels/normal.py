"""The standard normal's quantile and distribution function, as scalar numba functions.

The same algorithms as scipy's ``scipy.special.ndtri`` and ``scipy.special.ndtr`` (Cephes,
S. L. Moshier, "Methods and programs for mathematical functions", 1989: rational
approximations with published coefficients), written as the same IEEE operations in the
same order, so each gives scipy's value bit for bit (tests/test_sampling_kernel.py checks
it on millions of points, tails included). They exist so that the sampling kernel
(:mod:`netsim.kernels.sampling`) can take a uniform through the copula and the inverse
CDF in registers, one draw at a time, instead of one numpy pass over memory per step.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from netsim.kernels.options import JIT_OPTIONS

__all__ = ["normal_cdf", "normal_quantile"]

_SQRT_2PI = 2.50662827463100050242
_EXP_MINUS_2 = 0.13533528323661269189
_SQRT_HALF = 0.70710678118654752440
_LARGEST_LOG = 7.09782712893383996843e2

# quantile, |u - 1/2| <= 3/8: x = w + w^3 P0(w^2) / Q0(w^2) (Q0's leading 1 implicit)
_QUANTILE_P0 = np.array(
    [
        -5.99633501014107895267e1,
        9.80010754185999661536e1,
        -5.66762857469070293439e1,
        1.39312609387279679503e1,
        -1.23916583867381258016e0,
    ]
)
_QUANTILE_Q0 = np.array(
    [
        1.95448858338141759834e0,
        4.67627912898881538453e0,
        8.63602421390890590575e1,
        -2.25462687854119370527e2,
        2.00260212380060660359e2,
        -8.20372256168333339912e1,
        1.59056225126211695515e1,
        -1.18331621121330003142e0,
    ]
)
# quantile tails, z = sqrt(-2 log u) in [2, 8)
_QUANTILE_P1 = np.array(
    [
        4.05544892305962419923e0,
        3.15251094599893866154e1,
        5.71628192246421288162e1,
        4.40805073893200834700e1,
        1.46849561928858024014e1,
        2.18663306850790267539e0,
        -1.40256079171354495875e-1,
        -3.50424626827848203418e-2,
        -8.57456785154685413611e-4,
    ]
)
_QUANTILE_Q1 = np.array(
    [
        1.57799883256466749731e1,
        4.53907635128879210584e1,
        4.13172038254672030440e1,
        1.50425385692907503408e1,
        2.50464946208309415979e0,
        -1.42182922854787788574e-1,
        -3.80806407691578277194e-2,
        -9.33259480895457427372e-4,
    ]
)
# quantile far tails, z in [8, 64)
_QUANTILE_P2 = np.array(
    [
        3.23774891776946035970e0,
        6.91522889068984211695e0,
        3.93881025292474443415e0,
        1.33303460815807542389e0,
        2.01485389549179081538e-1,
        1.23716634817820021358e-2,
        3.01581553508235416007e-4,
        2.65806974686737550832e-6,
        6.23974539184983293730e-9,
    ]
)
_QUANTILE_Q2 = np.array(
    [
        6.02427039364742014255e0,
        3.67983563856160859403e0,
        1.37702099489081330271e0,
        2.16236993594496635890e-1,
        1.34204006088543189037e-2,
        3.28014464682127739104e-4,
        2.89247864745380683936e-6,
        6.79019408009981274425e-9,
    ]
)
# complementary error function, 1 <= x < 8 (P/Q) and x >= 8 (R/S)
_ERFC_P = np.array(
    [
        2.46196981473530512524e-10,
        5.64189564831068821977e-1,
        7.46321056442269912687e0,
        4.86371970985681366614e1,
        1.96520832956077098242e2,
        5.26445194995477358631e2,
        9.34528527171957607540e2,
        1.02755188689515710272e3,
        5.57535335369399327526e2,
    ]
)
_ERFC_Q = np.array(
    [
        1.32281951154744992508e1,
        8.67072140885989742329e1,
        3.54937778887819891062e2,
        9.75708501743205489753e2,
        1.82390916687909736289e3,
        2.24633760818710981792e3,
        1.65666309194161350182e3,
        5.57535340817727675546e2,
    ]
)
_ERFC_R = np.array(
    [
        5.64189583547755073984e-1,
        1.27536670759978104416e0,
        5.01905042251180477414e0,
        6.16021097993053585195e0,
        7.40974269950448939160e0,
        2.97886665372100240670e0,
    ]
)
_ERFC_S = np.array(
    [
        2.26052863220117276590e0,
        9.39603524938001434673e0,
        1.20489539808096656605e1,
        1.70814450747565897222e1,
        9.60896809063285878198e0,
        3.36907645100081516050e0,
    ]
)
# error function, |x| < 1: x T(x^2) / U(x^2)
_ERF_T = np.array(
    [
        9.60497373987051638749e0,
        9.00260197203842689217e1,
        2.23200534594684319226e3,
        7.00332514112805075473e3,
        5.55923013010394962768e4,
    ]
)
_ERF_U = np.array(
    [
        3.35617141647503099647e1,
        5.21357949780152679795e2,
        4.59432382970980127987e3,
        2.26290000613890934246e4,
        4.92673942608635921086e4,
    ]
)


@numba.njit(**JIT_OPTIONS)
def _polynomial(x, coefficients):  # pragma: no cover - compiled
    """Horner's rule, highest power first (one multiply, then one add, per step)."""
    result = coefficients[0]
    for k in range(1, coefficients.shape[0]):
        result = result * x + coefficients[k]
    return result


@numba.njit(**JIT_OPTIONS)
def _monic_polynomial(x, coefficients):  # pragma: no cover - compiled
    """Horner's rule with an implicit leading coefficient 1."""
    result = x + coefficients[0]
    for k in range(1, coefficients.shape[0]):
        result = result * x + coefficients[k]
    return result


@numba.njit(**JIT_OPTIONS)
def normal_quantile(u):  # pragma: no cover - compiled
    """The standard normal's quantile at ``u`` (scipy.special.ndtri, bit for bit).

    0 and 1 give -inf and +inf, anything outside [0, 1] and NaN give NaN.
    """
    if u == 0.0:
        return -math.inf
    if u == 1.0:
        return math.inf
    if not (0.0 < u < 1.0):
        return math.nan
    negate = True
    y = u
    if y > 1.0 - _EXP_MINUS_2:
        y = 1.0 - y
        negate = False
    if y > _EXP_MINUS_2:
        y = y - 0.5
        y2 = y * y
        x = y + y * (y2 * _polynomial(y2, _QUANTILE_P0) / _monic_polynomial(y2, _QUANTILE_Q0))
        return x * _SQRT_2PI
    x = math.sqrt(-2.0 * math.log(y))
    x0 = x - math.log(x) / x
    z = 1.0 / x
    if x < 8.0:
        x1 = z * _polynomial(z, _QUANTILE_P1) / _monic_polynomial(z, _QUANTILE_Q1)
    else:
        x1 = z * _polynomial(z, _QUANTILE_P2) / _monic_polynomial(z, _QUANTILE_Q2)
    x = x0 - x1
    return -x if negate else x


@numba.njit(**JIT_OPTIONS)
def _erf_inside(x):  # pragma: no cover - compiled
    """Cephes' erf for ``|x| < 1`` (the only range :func:`normal_cdf` asks of it),
    negative ``x`` through ``-erf(-x)`` as there."""
    if x < 0.0:
        return -_erf_inside(-x)
    z = x * x
    return x * _polynomial(z, _ERF_T) / _monic_polynomial(z, _ERF_U)


@numba.njit(**JIT_OPTIONS)
def _erfc_outside(x):  # pragma: no cover - compiled
    """Cephes' erfc for ``x >= 1`` (the only range :func:`normal_cdf` asks of it)."""
    z = -x * x
    if z < -_LARGEST_LOG:
        return 0.0
    z = math.exp(z)
    if x < 8.0:
        p = _polynomial(x, _ERFC_P)
        q = _monic_polynomial(x, _ERFC_Q)
    else:
        p = _polynomial(x, _ERFC_R)
        q = _monic_polynomial(x, _ERFC_S)
    return (z * p) / q


@numba.njit(**JIT_OPTIONS)
def normal_cdf(x):  # pragma: no cover - compiled
    """The standard normal's distribution function at ``x`` (scipy.special.ndtr, bit
    for bit); NaN gives NaN."""
    if x != x:
        return x
    scaled = x * _SQRT_HALF
    z = abs(scaled)
    if z < 1.0:
        return 0.5 + 0.5 * _erf_inside(scaled)
    y = 0.5 * _erfc_outside(z)
    if scaled > 0:
        y = 1.0 - y
    return y
