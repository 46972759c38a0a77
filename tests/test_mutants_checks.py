"""pyneuron._checks beyond test_files_checks: what the mutation run (.ci/mutation.py)
showed untested — which batch-norm arrays must be non-negative (only the running
variance: gamma, beta and the running mean may be any finite number)."""
from __future__ import annotations

import numpy as np
import pytest

from pyneuron import _checks

GOOD = {"gamma": [1.0, 2.0], "beta": [0.0, 0.5], "running_mean": [0.0, 0.0], "running_var": [1.0, 0.0]}


@pytest.mark.parametrize("key", ["gamma", "beta", "running_mean"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_negative_values_are_fine_except_in_the_running_variance(key, dtype):
    arrays = dict(GOOD, **{key: [-3.0, -0.5]})
    out = _checks.check_batchnorm_arrays(arrays, 2, dtype, "layer 1")
    assert set(out) == set(GOOD)
    for name, value in arrays.items():
        assert out[name].dtype == dtype and out[name].tolist() == value


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_negative_running_variance_is_refused(dtype):
    with pytest.raises(ValueError, match=r"layer 1 running_var: expected values >= 0 \(a variance\), "
                                         r"got -0.5 at index \(1,\)"):
        _checks.check_batchnorm_arrays(dict(GOOD, running_var=[1.0, -0.5]), 2, dtype, "layer 1")


@pytest.mark.parametrize("key", sorted(GOOD))
def test_each_array_has_the_layers_width(key):
    with pytest.raises(ValueError, match=rf"layer 1 {key}: expected shape \(2,\), got \(3,\)"):
        _checks.check_batchnorm_arrays(dict(GOOD, **{key: [0.0, 1.0, 2.0]}), 2, np.float64, "layer 1")
