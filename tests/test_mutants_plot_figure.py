"""pyneuron.plot._figure, what every picture shares (issue 15 item 10: the mutation run of
pyneuron/plot/_figure.py): the install hint, the Figure class and its PNG display, dpi and
saving, the class colours at each colormap's edge, the plain tick labels at their bounds, and
the log axis' tick choice on each side of three decades."""
import math
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from matplotlib import colormaps                  # noqa: E402

import pyneuron as pn                             # noqa: E402
from pyneuron.plot import _figure                 # noqa: E402
from pyneuron.plot._figure import (INSTALL_HINT, class_colours, figure_class, finish, new_figure,  # noqa: E402
                                   plain_number, readable_log_axis, require_matplotlib)

PNG = b"\x89PNG\r\n\x1a\n"


def test_without_matplotlib_the_hint_is_raised(monkeypatch):
    require_matplotlib()                                          # installed: silent
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError) as info:
        require_matplotlib()
    assert str(info.value) == INSTALL_HINT and "pip install matplotlib" in INSTALL_HINT
    with pytest.raises(ImportError):
        figure_class()


def test_figure_class_is_made_once_and_displays_as_png(tmp_path):
    cls = figure_class()
    assert figure_class() is cls and cls.__module__ == _figure.__name__ and _figure.Figure is cls
    fig = new_figure(2, 1.5)
    assert isinstance(fig, cls) and fig.dpi == 100 and tuple(fig.get_size_inches()) == (2.0, 1.5)
    assert fig.get_layout_engine().__class__.__name__ == "ConstrainedLayoutEngine"
    assert fig._repr_png_().startswith(PNG)
    path = tmp_path / "f.png"
    assert finish(fig, path) is fig and path.read_bytes().startswith(PNG)
    assert finish(fig, None) is fig


def test_decision_regions_are_lighter_than_the_points():
    model = pn.MLP([2, 3, 1], seed=0)
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    fig = pn.plot.plot_decision_boundary(model, X, np.array([0, 1, 1, 0]), resolution=20)
    filled = [c for c in fig.axes[0].collections if type(c).__name__ in ("QuadContourSet", "ContourSet")
              and c.filled]
    assert filled and all(c.get_alpha() == 0.35 for c in filled)


@pytest.mark.parametrize("n, cmap", [(1, "tab10"), (10, "tab10"), (11, "tab20"), (20, "tab20")])
def test_class_colours_of_the_qualitative_maps(n, cmap):
    assert class_colours(n) == [colormaps[cmap](i) for i in range(n)]


@pytest.mark.parametrize("n", [21, 30])
def test_class_colours_beyond_20_span_turbo_end_to_end(n):
    colours = class_colours(n)
    assert len(colours) == n == len(set(colours))
    assert colours[0] == colormaps["turbo"](0.0) and colours[-1] == colormaps["turbo"](1.0)
    assert colours[1] == colormaps["turbo"](1.0 / (n - 1))


@pytest.mark.parametrize("value, label", [
    (0, "0"), (0.0, "0"), (1e-4, "0.0001"), (9.9e-5, "1e-04"), (-1e-4, "-0.0001"), (0.5, "0.5"),
    (20, "20"), (999999, "999999"), (1e6, "1e+06"), (2.5e6, "2e+06"), (-3e7, "-3e+07")])
def test_plain_number(value, label):
    assert plain_number(value) == label


def _ticks(axis, low, high):
    values = axis.get_major_locator().tick_values(low, high)
    inside = [v for v in values if low * (1 - 1e-9) <= v <= high * (1 + 1e-9)]
    return [axis.get_major_formatter()(v, 0) for v in inside]


def _log_axis(low, high, suffix=""):
    fig = new_figure(3, 3)
    ax = fig.subplots()
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    readable_log_axis(ax.yaxis, suffix)
    return ax.yaxis


def test_up_to_three_decades_label_1_2_5():
    assert _ticks(_log_axis(0.01, 10), 0.01, 10) == ["0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1", "2",
                                                     "5", "10"]
    assert _ticks(_log_axis(0.001, 0.5), 0.001, 0.5) == ["0.001", "0.002", "0.005", "0.01", "0.02", "0.05",
                                                         "0.1", "0.2", "0.5"]
    assert _ticks(_log_axis(0.5, 2, " %"), 0.5, 2) == ["0.5 %", "1 %", "2 %"]


@pytest.mark.parametrize("low, high", [(0.01, 10 ** 1.5), (0.001, 1e5), (1e-4, 10)])
def test_beyond_three_decades_only_the_powers_of_ten(low, high):
    labels = _ticks(_log_axis(low, high), low, high)
    exponents = range(math.ceil(math.log10(low)), math.floor(math.log10(high)) + 1)
    powers = [plain_number(10.0 ** k) for k in exponents]
    assert len(labels) >= 2 and set(labels) <= set(powers)        # matplotlib may skip decades when many


@pytest.mark.parametrize("low, high", [(0.0, 10.0), (-1.0, 10.0)])
def test_a_range_touching_zero_is_read_as_unbounded(low, high):
    fig = new_figure(3, 3)
    ax = fig.subplots()
    ax.set_ylim(low, high)                               # a linear axis: its view may include 0
    readable_log_axis(ax.yaxis)
    assert _ticks(ax.yaxis, 0.01, 1000) == ["0.01", "0.1", "1", "10", "100", "1000"]
