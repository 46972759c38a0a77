"""pyneuron.precision on its parts (issue 15 item 10: the mutation run of pyneuron/precision.py):
each kernel's exact reference against values known by hand, the generated inputs (sizes,
scales, order of draws) written out again from the seed, which engines and dtypes get a
row, the table's text, the ladder rows, and ``pyneuron precision``'s options.

Oracles: hand values (σ(0) = 1/2, softplus, a two-row batch norm), ``math`` in float64 for
smooth functions (the exact result rounded to float64 is within 1e-15 of it), the inputs
redrawn from ``numpy.random.default_rng(seed)`` in the documented order."""
from __future__ import annotations

import argparse
import math

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import backends, precision
from pyneuron.backends.numpy_backend import NumpyBackend
from pyneuron.precision import PrecisionReport, _exact, _mp, precision_report

pytest.importorskip("mpmath")


def _floats(exact):
    return np.array([[float(x) for x in row] for row in exact])


def test_exact_linear_forward_is_x_w_transposed_plus_b():
    X, W, b = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([[2.0, 0.5], [-1.0, 4.0], [0.0, 1.0]]), np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(_floats(_exact("linear_forward", (X, W, b), _mp())),
                                  [[4.0, 9.0, 5.0], [6.5, -5.0, 2.0]])


def test_exact_activations():
    mp = _mp()
    Z = np.array([[0.0, 2.0, -3.0]])
    sig = _floats(_exact("activation_forward:sigmoid", ("sigmoid", Z), mp))
    np.testing.assert_allclose(sig, [[0.5, 1 / (1 + math.exp(-2.0)), 1 / (1 + math.exp(3.0))]], rtol=1e-15)
    tanh = _floats(_exact("activation_forward:tanh", ("tanh", Z), mp))
    np.testing.assert_allclose(tanh, [[0.0, math.tanh(2.0), math.tanh(-3.0)]], rtol=1e-15)
    soft = _floats(_exact("activation_forward:softmax", ("softmax", np.array([[0.0, math.log(3.0)], [1.0, 1.0]])), mp))
    np.testing.assert_allclose(soft, [[0.25, 0.75], [0.5, 0.5]], rtol=1e-15)


def test_exact_bce_from_logits_is_the_mean_softplus_minus_yz():
    Z, Y = np.array([[2.0], [-1.0], [0.0]]), np.array([[1.0], [0.0], [1.0]])
    exact = float(_exact("loss_from_logits:bce", ("bce", Z, Y), _mp()))
    expected = (math.log1p(math.exp(-2.0)) + math.log1p(math.exp(-1.0)) + math.log(2.0)) / 3
    assert exact == pytest.approx(expected, rel=1e-15)


def test_exact_batch_norm_per_column():
    # column 0: mean 2, var 1 -> ±1/√(1 + eps); column 1: mean 0, var 4 -> ±2/√(4 + eps)
    Z = np.array([[1.0, 2.0], [3.0, -2.0]])
    out = _floats(_exact("batchnorm_forward", (Z, np.ones(2), np.zeros(2), 0.25), _mp()))
    np.testing.assert_allclose(out, [[-1 / math.sqrt(1.25), 2 / math.sqrt(4.25)],
                                     [1 / math.sqrt(1.25), -2 / math.sqrt(4.25)]], rtol=1e-15)


def test_no_exact_reference_for_another_kernel():
    with pytest.raises(ValueError, match=r"kernel: no exact reference for 'sgd_step'"):
        _exact("sgd_step", (), _mp())


# ------------------------------------------------------------------ the inputs each engine sees
class Spy(NumpyBackend):
    """numpy, float64 only, remembering the arguments of each outermost kernel call."""
    dtypes = (np.float64,)

    def __init__(self):
        self.seen, self.depth = [], 0

    def _call(self, name, args):
        if self.depth == 0:
            self.seen.append((name, args))
        self.depth += 1
        try:
            return getattr(super(), name)(*args)
        finally:
            self.depth -= 1

    def matmul(self, A, B, *rest):
        return self._call("matmul", (A, B, *rest))

    def linear_forward(self, X, W, b):
        return self._call("linear_forward", (X, W, b))

    def activation_forward(self, name, Z, *rest):
        return self._call("activation_forward", (name, Z, *rest))

    def loss_from_logits(self, name, Z, Y, *rest):
        return self._call("loss_from_logits", (name, Z, Y, *rest))

    def batchnorm_forward(self, Z, gamma, beta, eps):
        return self._call("batchnorm_forward", (Z, gamma, beta, eps))


