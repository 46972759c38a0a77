"""pyneuron.validation beyond test_validation / test_trust_door: what the mutation run
(.ci/mutation.py) showed untested — each door check on both sides of each branch
(text and complex X, a 2-D vector, ``allow_none``, closed and open interval ends, a
string that is not a choice, an object that is no dtype) and where the memory limit
comes from (/proc/meminfo's MemAvailable in bytes, else the physical memory, else 64 GiB)."""
from __future__ import annotations

import io
import os

import numpy as np
import pytest

from pyneuron import validation as v


@pytest.mark.parametrize("X, kind", [("1,2", "str"), (b"12", "bytes")])
def test_text_is_not_a_matrix(X, kind):
    with pytest.raises(TypeError, match=rf"^X: expected a 2-D array of numbers, got a {kind}$"):
        v.as_float_matrix(X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_complex_matrix_is_refused_not_cast(dtype):
    with pytest.raises(TypeError, match=r"^inputs: expected real numbers, got complex dtype complex128$"):
        v.as_float_matrix(np.array([[1.0 + 0j, 2.0]]), name="inputs", dtype=dtype)
    assert v.as_float_matrix([[1, 2]], dtype=dtype).dtype == dtype


def test_as_vector_wants_one_dimension():
    with pytest.raises(ValueError, match=r"^w: expected a 1-D array, got shape \(1, 2\)$"):
        v.as_vector([[1.0, 2.0]], "w")
    with pytest.raises(ValueError, match=r"^w: expected a 1-D array, got shape \(\)$"):
        v.as_vector(3.0, "w")
    assert v.as_vector([1, 2], "w", length=2).tolist() == [1.0, 2.0]


def test_as_vector_takes_bools_as_numbers_and_refuses_text():
    assert v.as_vector(np.array([True, False]), "mask").tolist() == [1.0, 0.0]
    with pytest.raises(TypeError, match=r"^w: expected a 1-D array of real numbers, got \['1', '2'\]$"):
        v.as_vector(["1", "2"], "w")


def test_none_is_an_integer_only_when_allowed():
    with pytest.raises(ValueError, match=r"^epochs: expected an integer >= 1, got None$"):
        v.check_positive_int(None, "epochs")
    assert v.check_positive_int(None, "seed", allow_none=True) is None
    assert v.check_positive_int(5, "seed", allow_none=True) == 5
    assert v.check_positive_int(np.int64(0), "n", minimum=0) == 0
    with pytest.raises(ValueError, match=r"^n: expected an integer >= 0, got -1$"):
        v.check_positive_int(-1, "n", minimum=0, allow_none=True)


def test_interval_ends_are_closed_unless_asked():
    assert v.check_number(0, "lr", low=0) == 0.0
    assert v.check_number(1, "p", high=1) == 1.0
    assert v.check_number(0.5, "p", low=0, high=1, low_open=True, high_open=True) == 0.5
    with pytest.raises(ValueError, match=r"^lr: expected a number > 0, got 0.0$"):
        v.check_number(0, "lr", low=0, low_open=True)
    with pytest.raises(ValueError, match=r"^p: expected a number < 1, got 1.0$"):
        v.check_number(1, "p", high=1, high_open=True)
    with pytest.raises(ValueError, match=r"^p: expected a number <= 1, got 1.5$"):
        v.check_number(1.5, "p", high=1)
    with pytest.raises(ValueError, match=r"^lr: expected a number >= 0, got -0.5$"):
        v.check_number(-0.5, "lr", low=0)


@pytest.mark.parametrize("value, given", [("Relu", "'Relu'"), (1, "1"), (None, "None")])
def test_a_choice_must_be_one_of_the_strings(value, given):
    with pytest.raises(ValueError, match=rf"^activation: expected one of 'relu', 'tanh', got {given}$"):
        v.check_choice(value, "activation", ("relu", "tanh"))
    assert v.check_choice("tanh", "activation", ("relu", "tanh")) == "tanh"


@pytest.mark.parametrize("bad", [object(), "float99", {"x": 1}])
def test_what_is_no_dtype_is_a_type_error(bad):
    with pytest.raises(TypeError, match=r"^precision: expected 'float64' or 'float32', got "):
        v.check_dtype(bad, "precision")
    assert v.check_dtype("float32", "precision") == np.float32


# ------------------------------------------------------------------ the memory limit
def test_physical_memory_is_meminfos_total():
    """On Linux sysconf's page count is the kernel's total RAM, which /proc/meminfo shows as MemTotal."""
    if not os.path.exists("/proc/meminfo"):
        pytest.skip("no /proc/meminfo")
    with open("/proc/meminfo") as f:
        total_kib = next(int(line.split()[1]) for line in f if line.startswith("MemTotal:"))
    assert v._physical_memory_bytes() == total_kib * 1024


def test_physical_memory_without_sysconf_is_64_gib(monkeypatch):
    def fails(name):
        raise ValueError(f"unknown {name}")
    monkeypatch.setattr(os, "sysconf", fails)
    assert v._physical_memory_bytes() == 64 * 1024 ** 3


@pytest.mark.parametrize("text, expected", [
    ("MemTotal:       8000 kB\nMemFree:        1000 kB\nMemAvailable:   2048 kB\n", 2048 * 1024),
    ("MemTotal:       8000 kB\nMemFree:        1000 kB\n", "physical"),            # an old kernel
    ("MemAvailable: lots\n", "physical"),                                           # unreadable
])
def test_available_memory_reads_memavailable_in_bytes(monkeypatch, text, expected):
    monkeypatch.setattr(v, "open", lambda path, *a, **k: io.StringIO(text), raising=False)
    monkeypatch.setattr(v, "_physical_memory_bytes", lambda: 12345)
    assert v._available_memory_bytes() == (12345 if expected == "physical" else expected)


def test_available_memory_without_meminfo_is_the_physical_memory(monkeypatch):
    def missing(path, *a, **k):
        raise FileNotFoundError(path)
    monkeypatch.setattr(v, "open", missing, raising=False)
    monkeypatch.setattr(v, "_physical_memory_bytes", lambda: 12345)
    assert v._available_memory_bytes() == 12345
