"""Issue 11: plots that teach. Read from the figure's own artists and pixels:

* a decision region has its class's colour, the same colour as that class's points, and the
  legend names every class (numbers or strings, MLP or scikit-learn wrapper);
* no title overlaps a label, however wide or deep the network (bounding boxes after a draw);
* the speed chart reads in percent of NumPy with a 100 % line;
* log axes read as plain numbers.

Expected classes come from hand-set weights (argmax of W·x + b worked by hand) or from the
estimator's own ``predict``; expected percentages are worked by hand."""
import warnings

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import pyneuron as pn
from pyneuron import plot
from pyneuron.plot._figure import REGION_ALPHA


# ------------------------------------------------------------------ helpers reading a figure
def drawn(fig):
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())


def pixel(fig, ax, pixels, x, y):
    """The RGB (0..1) on screen at data point (x, y)."""
    px, py = ax.transData.transform((x, y))
    row = pixels.shape[0] - 1 - int(round(py))
    return pixels[row, int(round(px)), :3] / 255.0


def seen_through(colour):
    """A region's colour as drawn: the class colour at REGION_ALPHA over the white axes."""
    return REGION_ALPHA * np.asarray(colour[:3]) + (1 - REGION_ALPHA) * np.ones(3)


def class_points(ax):
    """{legend label: (RGB of the points, their (n, 2) offsets)} for the scatter layers."""
    from matplotlib.collections import PathCollection
    found = {}
    for layer in ax.collections:
        if isinstance(layer, PathCollection) and not layer.get_label().startswith("_"):
            colours = layer.get_facecolor()
            found[layer.get_label()] = (colours[0][:3] if len(colours) else None, np.asarray(layer.get_offsets()))
    return found


def region_bands(ax):
    from matplotlib.contour import ContourSet
    (filled,) = [c for c in ax.collections if isinstance(c, ContourSet) and c.filled]
    return filled


def check_regions(fig, probes, expected_names, tolerance=2.5 / 255):
    """Each probe point's pixel is its class's region colour, which is the RGB of the
    points of the class with that legend name, seen through REGION_ALPHA."""
    ax = fig.axes[0]
    pixels = drawn(fig)
    points = class_points(ax)
    for (x, y), name in zip(probes, expected_names):
        want = seen_through(points[name][0])
        got = pixel(fig, ax, pixels, x, y)
        assert np.abs(got - want).max() <= tolerance, f"at ({x}, {y}) class {name}: pixel {got}, region colour {want}"


def legend_names(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def linear_softmax():
    """2 inputs -> 3 classes, z = W x (no hidden layer): class 0 where x₁ is large, class 1
    where -x₁ is, class 2 where x₂ is."""
    model = pn.MLP([2, 3], output="softmax", seed=0)
    model.set_weights([np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]]), np.zeros(3)])
    return model


CORNERS = np.array([[2.0, -1.0], [-2.0, -1.0], [0.0, 2.0]])    # classes 0, 1, 2 by hand
# away from the data and from the boundaries, by hand: z = (x₁, −x₁, x₂)
PROBES = [(1.0, -0.8), (1.6, 0.5), (-1.0, -0.8), (-1.7, 0.4), (0.2, 1.2), (-0.3, 2.2)]
PROBE_CLASSES = [0, 0, 1, 1, 2, 2]


# ------------------------------------------------------------------ decision regions
def test_multiclass_regions_have_their_class_colour_and_a_legend():
    y = np.array([0, 1, 2])
    fig = plot.plot_decision_boundary(linear_softmax(), CORNERS, y, resolution=120)
    ax = fig.axes[0]
    assert legend_names(ax) == ["0", "1", "2"]
    points = class_points(ax)
    colours = [points[str(k)][0] for k in range(3)]
    assert len({tuple(np.round(c, 6)) for c in colours}) == 3, "three classes, three colours"
    for k in range(3):                               # every point drawn in its true class's colour
        np.testing.assert_array_equal(points[str(k)][1], CORNERS[y == k])
    bands = region_bands(ax).get_facecolor()         # band k is class k: same RGB as its points
    np.testing.assert_allclose(bands[:, :3], np.array(colours), atol=1e-12)
    check_regions(fig, PROBES, [str(k) for k in PROBE_CLASSES])
    handles = ax.get_legend().legend_handles
    np.testing.assert_allclose([h.get_facecolor()[0][:3] for h in handles], colours, atol=1e-12)