@pytest.fixture
def spy():
    engine = Spy()
    pn.register_backend("spy", engine)
    yield engine
    backends.unregister_backend("spy")


def _expected_inputs(size, seed):
    """The documented inputs: m = size rows, k = 3·size, n = max(size // 2, 1); standard normal
    draws scaled ×6 (sigmoid), ×3 (tanh), ×5 (softmax), ×4 (bce logits), ×2 + 1 (batch norm)."""
    rng = np.random.default_rng(seed)
    m, k, n = size, 3 * size, max(size // 2, 1)
    return [("matmul", (rng.standard_normal((m, k)), rng.standard_normal((k, n)))),
            ("linear_forward", (rng.standard_normal((m, k)), rng.standard_normal((n, k)), rng.standard_normal(n))),
            ("activation_forward", ("sigmoid", rng.standard_normal((m, n)) * 6)),
            ("activation_forward", ("tanh", rng.standard_normal((m, n)) * 3)),
            ("activation_forward", ("softmax", rng.standard_normal((m, n)) * 5)),
            ("loss_from_logits", ("bce", rng.standard_normal((m, 1)) * 4, (rng.random((m, 1)) < 0.5).astype(float))),
            ("batchnorm_forward", (rng.standard_normal((m, n)) * 2 + 1, np.ones(n), np.zeros(n), 1e-5))]


@pytest.mark.parametrize("size, seed", [(4, 0), (1, 3)])
def test_each_kernel_gets_the_documented_inputs(spy, size, seed):
    report = precision_report(backends=["spy"], dtypes=["float64"], size=size, seed=seed, training=False,
                              ladder=False)
    expected = _expected_inputs(size, seed)
    assert [name for name, _ in spy.seen] == [name for name, _ in expected]
    for (name, args), (_, want) in zip(spy.seen, expected):
        assert len(args) == len(want), name
        for a, w in zip(args, want):
            if isinstance(w, np.ndarray):
                assert a.dtype == np.float64
                np.testing.assert_array_equal(a, w, err_msg=name)
            else:
                assert a == w, name
    assert [r[:3] for r in report.rows] == [
        (label, "spy", "float64") for label in ("matmul", "linear_forward", "activation_forward: sigmoid",
                                                "activation_forward: tanh", "activation_forward: softmax",
                                                "loss_from_logits: bce", "batchnorm_forward")]


def test_an_engine_without_a_dtype_gets_no_row_for_it(spy):
    report = precision_report(backends=["spy", "numpy"], dtypes=["float32"], size=2, training=False, ladder=False)
    assert {r[1] for r in report.rows} == {"numpy"} and {r[2] for r in report.rows} == {"float32"}
    assert spy.seen == []


def test_the_ladder_adds_only_matmul_rows_for_each_c_rung():
    if "c" not in pn.available_backends():
        pytest.skip("no c backend")
    report = precision_report(backends=["numpy"], dtypes=["float64"], size=2, training=False)
    rungs = [r for r in report.rows if r[1].startswith("c/")]
    assert rungs and {r[0] for r in rungs} == {"matmul"} and {r[2] for r in rungs} == {"float64"}
    plain = precision_report(backends=["numpy"], dtypes=["float64"], size=2, training=False, ladder=False)
    assert not any(r[1].startswith("c/") for r in plain.rows)


def test_the_default_backends_are_every_available_one():
    report = precision_report(dtypes=["float64"], size=1, training=False, ladder=False)
    assert sorted({r[1] for r in report.rows}) == sorted(pn.available_backends())


def test_the_training_rows_skip_a_dtype_the_engine_lacks(spy):
    report = precision_report(backends=["scalar", "spy"], dtypes=["float64", "float32"], size=1)
    assert [r[:2] for r in report.training] == [("scalar", "float64"), ("spy", "float64")]
    assert report.training[0][2:] == (0, 0.0)


# ------------------------------------------------------------------ the table
def test_report_text():
    r = PrecisionReport(rows=[("matmul", "numpy", "float64", 3, 0.5)], training=[("c", "float32", 7, 2.5)])
    assert str(r).splitlines() == [
        "ulps from the exact result (mpmath, 40 digits), rounded to each dtype",
        "  kernel                         engine         dtype       max  median",
        "  matmul                         numpy          float64       3     0.5",
        "final weights after training, ulps from the scalar backend's float64 run",
        "  c              float32  max 7  median 2.5"]
    assert "final weights" not in str(PrecisionReport(rows=[]))


# ------------------------------------------------------------------ the command line
def test_command_defaults():
    parser = argparse.ArgumentParser()
    precision.add_arguments(parser)
    a = parser.parse_args([])
    assert (a.backends, a.dtypes, a.size, a.seed, a.no_training) == (None, "float64,float32", 8, 0, False)


def test_command_passes_its_options(monkeypatch, capsys):
    seen = {}

    def fake(**kw):
        seen.update(kw)
        return "TABLE"

    monkeypatch.setattr(precision, "precision_report", fake)
    parser = argparse.ArgumentParser()
    precision.add_arguments(parser)
    assert precision.run_command(parser.parse_args(["--backends", "numpy,c", "--dtypes", "float32", "--size", "3",
                                                    "--seed", "5", "--no-training"])) == 0
    assert seen == dict(backends=["numpy", "c"], dtypes=["float32"], size=3, seed=5, training=False)
    assert capsys.readouterr().out == "TABLE\n"
    precision.run_command(parser.parse_args([]))
    assert seen["backends"] is None and seen["training"] is True and seen["dtypes"] == ["float64", "float32"]


def test_the_exact_results_carry_forty_digits():
    assert _mp().dps == 40


def test_without_mpmath_the_report_says_how_to_get_it(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "mpmath", None)
    with pytest.raises(ImportError, match=r"pyneuron precision needs mpmath \(pip install mpmath"):
        _mp()


def test_the_default_inputs_are_eight_rows_from_seed_0(spy):
    precision_report(backends=["spy"], dtypes=["float64"], training=False, ladder=False)
    expected = _expected_inputs(8, 0)
    assert len(spy.seen) == len(expected)
    for (name, args), (_, want) in zip(spy.seen, expected):
        for a, w in zip(args, want):
            if isinstance(w, np.ndarray):
                np.testing.assert_array_equal(a, w, err_msg=name)


def test_the_training_run_is_the_documented_workload(monkeypatch):
    from pyneuron.datasets import make_moons
    fits = []

    class FakeMLP:
        def __init__(self, sizes, activation, seed, backend, dtype="float64"):
            self.args = (sizes, activation, seed, backend, dtype)

        def fit(self, X, y, epochs, batch_size, lr):
            fits.append((self.args, X, y, epochs, batch_size, lr))

        def get_weights(self):
            return [np.ones(2)]

    monkeypatch.setattr(pn, "MLP", FakeMLP)
    report = precision_report(backends=["numpy"], dtypes=["float64"], size=1, seed=3, ladder=False)
    X, y = make_moons(64, noise=0.2, seed=3)
    assert [f[0] for f in fits] == [([2, 8, 1], "tanh", 3, "scalar", "float64"), ([2, 8, 1], "tanh", 3, "numpy", "float64")]
    for _, Xf, yf, epochs, batch, lr in fits:
        np.testing.assert_array_equal(Xf, X)
        np.testing.assert_array_equal(yf, y)
        assert (epochs, batch, lr) == (5, 16, 0.1)
    assert report.training == [("numpy", "float64", 0, 0.0)]


class _SecondOutputOff(NumpyBackend):
    """numpy whose batchnorm_forward returns a wrong second output (ẑ + 1): only the first is measured."""

    def batchnorm_forward(self, Z, gamma, beta, eps):
        out, zhat, mean, var = super().batchnorm_forward(Z, gamma, beta, eps)
        return out, zhat + 1.0, mean, var


def test_a_kernel_with_several_outputs_is_measured_on_the_first():
    pn.register_backend("second", _SecondOutputOff())
    try:
        report = precision_report(backends=["numpy", "second"], dtypes=["float64"], size=4, training=False,
                                  ladder=False)
    finally:
        backends.unregister_backend("second")
    numpy_row, second_row = [r for r in report.rows if r[0] == "batchnorm_forward"]
    assert second_row[1] == "second" and second_row[3:] == numpy_row[3:]      # the +1 is not seen
