"""A model's repr never raises: with a bad PYNEURON_BACKEND it shows ``backend=None`` (the
error comes where the model computes), and with a good one it names the backend used."""
import pytest

from pyneuron import MLP, _config


@pytest.fixture
def unresolved_default(monkeypatch):
    monkeypatch.setattr(_config, "_default", None)
    monkeypatch.setattr(_config, "_default_from_environment", False)


def test_repr_with_a_bad_variable_shows_none_and_computing_still_raises(unresolved_default, monkeypatch):
    monkeypatch.setenv("PYNEURON_BACKEND", "gpu")
    model = MLP([2, 3, 1], seed=0)
    assert repr(model) == ("MLP(2-3-1, activation='relu', output='sigmoid', loss='bce', backend=None, "
                           "parameters=13)")
    with pytest.raises(_config.BackendEnvironmentError, match="PYNEURON_BACKEND='gpu'"):
        model.kernels


def test_repr_with_a_good_variable_names_it(unresolved_default, monkeypatch):
    monkeypatch.setenv("PYNEURON_BACKEND", "scalar")
    assert "backend='scalar'" in repr(MLP([2, 3, 1], seed=0))


def test_repr_names_the_models_own_backend_whatever_the_variable(unresolved_default, monkeypatch):
    monkeypatch.setenv("PYNEURON_BACKEND", "gpu")
    assert "backend='numpy'" in repr(MLP([2, 3, 1], seed=0, backend="numpy"))
