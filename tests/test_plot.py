"""Every plot renders headless to a PNG that depends on its data; a missing
matplotlib gives the install hint."""
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import pyneuron as pn
from pyneuron import plot
from pyneuron.training import History


def png_pixels(path):
    from matplotlib.image import imread
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
    pixels = imread(str(path))
    assert pixels.var() > 0, "blank canvas"
    return data, pixels


def render_twice(tmp_path, draw_a, draw_b):
    """Draw two figures from different data; both real PNGs, and different."""
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    fig = draw_a(a)
    assert fig.__class__.__name__ == "Figure"
    draw_b(b)
    (bytes_a, pix_a), (bytes_b, pix_b) = png_pixels(a), png_pixels(b)
    assert bytes_a != bytes_b
    assert pix_a.shape != pix_b.shape or not np.array_equal(pix_a, pix_b)


def small_model(seed, sizes=(2, 6, 1), output="sigmoid"):
    return pn.MLP(list(sizes), activation="tanh", output=output, seed=seed)


def fake_history(n, best=None):
    h = History()
    for e in range(1, n + 1):
        h.append(e, {"loss": 1 / e, "val_loss": 1.2 / e + 0.01 * e, "accuracy": 1 - 1 / (e + 1),
                     "val_accuracy": 1 - 1.3 / (e + 1), "lr": 0.1})
    h.best_epoch = best
    return h


def test_history(tmp_path):
    render_twice(tmp_path, lambda p: plot.plot_history(fake_history(20, best=8), path=p),
                 lambda p: plot.plot_history(fake_history(50), path=p))


def test_history_from_fit_and_dict(tmp_path):
    X, y = pn.datasets.make_moons(80, seed=0)
    model = small_model(0)
    history = model.fit(X, y, epochs=5, validation_split=0.25, lr=0.1)
    plot.plot_history(history, path=tmp_path / "fit.png")
    png_pixels(tmp_path / "fit.png")
    plot.plot_history({"loss": [3, 2, 1]}, path=tmp_path / "d.png")
    png_pixels(tmp_path / "d.png")
    with pytest.raises(ValueError, match="loss"):
        plot.plot_history({"accuracy": [0.5]})
    with pytest.raises(TypeError, match="history"):
        plot.plot_history([1, 2, 3])


def test_curves(tmp_path):
    render_twice(tmp_path, lambda p: plot.plot_curves({"a": [3, 2, 1]}, path=p, log=True),
                 lambda p: plot.plot_curves({"a": [1, 2, 3], "b": [2, 2, 2]}, path=p))


def test_decision_boundary_binary_and_multiclass(tmp_path):
    X, y = pn.datasets.make_moons(100, noise=0.1, seed=1)
    render_twice(tmp_path, lambda p: plot.plot_decision_boundary(small_model(1), X, y, path=p, resolution=60),
                 lambda p: plot.plot_decision_boundary(small_model(2), X, y, path=p, resolution=60))
    X3, y3 = pn.datasets.make_spiral(90, seed=0)
    model = small_model(0, (2, 8, 3), "softmax")
    plot.plot_decision_boundary(model, X3, y3, path=tmp_path / "s.png", resolution=50)
    png_pixels(tmp_path / "s.png")
    with pytest.raises(ValueError, match="2 inputs"):
        plot.plot_decision_boundary(small_model(0, (3, 4, 1)), np.zeros((4, 3)), np.zeros(4))


def test_activations(tmp_path):
    render_twice(tmp_path, lambda p: plot.plot_activations(path=p),
                 lambda p: plot.plot_activations(["sigmoid"], path=p))
    with pytest.raises(ValueError):
        plot.plot_activations(["nope"])


def test_weight_histograms(tmp_path):
    X, y = pn.datasets.make_moons(40, seed=0)
    render_twice(tmp_path, lambda p: plot.plot_weight_histograms(small_model(3), X, y, path=p),
                 lambda p: plot.plot_weight_histograms(small_model(4, (2, 5, 5, 1)), path=p))
    with pytest.raises(ValueError, match="y"):
        plot.plot_weight_histograms(small_model(3), X)


def test_network_diagram(tmp_path):
    render_twice(tmp_path, lambda p: plot.plot_network(small_model(5), path=p),
                 lambda p: plot.plot_network(small_model(6), path=p))
    # weights alone change the picture: flip one sign
    model = small_model(5)
    W = model.get_weights()
    W[0][0, 0] = -W[0][0, 0]
    model.set_weights(W)
    plot.plot_network(model, path=tmp_path / "flipped.png")
    assert (tmp_path / "flipped.png").read_bytes() != (tmp_path / "a.png").read_bytes()
    plot.plot_network(pn.MLP([64, 32, 10], output="softmax", seed=0), path=tmp_path / "big.png")
    png_pixels(tmp_path / "big.png")


def test_speed_chart(tmp_path):
    ladder = [{"name": "naive", "size": 128, "seconds": 0.5}, {"name": "blocked", "size": 128, "seconds": 0.05},
              {"name": "naive", "size": 256, "seconds": 4.0}, {"name": "blocked", "size": 256, "seconds": 0.3}]
    render_twice(tmp_path, lambda p: plot.plot_speed(ladder, group="size", path=p),
                 lambda p: plot.plot_speed({"scalar": 2.0, "numpy": 0.01, "c": 0.004}, path=p))
    with pytest.raises(ValueError, match="seconds"):
        plot.plot_speed([{"name": "x"}])
    # the shape bench_report.ladder_section returns: {(dtype, n, rung): fraction of numpy}
    ladder = {("float64", 64, "naive"): 0.05, ("float64", 64, "blocked"): 0.4,
              ("float64", 128, "naive"): 0.03, ("float32", 64, "naive"): 0.02}
    rows = plot.ladder_rows(ladder)
    assert len(rows) == 3
    plot.plot_speed(rows, value="of numpy", group="n", path=tmp_path / "ladder.png")
    png_pixels(tmp_path / "ladder.png")
    with pytest.raises(TypeError):
        plot.plot_speed(3)


def test_missing_matplotlib_gives_install_hint(monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    import importlib
    import pyneuron.plot as fresh
    importlib.reload(fresh)                 # importing the module itself needs no matplotlib
    with pytest.raises(ImportError, match="pip install matplotlib"):
        fresh.plot_activations()
    with pytest.raises(ImportError, match="pip install matplotlib"):
        fresh.plot_network(small_model(0))


def test_figures_display_in_a_notebook_without_magic(tmp_path):
    """A figure as a cell's last value is drawn: IPython asks ``_repr_png_`` (these
    figures are built without pyplot, so no inline backend would show them), and
    the PNG it gets is the same picture ``path=`` saves."""
    fig = plot.plot_history(fake_history(12, best=5), path=tmp_path / "saved.png")
    shown = fig._repr_png_()
    assert shown[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "shown.png").write_bytes(shown)
    _, saved_pixels = png_pixels(tmp_path / "saved.png")
    _, shown_pixels = png_pixels(tmp_path / "shown.png")
    assert np.array_equal(saved_pixels, shown_pixels)
    import pickle
    assert type(pickle.loads(pickle.dumps(fig))) is type(fig)
    from matplotlib.figure import Figure
    assert isinstance(fig, Figure) and pn.plot is plot
