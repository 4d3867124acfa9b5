"""The tail probabilities of ``coord_core.analysis.tails`` are scipy.stats' own, bit for bit."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
from scipy import stats

from coord_core.analysis.tails import binom_logsf, poisson_logsf


def _same(got: object, expected: object) -> None:
    assert type(got) is type(expected)
    got_array, expected_array = np.asarray(got), np.asarray(expected)
    assert got_array.dtype == expected_array.dtype and got_array.shape == expected_array.shape
    assert np.array_equal(got_array, expected_array, equal_nan=True)
    assert got_array.tobytes() == expected_array.tobytes()  # -0.0 and NaN payloads too


def test_binomial_tails_are_scipys() -> None:
    rng = np.random.default_rng(11)
    ks = [-3, -1, 0, 1, 2, 5, 40, 999, 1000, 1001, 2.5, np.nan]
    ns = [0, 1, 2, 7, 50, 1000, 2.5, -1]
    ps = [0.0, 1e-300, 1e-9, 0.001, 0.3, 0.5, 0.999, 1.0, 1.5, -0.1, np.nan]
    for k, n, p in itertools.product(ks, ns, ps):
        _same(binom_logsf(k, n, p), stats.binom.logsf(k, n, p))
    for size in (1, 2, 7, 64, 1000):
        ka = rng.integers(-2, 60, size)
        na = rng.integers(0, 80, size)
        pa = rng.random(size) ** 3
        _same(binom_logsf(ka, na, pa), stats.binom.logsf(ka, na, pa))
        _same(binom_logsf(ka, 50, 0.01), stats.binom.logsf(ka, 50, 0.01))
        _same(binom_logsf(3, na, pa), stats.binom.logsf(3, na, pa))


def test_poisson_tails_are_scipys() -> None:
    rng = np.random.default_rng(12)
    ks = [-2, -1, 0, 1, 3, 30, 500, 2.5, np.inf, np.nan]
    mus = [0.0, 1e-12, 0.01, 0.5, 3.0, 40.0, 800.0, -1.0, np.inf, np.nan]
    for k, mu in itertools.product(ks, mus):
        _same(poisson_logsf(k, mu), stats.poisson.logsf(k, mu))
    for size in (1, 3, 64, 1000):
        ka = rng.integers(-1, 40, size)
        mua = rng.random(size) * 20
        _same(poisson_logsf(ka, mua), stats.poisson.logsf(ka, mua))
        _same(poisson_logsf(ka, 2.5), stats.poisson.logsf(ka, 2.5))


def test_the_analysis_does_not_import_scipy_stats() -> None:
    code = "import sys, coord_core.analysis.engine; print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
