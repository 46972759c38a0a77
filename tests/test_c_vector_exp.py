"""The vectorized exp of the fused softmax (kernels/vector_exp.c), through ``pyn_exp_f64``.

Held to mpmath's e^x correctly rounded to double: within 1 unit in the last place, on
every SIMD level the CPU has (AVX-512 runs the vector code, lower levels the C library's
exp). The properties the fused step builds on are checked exactly: e^0 = 1, e^x <= 1 for
x <= 0, and the edges where e^x overflows, underflows and turns subnormal.
"""
import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import c_backend_module
from pyneuron.ulps import ulp_distance

cb = c_backend_module()
ffi, lib = cb.ffi, cb.lib

LEVELS = [level for level in (lib.PYN_SIMD_NONE, lib.PYN_SIMD_AVX2, lib.PYN_SIMD_AVX512)
          if level <= lib.pyn_simd_available()]


def vector_exp(x, level):
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.full_like(x, 7.0)
    assert lib.pyn_set_simd_level(level) == level
    try:
        lib.pyn_exp_f64(x.size, ffi.cast("double *", x.ctypes.data), ffi.cast("double *", out.ctypes.data))
    finally:
        lib.pyn_set_simd_enabled(1)
    return out


def correctly_rounded(x):
    with mpmath.workdps(40):
        return np.array([float(mpmath.exp(mpmath.mpf(float(v)))) for v in np.ravel(x)])


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("low, high", [(-1.0, 1.0), (-40.0, 0.0), (-745.2, -700.0), (700.0, 709.78),
                                       (-1e-10, 1e-10)])
def test_within_one_ulp_of_the_correctly_rounded_value(level, low, high):
    x = np.random.default_rng(int(high * 7) % 2**32).uniform(low, high, 600)
    dist = ulp_distance(vector_exp(x, level), correctly_rounded(x))
    assert max(dist) <= 1


@pytest.mark.parametrize("level", LEVELS)
@settings(max_examples=200)
@given(x=st.floats(min_value=-800.0, max_value=720.0, allow_nan=False))
def test_any_argument_is_within_one_ulp(level, x):
    got = vector_exp([x] * 3, level)     # three copies: one whole vector lane set, masked
    want = correctly_rounded([x])[0]
    assert got[0] == got[1] == got[2]
    assert ulp_distance(got[0], want) <= 1


@pytest.mark.parametrize("level", LEVELS)
def test_edges_and_special_values(level):
    cases = {0.0: 1.0, -0.0: 1.0, math.inf: math.inf, -math.inf: 0.0,
             709.782712893384: 1.7976931348622732e308,     # the largest finite e^x
             709.7827128933841: math.inf,                  # the next double overflows
             -745.1332191019411: 5e-324,                   # the smallest subnormal
             -745.1332191019412: 0.0,
             -708.3964185322641: 2.2250738585072626e-308,  # the smallest normal
             -1e-300: 1.0, 1e-300: 1.0}
    x = np.array(list(cases))
    np.testing.assert_array_equal(vector_exp(x, level), np.array(list(cases.values())))
    assert np.isnan(vector_exp([np.nan, 1.0, np.nan], level)[[0, 2]]).all()


@pytest.mark.parametrize("level", LEVELS)
def test_never_above_one_for_a_negative_argument(level):
    # the fused softmax's accuracy count relies on e^(z - max) <= e^0 = 1
    x = -np.concatenate([np.geomspace(1e-300, 1.0, 2000), np.linspace(0, 0.5, 2001)])
    assert (vector_exp(x, level) <= 1.0).all()


def test_every_length_is_written_exactly():
    # lengths around the 8-lane vector: the masked last vector writes no lane past n
    for n in range(0, 20):
        x = np.linspace(-3, 3, n + 4)
        out = np.full_like(x, 7.0)
        lib.pyn_exp_f64(n, ffi.cast("double *", x.ctypes.data), ffi.cast("double *", out.ctypes.data))
        assert (out[n:] == 7.0).all()
        assert max(ulp_distance(out[:n], correctly_rounded(x[:n])), default=0) <= 1
