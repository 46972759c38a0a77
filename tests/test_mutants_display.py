"""pyneuron.display beyond test_learner_display and test_learner_metrics_display: what the
mutation run (.ci/mutation.py pyneuron/display.py, issue 15 item 10) showed untested —
each table's exact rows and caption (layer numbers from 1, batch norm yes/no, dropout
shown or a dash, the backend or the global flag), a History's caption for 0, 1 and 2
epochs and a best epoch of 0, its image or the install note, the sections an
explanation's text is split into, and the metrics captions for every kind and for one
sample. Plain stand-in objects keep it fast (no matplotlib, no training)."""
from __future__ import annotations

import sys
import types

import pytest

import pyneuron as pn
from pyneuron import display


# ---------------------------------------------------------------------------- tables
def test_table_markup_and_caption():
    cell = display.CELL
    assert display._table(["a"], [(1,)]) == (
        f'<table style="{display.STYLE}"><thead><tr><th style="{cell}">a</th></tr></thead><tbody>'
        f'<tr><td style="{cell}">1</td></tr></tbody></table>')
    assert "<caption" not in display._table(["a"], [], caption="")
    assert '<caption style="text-align:left">x &amp; y</caption>' in display._table(["a"], [], caption="x & y")


def test_mlp_rows_number_layers_from_one():
    model = pn.MLP([3, 5, 4, 2], activation="tanh", output="softmax", batch_norm=True, dropout=[0.25, 0.0])
    assert display.mlp_rows(model) == [(1, "3 → 5", "tanh", "yes", "0.25", 5 * 3 + 2 * 5),
                                       (2, "5 → 4", "tanh", "yes", "—", 4 * 5 + 2 * 4),
                                       (3, "4 → 2", "softmax", "no", "—", 2 * 4 + 2)]


def test_mlp_rows_of_layers_without_dropout_or_batch_norm_attributes():
    class Layer:
        W = types.SimpleNamespace(shape=(2, 3))
        activation = "relu"

        def parameters(self):
            return [types.SimpleNamespace(size=6), types.SimpleNamespace(size=2)]

    plain = Layer()
    none = Layer()
    none.dropout, none.batch_norm = None, False
    model = types.SimpleNamespace(layers=[plain, none])
    assert display.mlp_rows(model) == [(1, "3 → 2", "relu", "no", "—", 8), (2, "3 → 2", "relu", "no", "—", 8)]


def test_mlp_caption_names_the_backend_or_the_global_flag():
    model = pn.MLP([2, 3, 1], backend="numpy")
    assert '<caption style="text-align:left">MLP 2-3-1: 13 parameters, loss bce, backend numpy</caption>' \
        in display.mlp_html(model)
    with pn.use_backend("scalar"):
        assert "MLP 2-1: 3 parameters, loss bce, backend scalar (the global flag)</caption>" \
            in display.mlp_html(pn.MLP([2, 1]))


# ---------------------------------------------------------------------------- History
def history(entries, best_epoch=None):
    n = max((len(v) for v in entries.values()), default=0)
    return types.SimpleNamespace(epoch=list(range(1, n + 1)), history=entries, best_epoch=best_epoch)


