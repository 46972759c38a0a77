"""Issue 11: the leaky-ReLU slope is ``negative_slope`` (torch's name), not ``alpha``
(scikit-learn's L2 strength). ``alpha=`` still works for one release with a
DeprecationWarning; both at once is an error; old model files (key ``alpha``) still load."""
import json
import os
import warnings

import numpy as np
import pytest

import pyneuron as pn


def _tiny(backend, **slope):
    """1 -> 1 -> 1, leaky ReLU hidden, linear output, every weight 1 and bias 0: f(x) = leaky(x)."""
    model = pn.MLP([1, 1, 1], activation="leaky_relu", output="linear", backend=backend, **slope)
    model.set_weights([np.ones((1, 1)), np.zeros(1), np.ones((1, 1)), np.zeros(1)])
    return model


@pytest.mark.parametrize("slope", [0.0, 0.2, 0.5])
def test_negative_slope_is_the_leaky_relu_slope(backend, slope):
    model = _tiny(backend, negative_slope=slope)
    out = model.predict(np.array([[-3.0], [2.0]])).ravel()
    assert out.tolist() == pytest.approx([-3.0 * slope, 2.0], abs=1e-15)   # by hand: f(-3) = -3s, f(2) = 2
    assert model.negative_slope == slope


def test_default_slope_is_001_and_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = _tiny(None)
    assert model.negative_slope == 0.01
    assert model.predict(np.array([[-1.0]])).item() == pytest.approx(-0.01)


def test_alpha_still_works_with_a_deprecation_warning_naming_negative_slope():
    with pytest.warns(DeprecationWarning, match="negative_slope") as record:
        model = _tiny(None, alpha=0.3)
    assert record[0].filename == __file__          # points at the caller's line, not pyneuron's
    assert model.negative_slope == 0.3
    assert model.predict(np.array([[-2.0]])).item() == pytest.approx(-0.6)


@pytest.mark.parametrize("slope", [0.01, 0.3])
def test_both_names_is_an_error(slope):
    with pytest.raises(ValueError, match="negative_slope and alpha"):
        pn.MLP([2, 3, 1], negative_slope=slope, alpha=slope)


@pytest.mark.parametrize("bad, kind", [(-0.1, ValueError), (float("nan"), ValueError), ("0.1", ValueError)])
def test_bad_slope_names_the_argument(bad, kind):
    with pytest.raises(kind, match="negative_slope"):
        pn.MLP([2, 3, 1], negative_slope=bad)
    with pytest.warns(DeprecationWarning), pytest.raises(kind, match="alpha"):
        pn.MLP([2, 3, 1], alpha=bad)


def test_file_round_trip_writes_the_new_key(tmp_path):
    rng = np.random.default_rng(1)
    model = pn.MLP([3, 5, 2], activation="leaky_relu", output="softmax", negative_slope=0.25, seed=3)
    path = model.save(tmp_path / "m.npz")
    with np.load(path) as data:
        arch = json.loads(str(data["architecture"]))
    assert arch["negative_slope"] == 0.25 and "alpha" not in arch
    back = pn.load(path)
    assert back.negative_slope == 0.25
    X = rng.normal(size=(7, 3)) * 3
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))


def test_an_old_file_with_alpha_loads_silently(tmp_path):
    model = pn.MLP([2, 4, 1], activation="leaky_relu", negative_slope=0.4, seed=0)
    path = model.save(tmp_path / "new.npz")
    with np.load(path) as data:
        entries = {k: data[k] for k in data.files}
    arch = json.loads(str(entries["architecture"]))
    arch["alpha"] = arch.pop("negative_slope")             # as files were written before the rename
    entries["architecture"] = np.array(json.dumps(arch))
    old = os.path.join(tmp_path, "old.npz")
    np.savez(old, **entries)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = pn.load(old)
    assert back.negative_slope == 0.4
    X = np.array([[-1.0, -2.0], [0.5, -3.0]])
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))


def test_torch_carries_the_slope():
    torch = pytest.importorskip("torch")
    model = pn.MLP([2, 3, 1], activation="leaky_relu", negative_slope=0.15, seed=0)
    net = model.to_torch()
    slopes = [m.negative_slope for m in net if isinstance(m, torch.nn.LeakyReLU)]
    assert slopes == [0.15]
    assert pn.from_torch(net).negative_slope == 0.15


def test_repr_of_a_layer_names_the_slope():
    model = pn.MLP([2, 3, 1], activation="leaky_relu", negative_slope=0.2)
    assert "negative_slope=0.2" in repr(model.layers[0])


def test_cli_train_passes_negative_slope_to_the_model(tmp_path, capsys):
    from pyneuron import cli
    path = tmp_path / "m.npz"
    status = cli.main(["train", "--dataset", "xor", "--samples", "40", "--hidden", "3", "--activation",
                       "leaky_relu", "--negative-slope", "0.3", "--epochs", "1", "--backend", "numpy",
                       "--save", str(path)])
    assert status == 0
    assert pn.load(path).negative_slope == 0.3


@pytest.mark.parametrize("command", [["train"], ["explain", "--layers", "1,1,1", "--x", "1"]])
@pytest.mark.parametrize("value", ["-0.1", "nan", "inf", "steep"])
def test_cli_negative_slope_is_checked_by_flag(command, value, capsys):
    from pyneuron import cli
    with pytest.raises(SystemExit) as info:
        cli.main([*command, "--negative-slope", value])
    assert info.value.code == 2
    assert "--negative-slope" in capsys.readouterr().err


def test_cli_explain_uses_the_slope(capsys):
    from pyneuron import cli
    # 1 -> 1 -> 1, weights 1 and biases 0, leaky hidden layer: at x = -2 the hidden output is -2 · 0.5
    status = cli.main(["explain", "--layers", "1,1,1", "--activation", "leaky_relu", "--output", "sigmoid",
                       "--negative-slope", "0.5", "--weights", "[[[1.0]], [0.0], [[1.0]], [0.0]]",
                       "--x=-2", "--y", "1"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "leaky_relu(-2.0000) = -1.0000" in out               # 0.5 · -2
    assert "sigmoid(-1.0000) = 0.2689" in out                   # 1 / (1 + e) = 0.26894