def test_string_labels_and_class_names_on_an_mlp():
    names = np.array(["cat", "dog", "emu"])
    fig = plot.plot_decision_boundary(linear_softmax(), CORNERS, names, resolution=120)
    assert legend_names(fig.axes[0]) == ["cat", "dog", "emu"]      # sorted, as numpy.unique encodes
    check_regions(fig, PROBES, [names[k] for k in PROBE_CLASSES])
    fig = plot.plot_decision_boundary(linear_softmax(), CORNERS, [0, 1, 2], resolution=60,
                                      class_names=["east", "west", "north"])
    assert legend_names(fig.axes[0]) == ["east", "west", "north"]
    with pytest.raises(ValueError, match="class_names"):
        plot.plot_decision_boundary(linear_softmax(), CORNERS, [0, 1, 2], class_names=["a", "b"])
    with pytest.raises(ValueError, match="y: .*'zebra'"):
        plot.plot_decision_boundary(linear_softmax(), CORNERS, ["cat", "dog", "zebra"],
                                    class_names=["cat", "dog", "emu"])


def test_a_class_without_points_still_has_its_legend_entry():
    # only classes 0 and 2 among the points: the region of class 1 still needs explaining
    X = CORNERS[[0, 2]]
    fig = plot.plot_decision_boundary(linear_softmax(), np.vstack([X, [[-2.0, -1.0]]]), [0, 2, 2],
                                      resolution=60)
    assert legend_names(fig.axes[0]) == ["0", "1", "2"]


def test_binary_regions_boundary_line_and_legend():
    model = pn.MLP([2, 1], output="sigmoid", seed=0)
    model.set_weights([np.array([[4.0, 0.0]]), np.zeros(1)])     # P(class 1) = σ(4 x₁): boundary x₁ = 0
    X = np.array([[-2.0, -1.0], [2.0, 1.0], [-1.5, 1.0], [1.5, -1.0]])
    y = np.array([0, 1, 0, 1])
    fig = plot.plot_decision_boundary(model, X, y, resolution=121)
    ax = fig.axes[0]
    assert legend_names(ax) == ["0", "1", "P(1) = 0.5", "P(1) = 0.1 and 0.9"]
    check_regions(fig, [(-1.0, 0.0), (-2.2, 0.5), (1.0, 0.0), (2.2, -0.5)], ["0", "0", "1", "1"])
    from matplotlib.contour import ContourSet
    lines = [c for c in ax.collections if isinstance(c, ContourSet) and not c.filled]
    half = [c for c in lines if list(c.levels) == [0.5]]
    assert len(half) == 1
    xs = np.concatenate([p.vertices[:, 0] for p in half[0].get_paths()])
    assert np.abs(xs).max() < 0.05               # σ(4 x₁) = 0.5 exactly at x₁ = 0 (grid step 0.0375)
    # σ(4 x₁) = 0.9 at x₁ = ln 9 / 4 = 0.5493 (and 0.1 at −0.5493)
    tenths = [c for c in lines if list(c.levels) in ([0.1], [0.9])]
    ends = sorted(float(np.mean(np.concatenate([p.vertices[:, 0] for p in c.get_paths()]))) for c in tenths)
    assert ends == pytest.approx([-np.log(9) / 4, np.log(9) / 4], abs=0.02)


def test_a_flat_probability_draws_no_boundary_line():
    """An untrained or XOR-stuck neuron (all weights 0: P = 0.5 everywhere) has no boundary:
    a contour there would trace rounding noise, so no line and no line in the legend."""
    model = pn.MLP([2, 1], output="sigmoid", seed=0)
    model.set_weights([np.zeros((1, 2)), np.zeros(1)])
    fig = plot.plot_decision_boundary(model, np.array([[0.0, 0.0], [1.0, 1.0]]), [0, 1], resolution=30)
    from matplotlib.contour import ContourSet
    assert not [c for c in fig.axes[0].collections if isinstance(c, ContourSet) and not c.filled]
    assert legend_names(fig.axes[0]) == ["0", "1"]