@pytest.fixture
def no_plot(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyneuron.plot", None)      # as without matplotlib


@pytest.fixture
def fake_plot(monkeypatch):
    titles = []

    def plot_history(h, title):
        titles.append(title)
        return types.SimpleNamespace(_repr_png_=lambda: b"PNG!")

    monkeypatch.setitem(sys.modules, "pyneuron.plot", types.SimpleNamespace(plot_history=plot_history))
    return titles


@pytest.mark.parametrize("n, text", [(1, "History: 1 epoch<"), (2, "History: 2 epochs<")])
def test_history_caption_counts_epochs(n, text, no_plot):
    markup = display.history_html(history({"loss": [3.0, 1.0, 2.0][:n]}))
    assert text in markup


def test_history_rows_are_the_last_and_lowest_values(no_plot):
    markup = display.history_html(history({"loss": [3.0, 1.0, 2.0], "accuracy": [0.5, 0.75, 0.7], "lr": []}))
    cells = markup.split("<tbody>")[1]
    assert ">loss<" in cells and ">2<" in cells and ">1<" in cells and ">accuracy<" in cells
    assert ">0.7<" in cells and ">0.5<" in cells and ">lr<" not in cells
    assert cells.index(">loss<") < cells.index(">2<") < cells.index(">1<") < cells.index(">accuracy<")


@pytest.mark.parametrize("best, text", [(0, "History: 3 epochs, best epoch 0<"), (2, ", best epoch 2<"),
                                        (None, "History: 3 epochs<")])
def test_history_caption_names_the_best_epoch(best, text, no_plot):
    assert text in display.history_html(history({"loss": [3.0, 1.0, 2.0]}, best_epoch=best))


def test_history_without_matplotlib_says_how_to_get_the_curves(no_plot):
    markup = display.history_html(history({"loss": [1.0]}))
    assert markup.startswith("<p><i>(install matplotlib to see the curves: pip install matplotlib)</i></p><table")


def test_history_image_comes_from_plot_history(fake_plot):
    markup = display.history_html(history({"loss": [1.0, 0.5]}))
    assert markup.startswith('<img alt="training history" src="data:image/png;base64,UE5HIQ=="/><table')
    assert fake_plot == ["Training history (2 epochs)"]


@pytest.mark.parametrize("entries", [{}, {"accuracy": [0.5]}, {"loss": []}])
def test_history_without_epochs_or_loss_has_no_image(entries, fake_plot):
    h = history(entries)
    markup = display.history_html(h)
    assert markup.startswith("<table") and fake_plot == []


# ---------------------------------------------------------------------------- Explanation
TEXT = "\n".join([
    "Hand calculation of one step",
    "  2 samples",
    "FORWARD PASS",
    "  z = w x + b",
    "LOSS (binary cross-entropy): 0.5",
    "  L = -log a",
    "  LOSS is not a heading when indented",
    "BACKWARD PASS",
    "UPDATES are not a section",
    "",
    "UPDATE: w := w - lr dw",
    "  w = 0.4",
])


def test_explanation_sections_split_at_the_headings():
    assert display.explanation_sections(TEXT) == [
        ("Hand calculation of one step", "  2 samples"),
        ("FORWARD PASS", "  z = w x + b"),
        ("LOSS (binary cross-entropy): 0.5", "  L = -log a\n  LOSS is not a heading when indented"),
        ("BACKWARD PASS", "UPDATES are not a section"),
        ("UPDATE: w := w - lr dw", "  w = 0.4"),
    ]
    assert display.explanation_sections("") == [("", "")]
    assert display.explanation_sections("title only") == [("title only", "")]


def explanation(text):
    return types.SimpleNamespace(backend="numpy", X=types.SimpleNamespace(shape=(2, 3)), loss_name="bce",
                                 loss=0.123456, lr=0.05, text=lambda: text)


def test_explanation_html_summary_then_one_block_per_section():
    markup = display.explanation_html(explanation(TEXT))
    assert ">samples</td><td" in markup and ">2</td>" in markup and ">bce = 0.1235</td>" in markup
    assert ">learning rate α</td>" in markup and ">0.05</td>" in markup
    after = markup.split("</table>", 1)[1]
    assert after.startswith("<p>  2 samples</p><details open><summary><b>FORWARD PASS</b></summary>"
                            "<pre>  z = w x + b</pre></details>")
    assert after.count("<details open>") == 4
    assert "<summary><b>LOSS (binary cross-entropy): 0.5</b></summary>" in after


def test_explanation_html_without_a_summary_body_or_title():
    markup = display.explanation_html(explanation("Hand calculation\nFORWARD PASS\n  a < b"))
    after = markup.split("</table>", 1)[1]
    assert after == "<details open><summary><b>FORWARD PASS</b></summary><pre>  a &lt; b</pre></details>"
    markup = display.explanation_html(explanation("\n  untitled\nUPDATE"))
    assert markup.split("</table>", 1)[1] == ("<p>  untitled</p><details open><summary><b>UPDATE</b></summary>"
                                              "<pre></pre></details>")


# ---------------------------------------------------------------------------- MetricsReport
class Report(dict):
    def __init__(self, values, **attributes):
        super().__init__(values)
        self.__dict__.update(attributes)


@pytest.mark.parametrize("kind, n, classes, caption", [
    ("binary", 1, 2, "Metrics on 1 sample: binary classifier; precision, recall and F1 of class 1 "
                     "(the positive class)"),
    ("multiclass", 5, 3, "Metrics on 5 samples: 3 classes; precision, recall and F1 are macro averages "
                         "(the unweighted mean over the classes)"),
    ("multilabel", 2, 4, "Metrics on 2 samples: 4 sigmoid outputs; accuracy over every output of every sample"),
    ("regression", 0, None, "Metrics on 0 samples: regression"),
])
def test_metrics_caption_for_every_kind(kind, n, classes, caption):
    assert display.metrics_caption(Report({}, n_samples=n, kind=kind, n_classes=classes)) == caption


def test_metrics_rows_say_what_each_measures():
    report = Report({"loss": 0.25, "accuracy": 0.5, "custom": 1.0}, n_samples=2, kind="binary", n_classes=2,
                    loss_name="bce")
    markup = display.metrics_html(report)
    assert ">loss</td><td style=\"" in markup
    assert "the model&#x27;s loss (binary cross-entropy) on these samples</td>" in markup
    assert ">0.2500</td>" in markup and ">fraction of samples labelled right</td>" in markup
    assert markup.count("<tr>") == 4 and markup.endswith('>custom</td><td style="' + display.CELL
                                                         + '">1.0000</td><td style="' + display.CELL
                                                         + '"></td></tr></tbody></table>')
    other = Report({"loss": 1.0}, n_samples=2, kind="regression", n_classes=None, loss_name="huber")
    assert "the model&#x27;s loss (huber) on these samples" in display.metrics_html(other)
