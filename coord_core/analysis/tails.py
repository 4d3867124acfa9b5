"""Log tail probabilities of the binomial and Poisson laws, computed exactly as ``scipy.stats`` does.

``scipy.stats.binom.logsf`` and ``scipy.stats.poisson.logsf`` evaluate one ufunc each
(``_binom_sf``, ``pdtrc``) behind argument checks; importing ``scipy.stats`` for them costs
about 0.7 s of every command's start. These functions are scipy's ``rv_discrete.logsf`` with
the two laws' checks and support, step for step, so every value (and NaN, 0 and -inf at the
edges) is the same; tests compare them with ``scipy.stats`` over grids of arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import pdtrc
from scipy.special._ufuncs import _binom_sf

Array = Any  # a numpy array or scalar, as scipy.stats takes and returns them

MAX_P_VALUE_WEIGHT = 25.0  # the statistical detectors' cap on a join's log-odds (METHODOLOGY 7)


def p_value_weight(p_value: float) -> float:
    """A statistical detector's join weight: -ln p, capped at :data:`MAX_P_VALUE_WEIGHT`."""
    return float(min(-np.log(max(p_value, 1e-300)), MAX_P_VALUE_WEIGHT))


def binom_logsf(k: Array, n: Array, p: Array) -> Any:
    """``scipy.stats.binom.logsf(k, n, p)``: log P(X > k) for X ~ Binomial(n, p)."""
    n, p = np.asarray(n), np.asarray(p)
    valid = (n >= 0) & (n == np.round(n)) & (p >= 0) & (p <= 1)
    return _logsf(k, (n, p), valid, n, lambda x, n_, p_: _binom_sf(np.floor(x), n_, p_))


def poisson_logsf(k: Array, mu: Array) -> Any:
    """``scipy.stats.poisson.logsf(k, mu)``: log P(X > k) for X ~ Poisson(mu)."""
    mu = np.asarray(mu)
    return _logsf(k, (mu,), mu >= 0, np.inf, lambda x, mu_: pdtrc(np.floor(x), mu_))


def _logsf(k: Array, args: tuple[Any, ...], valid: Any, upper: Any, sf: Callable[..., Any]) -> Any:
    """scipy's ``rv_discrete.logsf`` for a law on {0, ..., upper - 1} (loc 0, NaN for bad arguments)."""
    k = np.asarray(np.asarray(k) - np.asarray(0))
    inside = (k >= 0) & (k < upper)
    below = (k < 0) & valid
    cond = valid & inside
    output = np.empty(np.shape(cond), "d")
    output.fill(-np.inf)
    np.place(output, (1 - valid) + np.isnan(k), np.nan)
    np.place(output, below, 0.0)
    if np.any(cond):
        goodargs = _argsreduce(cond, k, *args)
        with np.errstate(divide="ignore"):
            np.place(output, cond, np.log(sf(*goodargs)))
    if output.ndim == 0:
        return output[()]
    return output


def _argsreduce(cond: Any, *args: Any) -> list[Any]:
    """scipy.stats' ``argsreduce``: the arguments where ``cond`` holds, flattened (scalars kept)."""
    newargs = np.atleast_1d(*args)
    if not isinstance(newargs, (list | tuple)):
        newargs = (newargs,)
    if np.all(cond):
        *newargs, cond = np.broadcast_arrays(*newargs, cond)
        return [arg.ravel() for arg in newargs]
    shape = cond.shape
    return [arg if np.size(arg) == 1 else np.extract(cond, np.broadcast_to(arg, shape)) for arg in newargs]