def test_the_scikit_learn_wrapper_with_string_labels():
    pytest.importorskip("sklearn")
    from pyneuron.sklearn import MLPClassifier
    rng = np.random.default_rng(0)
    centres = {"wolf": (-3.0, 0.0), "bear": (3.0, 0.0), "lynx": (0.0, 3.0)}
    X = np.vstack([rng.normal(c, 0.4, size=(25, 2)) for c in centres.values()])
    y = np.repeat(list(centres), 25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")             # ConvergenceWarning at a small max_iter
        est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, learning_rate_init=0.05,
                            random_state=0).fit(X, y)
    fig = plot.plot_decision_boundary(est, X, y, resolution=100)
    ax = fig.axes[0]
    assert legend_names(ax) == list(est.classes_) == ["bear", "lynx", "wolf"]
    points = class_points(ax)
    for name in centres:
        np.testing.assert_array_equal(points[name][1], X[y == name])
    # probes away from the data and from the boundary, their class from the estimator itself
    grid = np.array([(a, b) for a in np.linspace(-3.5, 3.5, 15) for b in np.linspace(-1, 4, 11)])
    far = np.min(np.linalg.norm(grid[:, None, :] - X[None, :, :], axis=2), axis=1) > 0.35
    steady = np.all([est.predict(grid + d) == est.predict(grid) for d in
                     ((0.08, 0), (-0.08, 0), (0, 0.08), (0, -0.08))], axis=0)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    inside = (grid[:, 0] > x0 + 0.2) & (grid[:, 0] < x1 - 0.2) & (grid[:, 1] > y0 + 0.2) & (grid[:, 1] < y1 - 0.2)
    probes = grid[far & steady & inside]
    assert len(probes) >= 10
    check_regions(fig, [tuple(p) for p in probes], list(est.predict(probes)))
    with pytest.raises(ValueError, match="not fitted"):
        plot.plot_decision_boundary(MLPClassifier(), X, y)
    with pytest.raises(ValueError, match="y: .*'tiger'"):
        plot.plot_decision_boundary(est, X[:2], ["wolf", "tiger"])


