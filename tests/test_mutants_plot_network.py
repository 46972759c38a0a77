"""pyneuron.plot.network read back from the artists (issue 15 item 10: the mutation run of
pyneuron/plot/network.py): the weight and gradient histograms per layer against NumPy's own
histogram of the values, and the diagram's geometry written out by hand — each weight's line
(ends, colour, width), the neurons, the "⋮" of a cut layer, the names, captions, limits, title."""
import numpy as np
import pytest

pytest.importorskip("matplotlib")
from matplotlib.colors import to_rgba                                  # noqa: E402

import pyneuron as pn                                                  # noqa: E402
from pyneuron.plot import plot_network, plot_weight_histograms        # noqa: E402
from pyneuron.plot._figure import NEGATIVE, POSITIVE                   # noqa: E402

W1 = np.array([[0.5, -1.0], [0.0, 2.0], [-0.25, 1.0]])
W2 = np.array([[1.0, -0.5, 0.0]])


def _model():
    model = pn.MLP([2, 3, 1], activation="tanh", seed=0)
    model.set_weights([W1, np.array([0.1, -0.2, 0.3]), W2, np.array([0.05])])
    return model


def _heights(ax):
    return [p.get_height() for p in ax.patches]


def test_weight_histograms_without_data():
    fig = plot_weight_histograms(_model(), bins=5)
    assert tuple(fig.get_size_inches()) == pytest.approx((6.0, 2.8)) and len(fig.axes) == 2
    for ax, W, title in zip(fig.axes, (W1, W2), ("layer 1 weights (3×2)", "layer 2 weights (1×3)")):
        assert _heights(ax) == list(np.histogram(W.ravel(), bins=5)[0])
        assert ax.get_title() == title and ax.get_xlabel() == "W"
        assert ax.patches[0].get_facecolor() == to_rgba(POSITIVE)
    assert len(plot_weight_histograms(_model()).axes[0].patches) == 30          # the default bins


def test_gradient_histograms_are_each_layers_dW():
    model = _model()
    X = np.array([[0.5, -1.0], [1.0, 2.0], [-0.3, 0.7]])
    y = np.array([0, 1, 1])
    grads = model.gradients(X, y)                      # [dW1, db1, dW2, db2]
    fig = plot_weight_histograms(model, X, y, bins=4)
    assert tuple(fig.get_size_inches()) == pytest.approx((6.0, 5.6)) and len(fig.axes) == 4
    _, _, g1, g2 = fig.axes                            # row-major: weights, then gradients
    for ax, dW, number in ((g1, grads[0], 1), (g2, grads[2], 2)):
        assert _heights(ax) == list(np.histogram(dW.ravel(), bins=4)[0])
        assert ax.get_title() == f"layer {number} gradients" and ax.get_xlabel() == "dW"
        assert ax.patches[0].get_facecolor() == to_rgba(NEGATIVE)
    assert grads[0].shape == (3, 2) and grads[2].shape == (1, 3)
    nobias = pn.MLP([2, 3, 1], bias=[False, True], seed=0)
    fig = plot_weight_histograms(nobias, X, y, bins=4)
    assert _heights(fig.axes[3]) == list(np.histogram(nobias.gradients(X, y)[1].ravel(), bins=4)[0])


def test_histograms_with_data_need_targets():
    with pytest.raises(ValueError, match=r"^y: the gradient histograms need targets y together with X$"):
        plot_weight_histograms(_model(), np.zeros((2, 2)))


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")   # two epochs are enough here
def test_a_wrappers_string_labels_are_encoded_for_the_gradients():
    from pyneuron.sklearn import MLPClassifier
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array(["no", "yes", "yes", "no"])
    clf = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X, y)
    fig = plot_weight_histograms(clf, X, y, bins=3)
    expected = clf.model_.gradients(X, np.array([0, 1, 1, 0]))[0]
    assert _heights(fig.axes[2]) == list(np.histogram(expected.ravel(), bins=3)[0])


