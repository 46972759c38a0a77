"""pyneuron.ulps beyond the worked cases in test_engines_kit: what the mutation run
(.ci/mutation.py) showed untested. Expected distances come from stepping with
``np.nextafter`` (one representable number per step), never from ``ulp_distance``."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyneuron.ulps import max_ulp_distance, ulp_distance


def test_max_over_nothing_is_zero():
    assert max_ulp_distance([], []) == 0
    assert max_ulp_distance(np.zeros((0, 3)), np.zeros((0, 3))) == 0


def test_max_is_none_when_any_element_is_nan():
    assert max_ulp_distance([1.0, math.nan], [1.0, 1.0]) is None
    assert max_ulp_distance([1.0, 2.0], [1.0, 2.0]) == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=40, deadline=None)
@given(start=st.floats(-2.0 ** 100, 2.0 ** 100, width=32), steps=st.integers(0, 40))
def test_distance_counts_nextafter_steps(dtype, start, steps):
    """Stepping ``steps`` times towards +inf, across zero too."""
    a = dtype(start)
    b = a
    for _ in range(steps):                          # nextafter(-tiny) is -0.0, then +tiny: the
        b = np.nextafter(b, dtype(np.inf))          # two zeros are one number, one step each side
    assert ulp_distance(a, b, dtype=dtype) == steps == ulp_distance(b, a, dtype=dtype)


def test_default_dtype_is_the_first_arguments_float_format_else_float64():
    one32 = np.float32(1.0)
    assert ulp_distance(one32, np.nextafter(one32, np.float32(2.0))) == 1
    assert ulp_distance(np.array([1], dtype=np.int64), np.array([2.0])) == 2 ** 52
    assert ulp_distance(np.float32(1.0), np.float32(2.0), dtype=np.float64) == 2 ** 52
