"""pyneuron.plot.boundary read back from the figure (issue 15 item 10: the mutation run of
pyneuron/plot/boundary.py): the grid the model is asked about (resolution × resolution points,
the data's box widened by ``margin``), the frame (size, limits, labels, title), which
probability lines are drawn (a level the plane only grazes, within 1e-6, is not), their widths,
styles and legend entries, the points' style, the legend's title, and the refusals.

Oracles: P(class 1) = σ(w·x₁) with w chosen by hand so the grid's extreme probabilities are
just inside or outside each level (σ and logit written out with ``math``)."""
from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import pyneuron as pn                                          # noqa: E402
from pyneuron.plot import plot_decision_boundary               # noqa: E402

X2 = np.array([[-1.0, 0.0], [1.0, 2.0]])                        # box x₁ ∈ [-1, 1], x₂ ∈ [0, 2]


def _sigmoid(w, b=0.0):
    """P(class 1) = σ(w·x₁ + b), independent of x₂."""
    model = pn.MLP([2, 1], output="sigmoid", seed=0)
    model.set_weights([np.array([[w, 0.0]]), np.array([b])])
    return model


def _logit(p):
    return math.log(p / (1 - p))


def _lines(ax):
    from matplotlib.contour import ContourSet
    return {float(c.levels[0]): c for c in ax.collections if isinstance(c, ContourSet) and not c.filled}


def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_the_grid_is_resolution_squared_over_the_box_widened_by_the_margin(monkeypatch):
    model = _sigmoid(1.0)
    asked = []
    predict = model.predict

    def recording(X, *a, **k):
        asked.append(np.asarray(X).copy())
        return predict(X, *a, **k)

    monkeypatch.setattr(model, "predict", recording)
    fig = plot_decision_boundary(model, X2, [0, 1])
    (grid,) = [g for g in asked if len(g) > 2]
    assert grid.shape == (200 * 200, 2)
    assert (grid[:, 0].min(), grid[:, 0].max(), grid[:, 1].min(), grid[:, 1].max()) == (-1.5, 1.5, -0.5, 2.5)
    assert len(np.unique(grid[:, 0])) == 200
    ax = fig.axes[0]
    assert ax.get_xlim() == (-1.5, 1.5) and ax.get_ylim() == (-0.5, 2.5)
    assert tuple(fig.get_size_inches()) == pytest.approx((6.8, 5.0))
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("Decision boundary", "x₁", "x₂")
    asked.clear()
    fig = plot_decision_boundary(model, X2, [0, 1], resolution=7, margin=1.0, title="T")
    (grid,) = [g for g in asked if len(g) > 2]
    assert grid.shape == (49, 2) and grid[:, 0].min() == -2.0 and grid[:, 1].max() == 3.0
    assert fig.axes[0].get_title() == "T"


def test_lines_their_styles_and_legend_entries():
    # on x₁ ∈ [-1.5, 1.5], σ(2 x₁ + 1.5) runs from σ(-1.5) = 0.18 to σ(4.5) = 0.99: crosses 0.5 and 0.9 only
    fig = plot_decision_boundary(_sigmoid(2.0, 1.5), X2, [0, 1], resolution=40)
    ax = fig.axes[0]
    lines = _lines(ax)
    assert sorted(lines) == [0.5, 0.9]
    assert lines[0.5].get_linewidths()[0] == 1.5 and lines[0.9].get_linewidths()[0] == 0.6
    assert lines[0.5].get_linestyles()[0] in ("solid", (0, None)) and lines[0.9].get_linestyles()[0] != \
        lines[0.5].get_linestyles()[0]
    assert _legend(ax) == ["0", "1", "P(1) = 0.5", "P(1) = 0.9"]
    handles = {h.get_label(): h for h in ax.get_legend_handles_labels()[0]}
    assert handles["P(1) = 0.5"].get_linewidth() == 1.5 and handles["P(1) = 0.5"].get_linestyle() == "-"
    assert handles["P(1) = 0.9"].get_linewidth() == 0.6 and handles["P(1) = 0.9"].get_linestyle() == "--"
    assert ax.get_legend().get_title().get_text() == "class"


