"""The size checks read the machine's available memory only for requests that could
matter (above ``ALWAYS_FITS_BYTES``), so building a small model costs no /proc read."""
import numpy as np
import pytest

import pyneuron as pn
from pyneuron import validation


def _count_reads(monkeypatch, available):
    reads = []

    def fake():
        reads.append(1)
        return available
    monkeypatch.setattr(validation, "_available_memory_bytes", fake)
    return reads


def test_small_requests_do_not_read_the_machine(monkeypatch):
    reads = _count_reads(monkeypatch, available=0)     # would refuse everything if read
    assert validation.check_bytes_fit(validation.ALWAYS_FITS_BYTES, "n", "x") == validation.ALWAYS_FITS_BYTES
    assert validation.check_array_fits((1024, 1024), np.float64, "n") == 8 * 2**20
    pn.MLP([64, 64, 32, 10], seed=0)
    assert reads == []


def test_one_byte_more_is_checked_against_the_machine(monkeypatch):
    reads = _count_reads(monkeypatch, available=validation.ALWAYS_FITS_BYTES)
    with pytest.raises(ValueError, match=r"^n: x would need .* GiB, more than the"):
        validation.check_bytes_fit(validation.ALWAYS_FITS_BYTES + 1, "n", "x")
    assert reads == [1]
    with pytest.raises(ValueError, match=r"^n: an array of shape \(2049, 1024\) \(float64\)"):
        validation.check_array_fits((2049, 1024), np.float64, "n")
    assert reads == [1, 1]


@pytest.mark.parametrize("fixed", [10, None])
def test_a_given_or_set_limit_applies_even_to_small_requests(monkeypatch, fixed):
    _count_reads(monkeypatch, available=2**40)
    if fixed is None:
        with pytest.raises(ValueError, match="^n: "):
            validation.check_bytes_fit(11, "n", "x", max_bytes=10)
    else:
        monkeypatch.setattr(validation, "MAX_ARRAY_BYTES", fixed)
        with pytest.raises(ValueError, match="^n: "):
            validation.check_array_fits((11,), np.uint8, "n")
        assert validation.check_array_fits((10,), np.uint8, "n") == 10