def _weight_lines(ax):
    return [line for line in ax.get_lines()]


def test_diagram_geometry():
    fig = plot_network(_model())
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == pytest.approx((5.05, 3.0))
    lines = _weight_lines(ax)
    assert len(lines) == 6 + 3
    # layer 0 -> 1: neuron j of 2 at y = 0.5 - j, neuron i of 3 at y = 1 - i; biggest |w| = 2
    expected = [((0, 1), (0.5 - j, 1.0 - i), W1[i, j]) for i in range(3) for j in range(2)]
    expected += [((1, 2), (1.0 - j, 0.0), W2[0, j]) for j in range(3)]
    for line, (xs, ys, w) in zip(lines, expected):
        assert tuple(line.get_xdata()) == xs and tuple(line.get_ydata()) == ys
        assert line.get_color() == (POSITIVE if w >= 0 else NEGATIVE), w
        assert line.get_linewidth() == pytest.approx(0.3 + 3.5 * abs(w) / 2.0)
        assert line.get_alpha() == 0.8 and line.get_zorder() == 1
    dots = ax.collections
    assert [len(d.get_offsets()) for d in dots] == [2, 3, 1]
    np.testing.assert_array_equal(dots[1].get_offsets(), [[1.0, 1.0], [1.0, 0.0], [1.0, -1.0]])
    assert [tuple(d.get_facecolor()[0]) for d in dots] == [to_rgba("#dddddd"), to_rgba("white"), to_rgba("white")]
    for d in dots:
        assert list(d.get_sizes()) == [180] and tuple(d.get_edgecolor()[0]) == to_rgba("black")
        assert list(d.get_linewidths()) == [1.0] and d.get_zorder() == 2
    assert len(ax.texts) == 0
    assert [t.get_text() for t in ax.get_xticklabels()] == ["input\n2", "hidden 1\n3", "output\n1"]
    assert list(ax.get_xticks()) == [0, 1, 2] and list(ax.get_yticks()) == []
    assert all(t.get_fontsize() == 9 for t in ax.get_xticklabels())
    assert ax.xaxis.get_major_ticks()[0].tick1line.get_markersize() == 0
    assert not any(spine.get_visible() for spine in ax.spines.values())
    assert ax.get_xlim() == pytest.approx((-0.45, 2.45)) and ax.get_ylim() == pytest.approx((-1.6, 1.6))
    assert ax.get_title() == "2-3-1  (blue +, red −, width |w|)"


def test_all_zero_weights_are_thin_and_blue():
    model = pn.MLP([2, 2, 1], seed=0, bias=False)
    model.set_weights([np.zeros((2, 2)), np.zeros((1, 2))])
    ax = plot_network(model, title="zeros").axes[0]
    assert all(line.get_linewidth() == pytest.approx(0.3) and line.get_color() == POSITIVE for line in ax.get_lines())
    assert ax.get_title() == "zeros"


def test_a_layer_wider_than_max_neurons_is_cut_with_a_caption():
    model = pn.MLP([2, 6, 1], seed=0)
    fig = plot_network(model, max_neurons=4)
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == pytest.approx((5.05, 3.28))
    assert len(ax.get_lines()) == 2 * 4 + 4 * 1
    (dots_text,) = ax.texts
    assert dots_text.get_text() == "⋮" and dots_text.get_position() == pytest.approx((1.0, -1.5 - 0.75))
    assert dots_text.get_fontsize() == 12
    assert [t.get_text() for t in ax.get_xticklabels()][1] == "hidden 1\n6\n(+2 more)"
    assert ax.get_ylim() == pytest.approx((-1.5 - 1.1, 1.5 + 0.6))
    tall = plot_network(pn.MLP([2, 20, 1], seed=0))
    assert tuple(tall.get_size_inches()) == pytest.approx((5.05, 0.42 * 16 + 1.6))