def test_models_that_are_not_classifiers_are_refused_by_name():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="model: .*classifier.*'mse'"):
        plot.plot_decision_boundary(pn.MLP([2, 3, 1], output="linear"), X, [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="multilabel"):
        plot.plot_decision_boundary(pn.MLP([2, 3, 2], output="sigmoid"), X, np.zeros((3, 2)))
    with pytest.raises(TypeError, match="model: expected a pyneuron MLP"):
        plot.plot_decision_boundary(object(), X, [0, 1, 0])
    with pytest.raises(ValueError, match="y: expected 3 labels"):
        plot.plot_decision_boundary(linear_softmax(), X, [0, 1])


# ------------------------------------------------------------------ titles never overlap labels
def texts_of(fig):
    """Every visible, non-empty text of the figure, with its bounding box on screen."""
    from matplotlib.text import Text
    renderer = fig.canvas.get_renderer()
    found = []
    for artist in fig.findobj(Text):
        if artist.get_visible() and artist.get_text().strip() and artist.figure is fig:
            found.append((artist.get_text(), artist.get_window_extent(renderer)))
    return found


def overlapping(boxes):
    return [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a[1].overlaps(b[1])]


@pytest.mark.parametrize("sizes", [[2, 3, 1], [64, 32, 10], [784, 128, 10], [20] + [64] * 6 + [10],
                                   [3] * 12 + [2], [2, 200, 200, 1]])
def test_network_diagram_title_and_captions_never_overlap(sizes):
    model = pn.MLP(sizes, output="softmax" if sizes[-1] > 1 else "sigmoid", seed=0)
    fig = plot.plot_network(model)
    drawn(fig)
    ax = fig.axes[0]
    captions = [(t.get_text(), t.get_window_extent(fig.canvas.get_renderer())) for t in ax.get_xticklabels()]
    assert [c[0].split("\n")[1] for c in captions] == [str(n) for n in sizes]      # each layer's width
    title = (ax.title.get_text(), ax.title.get_window_extent(fig.canvas.get_renderer()))
    assert not overlapping([title] + captions)
    whole = fig.bbox
    for text, box in [title] + captions:                 # nothing cut off at the figure's edge
        assert whole.x0 - 1 <= box.x0 and box.x1 <= whole.x1 + 1 and whole.y0 - 1 <= box.y0, text
        assert box.y1 <= whole.y1 + 1, text


@pytest.mark.parametrize("draw", ["boundary", "history", "speed", "weights"])
def test_titles_do_not_overlap_any_other_text(draw):
    if draw == "boundary":
        fig = plot.plot_decision_boundary(linear_softmax(), CORNERS, ["a long class name", "b", "c"],
                                          resolution=40, title="A long title for a small boundary plot")
    elif draw == "history":
        fig = plot.plot_history({"loss": [3, 2, 1], "val_loss": [3, 2.5, 2], "accuracy": [0.3, 0.6, 0.9]})
    elif draw == "speed":
        fig = plot.plot_speed({f"rung number {i}": 0.1 * (i + 1) for i in range(8)}, percent_of="NumPy")
    else:
        fig = plot.plot_weight_histograms(pn.MLP([2] + [30] * 5 + [1], seed=0))
    drawn(fig)
    texts = texts_of(fig)
    titles = [t for t in texts if any(t[0] == ax.get_title() for ax in fig.axes) or
              (fig._suptitle is not None and t[0] == fig._suptitle.get_text())]
    assert titles
    others = [t for t in texts if t not in titles]
    clashes = [(a[0], b[0]) for a in titles for b in others + [t for t in titles if t is not a]
               if a[1].overlaps(b[1])]
    assert not clashes


def test_network_diagram_of_a_wrapper_names_its_classes_and_features():
    pytest.importorskip("sklearn")
    from pyneuron.sklearn import MLPClassifier
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]] * 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        three = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(
            X, np.array(["low", "mid", "high", "mid"] * 5))
        two = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(
            X, np.array(["no", "yes", "yes", "no"] * 5))
    shown = {t.get_text() for t in plot.plot_network(three).axes[0].texts}
    assert {"high", "low", "mid"} <= shown
    shown = {t.get_text() for t in plot.plot_network(two, input_names=["x₁", "x₂"]).axes[0].texts}
    assert {"P(yes)", "x₁", "x₂"} <= shown
    with pytest.raises(ValueError, match="input_names: expected 2 names"):
        plot.plot_network(two, input_names=["only one"])
    assert len(plot.plot_weight_histograms(three).axes) == 2          # the wrapper's two layers
    labels = np.array(["low", "mid", "high", "mid"] * 5)
    fig = plot.plot_weight_histograms(three, X, labels)
    codes = np.searchsorted(three.classes_, labels)                    # classes_ is sorted
    expected = three.model_.gradients(X, codes)[0]                     # layer 1's dW on the codes
    counts = [p.get_height() for p in fig.axes[2].patches]            # row 2, column 1: its histogram
    assert sum(counts) == expected.size
    assert fig.axes[2].patches[0].get_x() == pytest.approx(expected.min())


# ------------------------------------------------------------------ speed chart in percent of NumPy
def bar_heights(ax):
    return [round(p.get_height(), 9) for p in ax.patches]


def hundred_line(ax):
    return [line for line in ax.lines if list(line.get_ydata()) == [100.0, 100.0]]


def visible_tick_labels(ax):
    drawn(ax.figure)
    low, high = sorted(ax.get_ylim())
    return [t.get_text() for t in ax.get_yticklabels()
            if t.get_visible() and t.get_text() and low <= t.get_position()[1] <= high]


def test_ladder_fractions_read_in_percent_of_numpy_with_a_100_line():
    ladder = {("float64", 64, "naive"): 0.05, ("float64", 64, "simd"): 0.8,
              ("float64", 128, "naive"): 0.03, ("float64", 128, "simd"): 1.25, ("float32", 64, "naive"): 0.5}
    fig = plot.plot_speed(plot.ladder_rows(ladder), value="of numpy", group="n", percent_of="NumPy")
    ax = fig.axes[0]
    assert bar_heights(ax) == [5.0, 80.0, 3.0, 125.0]          # n 64: naive, simd; then n 128
    assert len(hundred_line(ax)) == 1
    assert "NumPy = 100 %" in legend_names(ax)
    assert "% of NumPy" in ax.get_ylabel()
    labels = visible_tick_labels(ax)
    assert "100 %" in labels and "10 %" in labels
    assert all(t.endswith(" %") and "$" not in t for t in labels), labels
    assert [t.get_text() for t in ax.texts] == ["5 %", "80 %", "3 %", "125 %"]      # each bar says its value


