"""check_number takes every real number a learner may type, and refuses the rest with
its own message: a Fraction is a number (NumPy's isfinite refused it with a bare
TypeError), an integer beyond the floats' range is not finite (the same bare TypeError),
NumPy scalars and infinities as before."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import pyneuron as pn
from pyneuron.validation import check_number


@pytest.mark.parametrize("value, expected", [(Fraction(1, 4), 0.25), (np.int64(5), 5.0),
                                             (np.float32(0.5), 0.5), (3, 3.0), (10**300, 1e300)])
def test_real_numbers_come_back_as_floats(value, expected):
    got = check_number(value, "x")
    assert type(got) is float and got == expected


@pytest.mark.parametrize("value", [10**400, -10**400, math.inf, np.float32(-np.inf), math.nan,
                                   True, "1", None, 1j])
def test_anything_else_is_a_value_error_naming_the_argument(value):
    with pytest.raises(ValueError, match=r"^lr: expected a finite number, got "):
        check_number(value, "lr")


def test_the_door_says_it_for_a_huge_integer():
    with pytest.raises(ValueError, match=r"lr: expected a finite number, got 1000"):
        pn.optimizers.SGD(lr=10**400)
    assert pn.optimizers.SGD(lr=Fraction(1, 8)).lr == 0.125