def test_names_sit_beside_their_neurons():
    fig = plot_network(_model(), input_names=["x1", 2], output_names=["out"])
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == pytest.approx((7.45, 3.0))
    texts = {t.get_text(): t for t in ax.texts}
    assert set(texts) == {"x1", "2", "out"}
    assert texts["x1"].get_position() == pytest.approx((-0.14, 0.5)) and texts["x1"].get_ha() == "right"
    assert texts["2"].get_position() == pytest.approx((-0.14, -0.5))
    assert texts["out"].get_position() == pytest.approx((2.14, 0.0)) and texts["out"].get_ha() == "left"
    assert texts["out"].get_fontsize() == 8
    assert ax.get_xlim() == pytest.approx((-1.45, 3.45))
    only_in = plot_network(_model(), input_names=["a", "b"]).axes[0]
    assert only_in.get_xlim() == pytest.approx((-1.45, 2.45))


@pytest.mark.parametrize("kw, message", [
    ({"input_names": ["a"]}, r"^input_names: expected 2 names \(one per neuron\), got 1$"),
    ({"output_names": ["a", "b"]}, r"^output_names: expected 1 names \(one per neuron\), got 2$"),
])
def test_a_wrong_number_of_names_is_refused(kw, message):
    with pytest.raises(ValueError, match=message):
        plot_network(_model(), **kw)


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")   # two epochs are enough here
def test_a_wrappers_classes_and_features_name_the_ends():
    pd = pytest.importorskip("pandas")
    from pyneuron.sklearn import MLPClassifier
    X = pd.DataFrame({"age": [0.0, 1.0, 0.0, 1.0], "size": [0.0, 1.0, 1.0, 0.0]})
    binary = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X, ["no", "yes", "yes", "no"])
    texts = {t.get_text() for t in plot_network(binary).axes[0].texts}
    assert texts == {"age", "size", "P(yes)"}
    three = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X.to_numpy(), [0, 1, 2, 1])
    assert {t.get_text() for t in plot_network(three).axes[0].texts} == {"0", "1", "2"}
    assert len(plot_network(_model()).axes[0].texts) == 0


def _stand_in(classes, n_outputs):
    """A fitted wrapper as plot_network sees it: a ``model_`` and a ``classes_``."""
    from types import SimpleNamespace
    return SimpleNamespace(model_=pn.MLP([2, 3, n_outputs], seed=0), classes_=classes)


@pytest.mark.parametrize("classes, n_outputs, expected", [
    (np.array(["a", "b", "c"]), 3, {"a", "b", "c"}),        # one name per softmax output
    (np.array(["a", "b"]), 1, {"P(b)"}),                    # one sigmoid: P(second class)
    (np.array(["a", "b"]), 3, set()),                       # two labels, three outputs: no names
    (np.array(["a", "b", "c"]), 1, set()),                  # one output, three labels: no names
    (np.array([["a", "b"], ["c", "d"]]), 2, set()),         # not a 1-D list of labels: no names
    (None, 2, set()),                                       # no classes_ at all
])
def test_output_names_come_from_classes_only_when_they_fit(classes, n_outputs, expected):
    ax = plot_network(_stand_in(classes, n_outputs)).axes[0]
    assert {t.get_text() for t in ax.texts} == expected


def test_gradient_histograms_take_y_as_given_unless_classes_is_a_list_of_labels():
    X = np.array([[0.5, -1.0], [1.0, 2.0], [-0.3, 0.7]])
    y = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])               # one target column per output
    stand_in = _stand_in(np.array([["a", "b"], ["c", "d"]]), 2)     # not a 1-D list of labels
    fig = plot_weight_histograms(stand_in, X, y, bins=4)
    expected = stand_in.model_.gradients(X, y)[0]
    assert _heights(fig.axes[2]) == list(np.histogram(expected.ravel(), bins=4)[0])
