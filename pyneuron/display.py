"""Rich displays for notebooks: what Jupyter shows when an object is a cell's last value.

* :class:`~pyneuron.MLP` — a summary table: one row per layer with its shape,
  activation, batch norm, dropout and parameter count; the loss, output and backend.
* :class:`~pyneuron.History` — its plot (loss and the first metric per epoch,
  as :func:`pyneuron.plot.plot_history` draws it) above a table of the last
  epoch's values; without matplotlib, the table alone.
* :class:`~pyneuron.Explanation` — the hand calculation as a worked example:
  the summary, then the forward pass, the loss, the backward pass and the update,
  each a section of its own, in the same words and numbers as ``print(explanation)``.
* :class:`~pyneuron.metrics.MetricsReport` (what ``model.evaluate`` returns) — a
  table of each metric, its value and what it measures, with the averaging named.

Each function returns a string of HTML (``_repr_html_`` hooks call them); nothing
here needs IPython. Every value is escaped, so a label can never break the page.
"""
from __future__ import annotations

import base64
import html

STYLE = "border-collapse:collapse;font-family:monospace;font-size:90%"
CELL = "border:1px solid #ccc;padding:2px 8px;text-align:left"


def _table(header, rows, caption=None):
    """An HTML table; every cell is escaped."""
    out = [f'<table style="{STYLE}">']
    if caption:
        out.append(f"<caption style=\"text-align:left\">{html.escape(str(caption))}</caption>")
    out.append("<thead><tr>" + "".join(f'<th style="{CELL}">{html.escape(str(h))}</th>' for h in header)
               + "</tr></thead>")
    out.append("<tbody>")
    for row in rows:
        out.append("<tr>" + "".join(f'<td style="{CELL}">{html.escape(str(v))}</td>' for v in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


# ---------------------------------------------------------------------------- MLP
def mlp_rows(model):
    """One row per layer: number, ``n_in → n_out``, activation, batch norm, dropout,
    parameters (weights + biases, plus γ and β with batch norm)."""
    rows = []
    for number, layer in enumerate(model.layers, start=1):
        n_out, n_in = layer.W.shape
        params = sum(int(p.size) for p in layer.parameters())
        dropout = getattr(layer, "dropout", 0) or 0
        rows.append((number, f"{n_in} → {n_out}", layer.activation,
                     "yes" if getattr(layer, "batch_norm", False) else "no",
                     f"{dropout:g}" if dropout else "—", params))
    return rows


def mlp_html(model):
    """The model as a summary table."""
    from ._config import get_backend
    rows = mlp_rows(model)
    total = sum(row[-1] for row in rows)
    backend = model.backend or f"{get_backend()} (the global flag)"
    caption = (f"MLP {'-'.join(map(str, model.layer_sizes))}: {total} parameters, "
               f"loss {model.loss_name}, backend {backend}")
    return _table(["layer", "shape (inputs → neurons)", "activation", "batch norm", "dropout", "parameters"],
                  rows, caption)


# ---------------------------------------------------------------------------- History
def history_html(history):
    """The training curves as an inline PNG (if matplotlib is installed) and the
    last epoch's values as a table."""
    epochs = len(history.epoch)
    parts = []
    if epochs and history.history.get("loss"):
        try:
            from .plot import plot_history
            figure = plot_history(history, title=f"Training history ({epochs} epochs)")
        except ImportError:
            parts.append("<p><i>(install matplotlib to see the curves: pip install matplotlib)</i></p>")
        else:
            png = base64.b64encode(figure._repr_png_()).decode("ascii")
            parts.append(f'<img alt="training history" src="data:image/png;base64,{png}"/>')
    rows = [(key, f"{values[-1]:.6g}", f"{min(values):.6g}") for key, values in history.history.items() if values]
    caption = f"History: {epochs} epoch{'s' if epochs != 1 else ''}"
    if history.best_epoch is not None:
        caption += f", best epoch {history.best_epoch}"
    parts.append(_table(["entry", "last epoch", "lowest"], rows, caption))
    return "".join(parts)


# ---------------------------------------------------------------------------- Explanation
SECTION_TITLES = ("FORWARD PASS", "LOSS", "BACKWARD PASS", "UPDATE")


def explanation_sections(text):
    """Split ``Explanation.text()`` into ``(title, body)`` pairs at its section
    headings (the first pair's title is the summary line)."""
    lines = text.splitlines()
    sections, title, body = [], lines[0] if lines else "", []
    for line in lines[1:]:
        if line and not line.startswith(" ") and line.split(" (")[0].split(":")[0] in SECTION_TITLES:
            sections.append((title, body))
            title, body = line, []
        else:
            body.append(line)
    sections.append((title, body))
    return [(t, "\n".join(b).strip("\n")) for t, b in sections]


def explanation_html(explanation):
    """The worked example: a summary table, then one section per pass."""
    summary = _table(["", ""], [("backend", explanation.backend), ("samples", explanation.X.shape[0]),
                                ("loss", f"{explanation.loss_name} = {explanation.loss:.4f}"),
                                ("learning rate α", f"{explanation.lr:g}")],
                     "Hand calculation of one training step")
    parts = [summary]
    for title, body in explanation_sections(explanation.text()):
        if not title or title.startswith("Hand calculation"):
            if body:
                parts.append(f"<p>{html.escape(body)}</p>")
            continue
        parts.append(f"<details open><summary><b>{html.escape(title)}</b></summary>"
                     f"<pre>{html.escape(body)}</pre></details>")
    return "".join(parts)


# ---------------------------------------------------------------------------- MetricsReport
LOSS_NAMES = {"bce": "binary cross-entropy", "cce": "categorical cross-entropy", "mse": "mean squared error"}

#: What each metric of :func:`pyneuron.metrics.evaluate` measures (TP, FP, FN: true
#: positives, false positives, false negatives; y the target, ŷ the output).
METRIC_MEANINGS = {
    "accuracy": "fraction of samples labelled right",
    "precision": "of the samples predicted positive, the fraction that are: TP / (TP + FP)",
    "recall": "of the positive samples, the fraction found: TP / (TP + FN)",
    "f1": "harmonic mean of precision and recall: 2PR / (P + R)",
    "mse": "mean of (y − ŷ)²",
    "mae": "mean of |y − ŷ|",
    "r2": "1 − Σ(y − ŷ)² / Σ(y − ȳ)²: 1 is perfect, 0 is no better than predicting the mean",
}


def metrics_caption(report):
    """One line: how many samples, which task, how precision/recall/F1 are averaged."""
    n = report.n_samples
    head = f"Metrics on {n} sample{'s' if n != 1 else ''}"
    if report.kind == "binary":
        return head + ": binary classifier; precision, recall and F1 of class 1 (the positive class)"
    if report.kind == "multiclass":
        return (head + f": {report.n_classes} classes; precision, recall and F1 are macro averages "
                "(the unweighted mean over the classes)")
    if report.kind == "multilabel":
        return head + f": {report.n_classes} sigmoid outputs; accuracy over every output of every sample"
    return head + ": regression"


def metrics_html(report):
    """The report as a table: metric, value, what it measures."""
    rows = []
    for key, value in report.items():
        meaning = (f"the model's loss ({LOSS_NAMES.get(report.loss_name, report.loss_name)}) on these samples"
                   if key == "loss" else METRIC_MEANINGS.get(key, ""))
        rows.append((key, f"{value:.4f}", meaning))
    return _table(["metric", "value", "what it measures"], rows, metrics_caption(report))