def test_timings_against_a_baseline_become_percent_of_its_speed():
    # by hand: speed relative to numpy = t_numpy / t: scalar 0.01 / 2 = 0.5 %, c 0.01 / 0.004 = 250 %
    fig = plot.plot_speed({"scalar": 2.0, "numpy": 0.01, "c": 0.004}, baseline="numpy")
    ax = fig.axes[0]
    assert bar_heights(ax) == [0.5, 250.0]
    assert [t.get_text() for t in ax.texts] == ["0.5 %", "250 %"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["scalar", "c"]
    assert len(hundred_line(ax)) == 1 and "numpy = 100 %" in legend_names(ax)
    low, high = ax.get_ylim()
    assert low < 0.5 and high > 250.0
    rows = [{"name": "numpy", "n": 64, "seconds": 1.0}, {"name": "c", "n": 64, "seconds": 0.5},
            {"name": "numpy", "n": 128, "seconds": 8.0}, {"name": "c", "n": 128, "seconds": 2.0}]
    fig = plot.plot_speed(rows, group="n", baseline="numpy", log=False)
    assert bar_heights(fig.axes[0]) == [200.0, 400.0]           # 1 / 0.5, 8 / 2, per size


@pytest.mark.parametrize("options, message", [
    (dict(baseline="torch"), "baseline: expected one of"),
    (dict(baseline="numpy", percent_of="NumPy"), "baseline and percent_of"),
])
def test_speed_chart_refusals_name_the_argument(options, message):
    with pytest.raises(ValueError, match=message):
        plot.plot_speed({"numpy": 1.0, "c": 0.5}, **options)
    with pytest.raises(ValueError, match="positive"):
        plot.plot_speed({"numpy": 1.0, "c": 0.0})


# ------------------------------------------------------------------ log axes read as numbers
@pytest.mark.parametrize("values, must_show", [
    (np.geomspace(1.0, 1e-3, 40), {"0.001", "0.01", "0.1", "1"}),
    (np.linspace(0.9, 0.3, 40), {"0.5"}),                 # less than one decade: still labelled
    (np.geomspace(20.0, 300.0, 40), {"50", "100", "200"}),
])
def test_log_axes_read_as_plain_numbers(values, must_show):
    ax = plot.plot_curves({"loss": values}, log=True).axes[0]
    labels = visible_tick_labels(ax)
    assert len(labels) >= 3, labels
    assert must_show <= set(labels), labels
    for text in labels:
        float(text)                                       # a plain number: no 10^k mathtext


def test_the_speed_charts_log_axis_reads_as_numbers_too():
    ax = plot.plot_speed({"scalar": 2.0, "numpy": 0.01, "c": 0.004}).axes[0]
    labels = visible_tick_labels(ax)
    assert {"0.01", "0.1", "1"} <= set(labels), labels


# ------------------------------------------------------------------ the slope's name in the picture
def test_plot_activations_draws_the_negative_slope_given():
    fig = plot.plot_activations(["leaky_relu"], negative_slope=0.25, z_range=(-4.0, 4.0))
    ax = fig.axes[0]
    f, df = ax.lines[0], ax.lines[1]
    assert f.get_ydata()[0] == pytest.approx(-1.0)       # 0.25 · −4
    assert df.get_ydata()[0] == pytest.approx(0.25)
    assert "0.25" in ax.get_title()
    with pytest.warns(DeprecationWarning, match="negative_slope"):
        old = plot.plot_activations(["leaky_relu"], alpha=0.25, z_range=(-4.0, 4.0))
    np.testing.assert_array_equal(old.axes[0].lines[0].get_ydata(), f.get_ydata())
    with pytest.raises(ValueError, match="negative_slope and alpha"):
        plot.plot_activations(negative_slope=0.1, alpha=0.1)
