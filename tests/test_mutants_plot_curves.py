"""pyneuron.plot.curves read back from the artists (issue 15 item 10: the mutation run of
pyneuron/plot/curves.py): which panels and lines plot_history draws for each kind of entry,
the epochs on x, the best-epoch line, the figure sizes, plot_curves' defaults and refusals,
and plot_activations' curves against the formulas written out in NumPy."""
import numpy as np
import pytest

pytest.importorskip("matplotlib")

from pyneuron.plot import plot_activations, plot_curves, plot_history   # noqa: E402


def _lines(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def _grid_alpha(ax):
    return {line.get_alpha() for line in ax.xaxis.get_gridlines() + ax.yaxis.get_gridlines()}


class _History:                                    # what pyneuron's History offers plot_history
    def __init__(self, history, epoch, best_epoch=None):
        self.history, self.epoch, self.best_epoch = history, epoch, best_epoch


def test_history_dict_with_metrics_validation_and_best_epoch():
    fig = plot_history({"loss": [3.0, 2.0, 1.0], "val_loss": [3.5, 2.5], "lr": [0.1, 0.1, 0.1],
                        "accuracy": [0.5, 0.6, 0.7], "val_accuracy": [0.4, 0.5, 0.55], "best_epoch": 2},
                       title="T")
    assert tuple(fig.get_size_inches()) == (10.0, 4.0) and fig.dpi == 100
    assert fig._suptitle.get_text() == "T"
    loss_ax, metric_ax = fig.axes
    assert (loss_ax.get_ylabel(), metric_ax.get_ylabel()) == ("loss", "accuracy")
    assert loss_ax.get_xlabel() == metric_ax.get_xlabel() == "epoch"
    lines = _lines(loss_ax)
    assert set(lines) == {"training loss", "validation loss", "best epoch (2)"}
    assert list(lines["training loss"].get_xdata()) == [1, 2, 3]
    assert list(lines["training loss"].get_ydata()) == [3.0, 2.0, 1.0]
    assert list(lines["validation loss"].get_xdata()) == [1, 2]
    assert list(lines["best epoch (2)"].get_xdata()) == [2, 2]
    assert set(_lines(metric_ax)) == {"training accuracy", "validation accuracy", "best epoch (2)"}
    assert _grid_alpha(loss_ax) == {0.3} and _grid_alpha(metric_ax) == {0.3}


def test_history_with_loss_only_and_no_best_epoch():
    fig = plot_history({"loss": [2.0, 1.0], "lr": [0.1, 0.05]})
    assert tuple(fig.get_size_inches()) == (6.0, 4.0) and len(fig.axes) == 1
    assert fig._suptitle.get_text() == "Training history"
    assert set(_lines(fig.axes[0])) == {"training loss"}


def test_history_object_uses_its_own_epochs():
    fig = plot_history(_History({"loss": [2.0, 1.0, 0.5]}, epoch=[5, 6, 7], best_epoch=6))
    lines = _lines(fig.axes[0])
    assert list(lines["training loss"].get_xdata()) == [5, 6, 7]
    assert list(lines["best epoch (6)"].get_xdata()) == [6, 6]


@pytest.mark.parametrize("history", [{"loss": []}, {"accuracy": [0.5]}, {}])
def test_history_without_loss_is_refused(history):
    with pytest.raises(ValueError, match=r"^history: expected a 'loss' entry with at least one epoch$"):
        plot_history(history)


def test_history_of_another_type_is_refused():
    with pytest.raises(TypeError, match=r"^history: expected a pyneuron History or a dict of lists, got list$"):
        plot_history([1.0, 2.0])


def test_curves_defaults_and_data(tmp_path):
    path = tmp_path / "c.png"
    fig = plot_curves({"a": [3.0, 2.0, 1.0], 0.5: [1.0, 0.5]}, path=path)
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert tuple(fig.get_size_inches()) == (7.0, 4.0)
    ax = fig.axes[0]
    assert ax.get_yscale() == "linear" and (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("epoch", "loss", "")
    lines = _lines(ax)
    assert list(lines["a"].get_xdata()) == [1, 2, 3] and list(lines["0.5"].get_xdata()) == [1, 2]
    assert _grid_alpha(ax) == {0.3}
    assert plot_curves({"a": [1.0, 0.1]}, log=True).axes[0].get_yscale() == "log"


@pytest.mark.parametrize("curves", [{}, [("a", [1.0])]])
def test_curves_must_be_a_non_empty_dict(curves):
    with pytest.raises(ValueError, match=r"^curves: expected a non-empty dict \{label: values\}$"):
        plot_curves(curves)


def test_activations_defaults_against_the_formulas():
    fig = plot_activations()
    assert tuple(fig.get_size_inches()) == pytest.approx((12.8, 3.2))
    z = np.linspace(-5.0, 5.0, 401)
    s = 1.0 / (1.0 + np.exp(-z))
    expected = {"sigmoid": (s, s * (1 - s)), "tanh": (np.tanh(z), 1 - np.tanh(z) ** 2),
                "relu": (np.maximum(z, 0), (z > 0).astype(float)),
                "leaky_relu (slope 0.1)": (np.where(z > 0, z, 0.1 * z), np.where(z > 0, 1.0, 0.1))}
    assert [ax.get_title() for ax in fig.axes] == list(expected)
    for ax in fig.axes:
        f, df, h, v = ax.get_lines()
        np.testing.assert_array_equal(f.get_xdata(), z)
        np.testing.assert_allclose(f.get_ydata(), expected[ax.get_title()][0], rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(df.get_ydata(), expected[ax.get_title()][1], rtol=1e-14, atol=1e-15)
        assert (f.get_label(), df.get_label(), df.get_linestyle()) == ("f(z)", "f′(z)", "--")
        assert list(h.get_ydata()) == [0, 0] and list(v.get_xdata()) == [0, 0]
        assert h.get_linewidth() == v.get_linewidth() == 0.5
        assert ax.get_xlabel() == "z" and _grid_alpha(ax) == {0.3}


def test_activations_one_name_a_range_and_a_slope():
    fig = plot_activations("leaky_relu", z_range=(-2.0, 1.0), negative_slope=0.25)
    assert tuple(fig.get_size_inches()) == pytest.approx((3.2, 3.2))
    f = fig.axes[0].get_lines()[0]
    assert f.get_xdata()[0] == -2.0 and f.get_xdata()[-1] == 1.0 and len(f.get_xdata()) == 401
    assert f.get_ydata()[0] == -0.5 and fig.axes[0].get_title() == "leaky_relu (slope 0.25)"
    assert plot_activations(["tanh"]).axes[0].get_title() == "tanh"


def test_activations_need_a_name():
    with pytest.raises(ValueError, match=r"^names: expected at least one activation name$"):
        plot_activations([])
