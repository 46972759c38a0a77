"""Rich displays: what a notebook shows for an MLP, a History and an Explanation.
The HTML must parse (every tag closed, properly nested) and carry the numbers."""
from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import display

VOID = {"br", "img", "hr", "meta", "input", "col", "wbr"}


class StrictParser(HTMLParser):
    """Collects text and attributes; raises on a stray or misnested end tag."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.text, self.tags, self.images = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))
        elif tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:] or 'nothing'}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(markup):
    parser = StrictParser()
    parser.feed(markup)
    parser.close()
    assert not parser.stack, f"unclosed tags: {parser.stack}"
    return parser


def table_rows(markup):
    """The body rows of the first table, as lists of cell texts."""
    body = markup.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_the_checker_can_fail():
    with pytest.raises(AssertionError):
        parse("<table><tr></table>")
    with pytest.raises(AssertionError):
        parse("<b>unclosed")


def test_mlp_summary_table():
    model = pn.MLP([3, 5, 4, 2], activation="tanh", output="softmax", batch_norm=True, dropout=0.25,
                   seed=0, backend="numpy")
    markup = model._repr_html_()
    parsed = parse(markup)
    rows = table_rows(markup)
    # by hand: weights n_out·n_in, and γ, β (n_out each) with batch norm, whose layers
    # have no bias by default (issue 14); the output layer has its n_out biases
    assert [r[1] for r in rows] == ["3 → 5", "5 → 4", "4 → 2"]
    assert [r[2] for r in rows] == ["tanh", "tanh", "softmax"]
    assert int(rows[0][5]) == 5 * 3 + 2 * 5
    assert int(rows[2][5]) == 2 * 4 + 2
    assert sum(int(r[5]) for r in rows) == model.n_parameters
    assert rows[0][4] == "0.25" and rows[-1][4] == "—"
    caption = "".join(parsed.text)
    assert "3-5-4-2" in caption and f"{model.n_parameters} parameters" in caption and "backend numpy" in caption


def test_mlp_without_a_backend_names_the_flag():
    with pn.use_backend("scalar"):
        assert "backend scalar (the global flag)" in parse(pn.MLP([2, 1])._repr_html_()).text[0]


def test_labels_are_escaped():
    assert "<script>" not in display._table(["<script>"], [("<b>&",)])
    parse(display._table(["<script>"], [("<b>&",)]))


def test_history_shows_its_plot_and_last_values():
    X, y = pn.datasets.make_moons(60, noise=0.2, seed=0)
    model = pn.MLP([2, 4, 1], seed=0)
    history = model.fit(X, y, epochs=4, lr=0.1, validation_split=0.25)
    markup = history._repr_html_()
    parsed = parse(markup)
    rows = {r[0]: r for r in table_rows(markup)}
    assert set(rows) >= {"loss", "val_loss", "accuracy", "val_accuracy"}
    assert float(rows["loss"][1]) == pytest.approx(history["loss"][-1], rel=1e-5)
    assert float(rows["loss"][2]) == pytest.approx(min(history["loss"]), rel=1e-5)
    assert "4 epochs" in "".join(parsed.text)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert not parsed.images and "pip install matplotlib" in markup
    else:
        (image,) = parsed.images
        assert image["src"].startswith("data:image/png;base64,")
        png = base64.b64decode(image["src"].split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000


def test_explanation_is_the_worked_example(backend):
    """Seed 003's 2-2-1 network (lesson 02): the display holds the same equations and
    figures as the printed calculation, in four sections."""
    model = pn.MLP([2, 2, 1], activation="sigmoid", output="sigmoid", backend=backend)
    model.set_weights([np.array([[0.1, 0.2], [0.3, 0.4]]), np.array([0.1, 0.2]),
                       np.array([[0.5, 0.6]]), np.array([0.3])])
    e = pn.explain(model, [[1.0, 2.0]], [1], lr=0.1)
    markup = e._repr_html_()
    parsed = parse(markup)
    text = "".join(parsed.text)
    assert parsed.tags.count("details") == 4
    for title in ("FORWARD PASS", "LOSS", "BACKWARD PASS", "UPDATE"):
        assert title in text
    for figure in ("0.7492", "0.2888", "-0.1619", "0.5162"):  # a2, the loss, a δ, an updated weight
        assert figure in text
    assert e.layers[0].z_equation(0, 0) in text
    assert "=" in text and "loss" in text


def test_explanation_in_ipython_text_is_the_calculation():
    e = pn.explain(pn.MLP([2, 1], seed=0), [[1.0, 2.0]], [1])

    class Printer:
        def __init__(self):
            self.out = ""

        def text(self, value):
            self.out += value
    printer = Printer()
    e._repr_pretty_(printer, False)
    assert printer.out == e.text() and printer.out.startswith("Hand calculation")
