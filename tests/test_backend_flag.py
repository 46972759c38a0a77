"""The backend flag: set_backend / get_backend / use_backend, a model's
``backend=``, ``PYNEURON_BACKEND`` at import, available_backends."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pyneuron
from pyneuron import MLP, backends

ROOT = Path(__file__).resolve().parents[1]


def test_available_backends_lists_scalar_and_numpy():
    names = pyneuron.available_backends()
    assert isinstance(names, list)
    assert "scalar" in names and "numpy" in names
    assert set(names) <= {"scalar", "numpy", "c"}


def test_default_is_numpy_and_set_get():
    assert pyneuron.get_backend() in pyneuron.available_backends()
    pyneuron.set_backend("scalar")
    assert pyneuron.get_backend() == "scalar"
    assert MLP([2, 1]).kernels.name == "scalar"
    pyneuron.set_backend("numpy")
    assert pyneuron.get_backend() == "numpy"
    assert MLP([2, 1]).kernels.name == "numpy"


@pytest.mark.parametrize("bad", ["torch", "NUMPY", "", None, 3])
def test_unknown_name_lists_valid_ones(bad):
    before = pyneuron.get_backend()
    with pytest.raises(ValueError, match=r"backend.*'scalar'.*'numpy'.*'c'"):
        pyneuron.set_backend(bad)
    assert pyneuron.get_backend() == before
    with pytest.raises(ValueError, match="backend"):
        MLP([2, 1], backend=bad if bad is not None else "nope")


def test_use_backend_restores(backend):
    pyneuron.set_backend("numpy")
    with pyneuron.use_backend(backend) as kernels:
        assert pyneuron.get_backend() == backend
        assert kernels.name == backend
    assert pyneuron.get_backend() == "numpy"


def test_use_backend_restores_on_error():
    pyneuron.set_backend("numpy")
    with pytest.raises(ZeroDivisionError):
        with pyneuron.use_backend("scalar"):
            assert pyneuron.get_backend() == "scalar"
            1 / 0
    assert pyneuron.get_backend() == "numpy"


def test_use_backend_nested():
    pyneuron.set_backend("numpy")
    with pyneuron.use_backend("scalar"):
        with pyneuron.use_backend("numpy"):
            assert pyneuron.get_backend() == "numpy"
        assert pyneuron.get_backend() == "scalar"
    assert pyneuron.get_backend() == "numpy"


def test_use_backend_unknown_name_leaves_flag():
    pyneuron.set_backend("numpy")
    with pytest.raises(ValueError, match="backend"):
        with pyneuron.use_backend("fortran"):
            pass  # pragma: no cover
    assert pyneuron.get_backend() == "numpy"


def test_model_backend_overrides_global(backend, monkeypatch):
    pyneuron.set_backend("numpy" if backend != "numpy" else "scalar")
    model = MLP([2, 3, 1], seed=0, backend=backend)
    assert model.kernels.name == backend
    # Any kernel call on another backend would blow up: the model must not touch them.
    for other in pyneuron.available_backends():
        if other != backend:
            for kernel in ("dense_forward", "linear_forward", "activation_forward", "sgd_train_step"):
                monkeypatch.setattr(backends.get(other), kernel,
                                    lambda *a, _o=other, **k: pytest.fail(f"{_o} backend was called"))
    X, y = np.ones((2, 2)), np.array([0, 1])
    model.forward(X)
    model.fit(X, y, epochs=1, batch_size=None, lr=0.1)


def test_model_without_backend_follows_global():
    model = MLP([2, 3, 1], seed=0)
    with pyneuron.use_backend("scalar"):
        assert model.kernels.name == "scalar"
    assert model.kernels.name == pyneuron.get_backend()


def test_neuron_and_activations_follow_flag():
    with pyneuron.use_backend("scalar"):
        assert pyneuron.Neuron([1.0], 0.0).output([0.0]) == 0.5
        assert pyneuron.activations.apply("sigmoid", 0.0) == 0.5


def test_unavailable_c_raises_clearly(monkeypatch):
    """If the C kernels cannot load, asking for 'c' says why and how to build."""
    monkeypatch.setattr(backends, "_instances", {k: v for k, v in backends._instances.items() if k != "c"})
    monkeypatch.setattr(backends, "_c_error", "the 'c' backend is not available: test")
    with pytest.raises(pyneuron.BackendUnavailableError, match="'c' backend is not available"):
        pyneuron.set_backend("c")
    assert "c" not in pyneuron.available_backends()


def _run(env_value, code="import pyneuron; print(pyneuron.get_backend())"):
    env = dict(os.environ)
    env.pop("PYNEURON_BACKEND", None)
    if env_value is not None:
        env["PYNEURON_BACKEND"] = env_value
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=str(ROOT), timeout=120)


@pytest.mark.parametrize("value", ["scalar", "numpy"])
def test_environment_variable_read_at_import(value):
    proc = _run(value)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == value


def test_environment_variable_unset_gives_numpy():
    proc = _run(None)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "numpy"


def test_environment_variable_invalid_fails_clearly():
    proc = _run("cuda")
    assert proc.returncode != 0
    assert "ValueError" in proc.stderr
    assert "backend" in proc.stderr and "'scalar'" in proc.stderr and "'cuda'" in proc.stderr