def test_a_level_the_plane_only_grazes_has_no_line():
    # σ(w x₁) at the grid's ends x₁ = ±1.5 is 0.9 − 5e-7 and 0.1 + 5e-7: within 1e-6 of both dashed levels
    w = _logit(0.9 - 5e-7) / 1.5
    fig = plot_decision_boundary(_sigmoid(w), X2, [0, 1], resolution=31)
    assert sorted(_lines(fig.axes[0])) == [0.5]
    assert _legend(fig.axes[0]) == ["0", "1", "P(1) = 0.5"]
    # a little steeper (ends 0.9 + 2e-6, 0.1 − 2e-6): both dashed lines are drawn
    fig = plot_decision_boundary(_sigmoid(_logit(0.9 + 2e-6) / 1.5), X2, [0, 1], resolution=31)
    assert sorted(_lines(fig.axes[0])) == [0.1, 0.5, 0.9]
    assert _legend(fig.axes[0])[-1] == "P(1) = 0.1 and 0.9"


def test_the_points_style():
    from matplotlib.collections import PathCollection
    fig = plot_decision_boundary(_sigmoid(1.0), X2, [0, 1], resolution=10)
    points = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert [p.get_label() for p in points] == ["0", "1"]
    for p, row in zip(points, X2):
        assert p.get_sizes().tolist() == [18] and p.get_linewidths().tolist() == [0.5]
        assert p.get_zorder() == 3 and tuple(p.get_edgecolor()[0]) == (0.0, 0.0, 0.0, 1.0)
        assert np.asarray(p.get_offsets()).tolist() == [row.tolist()]


@pytest.mark.parametrize("X, message", [
    (np.zeros(4), r"^X: expected shape \(n, 2\) — a decision boundary needs 2 inputs, got \(4,\)$"),
    (np.zeros((3, 3)), r"^X: expected shape \(n, 2\) — a decision boundary needs 2 inputs, got \(3, 3\)$"),
    (np.zeros((0, 2)), r"^X: expected at least one sample, got none$")])
def test_bad_X(X, message):
    with pytest.raises(ValueError, match=message):
        plot_decision_boundary(_sigmoid(1.0), X, np.zeros(len(X)))


def test_a_model_without_two_inputs():
    with pytest.raises(ValueError, match=r"^model: expected a network with 2 inputs, got 3$"):
        plot_decision_boundary(pn.MLP([3, 1], seed=0), X2, [0, 1])


def test_the_filled_bands_are_centred_on_the_class_codes():
    # band k is [k − ½, k + ½): levels −½, ½, 3/2 for two classes, and the region colours seen
    # through REGION_ALPHA
    from matplotlib.contour import ContourSet
    from pyneuron.plot._figure import REGION_ALPHA
    fig = plot_decision_boundary(_sigmoid(2.0), X2, [0, 1], resolution=12)
    (filled,) = [c for c in fig.axes[0].collections if isinstance(c, ContourSet) and c.filled]
    assert list(filled.levels) == [-0.5, 0.5, 1.5]
    assert filled.get_alpha() == REGION_ALPHA


def test_one_label_per_row_of_x_is_checked_with_more_rows_than_columns():
    X3 = np.array([[-1.0, 0.0], [1.0, 2.0], [0.5, 1.0]])        # 3 rows, 2 columns
    fig = plot_decision_boundary(_sigmoid(1.0), X3, [0, 1, 1], resolution=5)
    assert _legend(fig.axes[0])[:2] == ["0", "1"]
    with pytest.raises(ValueError, match=r"^y: expected 3 labels \(one per row of X\), got 2$"):
        plot_decision_boundary(_sigmoid(1.0), X3, [0, 1], resolution=5)


def test_the_legend_sits_outside_the_axes_flush_with_its_top_right_corner():
    fig = plot_decision_boundary(_sigmoid(1.0), X2, [0, 1], resolution=5)
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert legend.borderaxespad == 0
    assert legend._loc == 2                                   # matplotlib's code for "upper left"
    anchor = legend.get_bbox_to_anchor().transformed(ax.transAxes.inverted())
    assert (anchor.x0, anchor.y0) == pytest.approx((1.02, 1.0))


@pytest.mark.parametrize("low, high, drawn", [
    (0.5 - 1e-6, 0.95, [0.9]),          # the lowest P is exactly 1e-6 below ½: ½ counts as grazed
    (0.05, 0.5 + 1e-6, [0.1])])         # the highest P is exactly 1e-6 above ½: likewise
def test_a_level_exactly_1e_6_inside_the_range_is_still_grazed(monkeypatch, low, high, drawn):
    model = _sigmoid(1.0)

    def proba(grid):                    # P = (low + high) / 2 but at the grid's first and last points
        p = np.full(len(grid), (low + high) / 2)
        p[0], p[-1] = low, high
        return p

    monkeypatch.setattr(model, "predict_proba", proba)
    fig = plot_decision_boundary(model, X2, [0, 1], resolution=9)
    assert sorted(_lines(fig.axes[0])) == drawn
