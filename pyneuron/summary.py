"""``model.summary()``: the network as a table, as Keras's ``Model.summary`` prints it.

One row per layer: its name (as the model file and :meth:`~pyneuron.network.MLP.freeze`
name it), what it is (inputs -> units, activation, batch norm, dropout, no bias), the
output shape (``None`` = any number of samples), its parameter count, and how many of
them are trainable or frozen. Below: the totals, and the batch-norm running statistics
(kept and saved with the model, but no parameters: training does not step them).
"""
from __future__ import annotations

from typing import Any


def layer_rows(model: Any) -> list[tuple[str, str, str, int, int, int]]:
    """``(name, description, output shape, parameters, trainable, frozen)`` per layer."""
    rows = []
    for i, layer in enumerate(model.layers):
        what = f"Dense {layer.n_in}->{layer.n_out}, {layer.activation}"
        if layer.batch_norm:
            what += ", batch norm"
        if layer.dropout:
            what += f", dropout {layer.dropout:g}"
        if not layer.has_bias:
            what += ", no bias"
        sizes = {kind: p.size for kind, p in zip(layer.parameter_kinds(), layer.parameters())}
        frozen = sum(n for kind, n in sizes.items() if kind in layer.frozen)
        total = sum(sizes.values())
        rows.append((f"layer{i}", what, f"(None, {layer.n_out})", total, total - frozen, frozen))
    return rows


def summary_text(model: Any) -> str:
    """The table :meth:`~pyneuron.network.MLP.summary` prints."""
    header = ("Layer", "Type", "Output shape", "Params", "Trainable", "Frozen")
    rows: list[tuple[object, ...]] = [("input", f"{model.n_features} features", f"(None, {model.n_features})", "", "", "")]
    rows += [(name, what, shape, f"{n:,}", f"{t:,}", f"{f:,}") for name, what, shape, n, t, f in layer_rows(model)]
    widths = [max(len(str(r[c])) for r in [header] + rows) for c in range(len(header))]
    right = {3, 4, 5}

    def line(cells: tuple[object, ...]) -> str:
        return "  ".join(str(v).rjust(w) if c in right else str(v).ljust(w)
                         for c, (v, w) in enumerate(zip(cells, widths))).rstrip()

    rule = "-" * len(line(header))
    counts = layer_rows(model)
    total = sum(r[3] for r in counts)
    trainable = sum(r[4] for r in counts)
    title = (f'MLP "{"-".join(map(str, model.layer_sizes))}": loss {model.loss_name}, '
             f"{model.dtype}, backend {model.backend or 'global (' + model.kernels.name + ')'}")
    out = [title, rule, line(header), rule] + [line(r) for r in rows] + [rule,
           f"Total params: {total:,}", f"Trainable params: {trainable:,}",
           f"Frozen params: {total - trainable:,}"]
    stats = sum(2 * layer.n_out for layer in model.layers if layer.batch_norm)
    if stats:
        out.append(f"Batch-norm running statistics: {stats:,} values (saved; not parameters)")
    if model.optimizer is not None:
        out.append(f"Optimizer: {model.optimizer!r}, {model.optimizer.t} steps; "
                   f"epochs trained: {model.epochs_trained}")
    return "\n".join(out)
