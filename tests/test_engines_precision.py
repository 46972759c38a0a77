"""pyneuron.precision (issue 12, item 5): ulp distances from the exact result.

Oracles: integer-valued products (exact in every float format, so every engine must be
0 ulps), numpy.nextafter for a one-ulp error, and mpmath's sigmoid/tanh (correctly
rounded engines are within 1-2 ulps of them)."""
from __future__ import annotations

import numpy as np
import pytest

from pyneuron.cli import main
from pyneuron.precision import _exact, _mp, _ulps, precision_report

from helpers import require_backend

pytest.importorskip("mpmath")


def test_exact_reference_of_integer_products_is_the_product():
    rng = np.random.default_rng(0)
    A, B = rng.integers(-9, 9, (4, 7)).astype(float), rng.integers(-9, 9, (7, 3)).astype(float)
    exact = np.array([[float(x) for x in row] for row in _exact("matmul", (A, B), _mp())])
    np.testing.assert_array_equal(exact, A @ B)
    assert _ulps(A @ B, _exact("matmul", (A, B), _mp()), np.dtype(np.float64)) == (0, 0.0)


def test_one_ulp_off_is_one():
    mp = _mp()
    exact = [[mp.mpf(1) / 3, mp.mpf(2) / 3]]
    got = np.array([[np.nextafter(1 / 3, 1.0), 2 / 3]])
    assert _ulps(got, exact, np.dtype(np.float64)) == (1, 0.5)


def test_report_rows_and_bounds(backend):
    report = precision_report(backends=[backend], training=False, ladder=False, size=4)
    kernels = {r[0] for r in report.rows}
    assert kernels == {"matmul", "linear_forward", "activation_forward: sigmoid", "activation_forward: tanh",
                       "activation_forward: softmax", "loss_from_logits: bce", "batchnorm_forward"}
    for what, engine, dtype, worst, median in report.rows:
        assert engine == backend and worst >= 0 and 0 <= median <= worst
        if what in ("activation_forward: sigmoid", "activation_forward: tanh"):
            assert worst <= 2, (what, dtype, worst)


def test_the_ladder_is_measured_rung_by_rung():
    require_backend("c")
    from pyneuron.backends import c_backend
    report = precision_report(backends=["numpy"], dtypes=["float64"], training=False, size=4)
    rungs = {r[1]: r for r in report.rows if r[0] == "matmul" and r[1].startswith("c/")}
    assert {"c/naive", "c/reorder", "c/blocked"} <= set(rungs)
    rng = np.random.default_rng(1)
    A, B = rng.integers(-9, 9, (5, 12)).astype(float), rng.integers(-9, 9, (12, 4)).astype(float)
    for rung in rungs:                                 # integer products: every order is exact
        np.testing.assert_array_equal(c_backend.matmul(A, B, variant=rung[2:]), A @ B)


def test_training_rows_and_the_command(capsys):
    report = precision_report(backends=["scalar", "numpy"], dtypes=["float64", "float32"], size=2)
    assert [r[:2] for r in report.training] == [("scalar", "float64"), ("numpy", "float64"), ("numpy", "float32")]
    assert report.training[0][2:] == (0, 0.0)          # the reference against itself
    assert main(["precision", "--backends", "numpy", "--no-training", "--size", "2"]) == 0
    out = capsys.readouterr().out
    assert "ulps from the exact result" in out and "matmul" in out


def test_bad_arguments():
    with pytest.raises(ValueError, match="backend: expected one of"):
        precision_report(backends=["gpu"])
    with pytest.raises(ValueError, match="dtype"):
        precision_report(dtypes=["float16"])
