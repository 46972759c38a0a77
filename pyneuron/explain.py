"""The hand calculation of one training step, with the model's real numbers.

``explain(model, X, y)`` runs one forward and one backward pass on a sample
(or a tiny batch) through the model's own backend kernels and returns an
:class:`Explanation`: for every layer its inputs, each neuron's
``z = w₁·x₁ + … + b``, the activation, then the loss, every δ (``dZ``),
``dW``, ``db`` and the weights after one plain gradient step
``θ ← θ − α·∂L/∂θ``. The model itself is not changed.

Printing the record (``print(explanation)`` or ``explanation.text()``) writes
it in the order a learner works it by hand: forward layer by layer, the loss,
backward from the output, then the update — numbers rounded to four
decimals. Big layers are summarized rather than written out term by term.

Notation: layer ``l`` (1-based) has ``W[l]`` of shape ``(n_out, n_in)`` — row
``i`` holds neuron ``i``'s incoming weights — so neuron ``i`` computes
``z_i = Σ_j W[l][i, j]·a[l−1]_j + b[l]_i``. (Some tutorials store the
transpose, ``(n_in, n_out)``; their ``W[j][i]`` is our ``W[i, j]``.)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .network import MLP

#: How many samples, neurons and terms per sum the text writes out in full.
MAX_SAMPLES = 4
MAX_NEURONS = 8
MAX_TERMS = 8


def fmt(value: float) -> str:
    """A number as the tutorials print it: four decimals, and never ``-0.0000``."""
    text = f"{float(value):.4f}"
    return "0.0000" if text == "-0.0000" else text


def fmt_vector(values: np.typing.ArrayLike, limit: int = MAX_NEURONS) -> str:
    values = np.ravel(values)
    shown = ", ".join(fmt(v) for v in values[:limit])
    more = f", … ({values.size - limit} more)" if values.size > limit else ""
    return f"[{shown}{more}]"


def fmt_matrix(M: np.typing.ArrayLike, indent: str = "    ", limit: int = MAX_NEURONS) -> str:
    M = np.atleast_2d(M)
    rows = [indent + fmt_vector(row, limit) for row in M[:limit]]
    if M.shape[0] > limit:
        rows.append(f"{indent}… ({M.shape[0] - limit} more rows)")
    return "\n".join(rows)


def _softplus(z: float) -> float:
    """log(1 + e^z) = max(z, 0) + log(1 + e^(−|z|)), without overflow."""
    return max(z, 0.0) + np.log1p(np.exp(-abs(z)))


@dataclass
class LayerExplanation:
    """One dense layer's share of the calculation (arrays hold every sample).

    Forward: ``inputs`` (a[l−1], shape (m, n_in)), ``W``, ``b``, ``Z`` (the
    linear part ``inputs·Wᵀ + b``; with batch norm, ``Z_normalized`` is what
    the activation saw), ``A`` = f(Z).
    Backward: ``dA`` (∂L/∂a[l]; ``None`` for an output layer whose δ is the
    fused ``(a − y)/N``), ``derivative`` = f′(Z), ``dZ`` (δ[l]), ``dW``, ``db``.
    Update: ``W_new``, ``b_new`` after one plain step at the explanation's ``lr``.
    """

    number: int
    activation: str
    inputs: np.ndarray
    W: np.ndarray
    b: np.ndarray
    Z: np.ndarray
    A: np.ndarray
    dA: np.ndarray | None
    derivative: np.ndarray | None
    dZ: np.ndarray
    dW: np.ndarray
    db: np.ndarray
    W_new: np.ndarray
    b_new: np.ndarray
    Z_normalized: np.ndarray | None = None

    @property
    def delta(self) -> np.ndarray:
        """δ[l] = ∂L/∂z[l], the tutorials' name for ``dZ``."""
        return self.dZ

    @property
    def n_in(self) -> int:
        return self.W.shape[1]

    @property
    def n_out(self) -> int:
        return self.W.shape[0]

    def terms(self, sample: int, neuron: int) -> list[tuple[float, float]]:
        """The products ``w_j·x_j`` that sum (with the bias) to ``Z[sample, neuron]``,
        as ``(w_j, x_j)`` pairs."""
        return list(zip(self.W[neuron].tolist(), self.inputs[sample].tolist()))

    def z_equation(self, sample: int, neuron: int, max_terms: int = MAX_TERMS) -> str:
        """``z = w₁·x₁ + w₂·x₂ + … + b = value`` for one neuron and sample; beyond
        ``max_terms`` products the middle ones are summed into one figure."""
        pairs = self.terms(sample, neuron)
        products = [w * x for w, x in pairs]
        if len(pairs) <= max_terms:
            parts = [f"{fmt(w)}·{fmt(x)}" for w, x in pairs]
        else:
            head = max_terms - 2
            parts = [f"{fmt(w)}·{fmt(x)}" for w, x in pairs[:head]]
            hidden = sum(products[head:-1])
            parts.append(f"({fmt(hidden)} from {len(pairs) - head - 1} more terms)")
            w, x = pairs[-1]
            parts.append(f"{fmt(w)}·{fmt(x)}")
        parts.append(fmt(self.b[neuron]))
        return " + ".join(parts) + f" = {fmt(self.Z[sample, neuron])}"


@dataclass
class Explanation:
    """One forward and backward pass, worked out. ``layers[l-1]`` is layer ``l``.

    ``X`` the inputs (m, n_features), ``Y`` the targets as the loss sees them
    (one-hot for softmax), ``loss`` its mean value, ``loss_name`` (``"bce"``,
    ``"cce"``, ``"mse"``), ``fused`` whether the output δ is ``(a − y)/N``,
    ``lr`` the step size of the update, ``backend`` the engine that computed it.
    """

    X: np.ndarray
    Y: np.ndarray
    loss_name: str
    loss: float
    lr: float
    backend: str
    fused: bool
    layers: list[LayerExplanation] = field(default_factory=list)
    max_samples: int = MAX_SAMPLES
    max_neurons: int = MAX_NEURONS
    max_terms: int = MAX_TERMS

    @property
    def output(self) -> np.ndarray:
        """The network's prediction ŷ for every sample."""
        return self.layers[-1].A

    def updated_weights(self) -> list[np.ndarray]:
        """``[W1_new, b1_new, W2_new, …]``, ready for ``model.set_weights``."""
        return [a for layer in self.layers for a in (layer.W_new, layer.b_new)]

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        """Jupyter's display: the worked example (see :mod:`pyneuron.display`)."""
        from .display import explanation_html
        return explanation_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's text display: the calculation, not a dump of the fields."""
        printer.text(self.text())

    # ------------------------------------------------------------------ text
    def text(self) -> str:
        """The calculation written out in the tutorials' order and notation."""
        m = self.X.shape[0]
        samples = list(range(min(m, self.max_samples)))
        out = [f"Hand calculation of one training step ({self.backend} backend, "
               f"{m} sample{'s' if m != 1 else ''}, learning rate α = {self.lr:g})"]
        if m > len(samples):
            out.append(f"(terms written out for the first {len(samples)} samples; "
                       "every array in the record holds all of them)")
        out.append("")
        out.append("FORWARD PASS")
        for s in samples:
            out.append(f"  x{self._tag(s)} = {fmt_vector(self.X[s], self.max_terms)}")
        for layer in self.layers:
            out += self._forward_text(layer, samples)
        out.append("")
        out += self._loss_text(samples)
        out.append("")
        out.append("BACKWARD PASS")
        for layer in reversed(self.layers):
            out += self._backward_text(layer, samples)
        out.append("")
        out.append(f"UPDATE (plain gradient descent, θ ← θ − α·∂L/∂θ, α = {self.lr:g})")
        for layer in reversed(self.layers):
            l = layer.number
            out.append(f"  W[{l}]_new = W[{l}] − α·dW[{l}] =")
            out.append(fmt_matrix(layer.W_new, limit=self.max_neurons))
            out.append(f"  b[{l}]_new = b[{l}] − α·db[{l}] = {fmt_vector(layer.b_new, self.max_neurons)}")
        return "\n".join(out)

    def _tag(self, s):
        return f" (sample {s + 1})" if self.X.shape[0] > 1 else ""

    def _forward_text(self, layer, samples):
        l = layer.number
        out = ["", f"  Layer {l}: {layer.n_in} → {layer.n_out}, activation {layer.activation}"]
        if layer.W.size <= self.max_neurons * self.max_terms:
            out.append(f"  W[{l}] (row i = neuron i's weights) =")
            out.append(fmt_matrix(layer.W, limit=self.max_neurons))
        else:
            out.append(f"  W[{l}]: {layer.n_out}×{layer.n_in} weights, from {fmt(layer.W.min())} "
                       f"to {fmt(layer.W.max())} (mean {fmt(layer.W.mean())})")
        out.append(f"  b[{l}] = {fmt_vector(layer.b, self.max_neurons)}")
        f = layer.activation
        for s in samples:
            tag = self._tag(s)
            shown = range(min(layer.n_out, self.max_neurons))
            for i in shown:
                out.append(f"    z[{l}]_{i + 1}{tag} = {layer.z_equation(s, i, self.max_terms)}")
            if layer.n_out > self.max_neurons:
                rest = layer.Z[s, self.max_neurons:]
                out.append(f"    … {rest.size} more neurons: z from {fmt(rest.min())} to {fmt(rest.max())}")
            if layer.Z_normalized is not None:
                out.append(f"    batch norm: ẑ[{l}]{tag} = γ·(z − μ)/√(σ² + ε) + β = "
                           f"{fmt_vector(layer.Z_normalized[s], self.max_neurons)}")
            if f == "softmax":
                out.append(f"    a[{l}]{tag} = softmax(z[{l}]) = {fmt_vector(layer.A[s], self.max_neurons)}")
            else:
                for i in shown:
                    z = layer.Z_normalized[s, i] if layer.Z_normalized is not None else layer.Z[s, i]
                    out.append(f"    a[{l}]_{i + 1}{tag} = {f}({fmt(z)}) = {fmt(layer.A[s, i])}")
                if layer.n_out > self.max_neurons:
                    rest = layer.A[s, self.max_neurons:]
                    out.append(f"    … {rest.size} more neurons: a from {fmt(rest.min())} to {fmt(rest.max())}")
        return out

    def _loss_text(self, samples):
        A, Y, Z = self.output, self.Y, self.layers[-1].Z.astype(np.float64)
        out = ["LOSS"]
        # With sigmoid + bce and softmax + cce the model computes the loss from z
        # (Backend.loss_from_logits), and so does each term here.
        if self.loss_name == "bce":
            out.append("  L = −[y·log(ŷ) + (1 − y)·log(1 − ŷ)], averaged over samples and outputs")
            if self.fused:
                out.append("  (each term from z: −log σ(z) = softplus(−z), −log(1 − σ(z)) = softplus(z), "
                           "exact even where ŷ rounds to 0 or 1)")
            for s in samples:
                for k in range(min(A.shape[1], self.max_neurons)):
                    a, y = A[s, k], Y[s, k]
                    if self.fused:
                        value = _softplus(-Z[s, k] if y == 1 else Z[s, k])
                    else:
                        value = -np.log(np.clip(a if y == 1 else 1 - a, 1e-12, None))
                    out.append(f"    y = {y:g}, ŷ = {fmt(a)}: −log({fmt(a if y == 1 else 1 - a)}) = {fmt(value)}")
        elif self.loss_name == "cce":
            out.append("  L = −Σ_k y_k·log(ŷ_k) per sample, averaged over samples")
            out.append("  (each term from z: −log softmax(z)_k = logsumexp(z) − z_k, exact even where ŷ_k rounds to 0)")
            for s in samples:
                k = int(np.argmax(Y[s]))
                top = Z[s].max()
                value = (top - Z[s, k]) + np.log(np.sum(np.exp(Z[s] - top)))
                out.append(f"    true class {k}: −log({fmt(A[s, k])}) = {fmt(value)}")
        else:
            out.append("  L = mean of (ŷ − y)² over samples and outputs")
            for s in samples:
                for k in range(min(A.shape[1], self.max_neurons)):
                    out.append(f"    ({fmt(A[s, k])} − {fmt(Y[s, k])})² = {fmt((A[s, k] - Y[s, k]) ** 2)}")
        out.append(f"  L = {fmt(self.loss)}")
        return out

    def _backward_text(self, layer, samples):
        l = layer.number
        out = [""]
        if layer.dA is None:
            n = self.Y.size if self.loss_name == "bce" else self.Y.shape[0]
            scale = "" if n == 1 else f"/{n}"
            out.append(f"  δ[{l}] = ∂L/∂z[{l}] = (ŷ − y){scale}   (the {layer.activation} derivative "
                       f"cancels against the {self.loss_name} loss's)")
            for s in samples:
                d = ", ".join(f"({fmt(a)} − {fmt(y)}){scale}" for a, y in
                              zip(self.output[s][:self.max_neurons], self.Y[s][:self.max_neurons]))
                out.append(f"    δ[{l}]{self._tag(s)} = {d} = {fmt_vector(layer.dZ[s], self.max_neurons)}")
        else:
            above = f"(W[{l + 1}])ᵀ·δ[{l + 1}]" if l < len(self.layers) else f"∂L/∂a[{l}]"
            prime = f"{layer.activation}′(z[{l}])"
            for s in samples:
                tag = self._tag(s)
                out.append(f"  da[{l}]{tag} = {above} = {fmt_vector(layer.dA[s], self.max_neurons)}")
                if layer.derivative is not None:
                    out.append(f"  {prime}{tag} = {fmt_vector(layer.derivative[s], self.max_neurons)}")
                    pairs = ", ".join(f"{fmt(d)}×{fmt(p)}" for d, p in
                                      zip(layer.dA[s][:self.max_neurons], layer.derivative[s][:self.max_neurons]))
                    out.append(f"  δ[{l}]{tag} = da[{l}] ⊙ {prime} = [{pairs}]"
                               f"{' …' if layer.n_out > self.max_neurons else ''}")
                if layer.Z_normalized is not None:
                    out.append(f"  (that is ∂L/∂ẑ; back through batch norm, ∂L/∂z[{l}] =)")
                out.append(f"  δ[{l}]{tag} = {fmt_vector(layer.dZ[s], self.max_neurons)}")
        prev = "x" if l == 1 else f"a[{l - 1}]"
        out.append(f"  dW[{l}] = (δ[{l}])ᵀ·{prev}   (dW[{l}][i, j] = Σ over samples of δ_i·{prev}_j) =")
        out.append(fmt_matrix(layer.dW, limit=self.max_neurons))
        out.append(f"  db[{l}] = Σ over samples of δ[{l}] = {fmt_vector(layer.db, self.max_neurons)}")
        return out


def _rows(X: np.ndarray, sample: int | slice | None) -> np.ndarray:
    if sample is None:
        return X
    if isinstance(sample, (int, np.integer)):
        if not -X.shape[0] <= sample < X.shape[0]:
            raise ValueError(f"sample: expected a row index below {X.shape[0]}, got {sample}")
        return X[[sample]]
    if isinstance(sample, slice):
        rows = X[sample]
        if rows.shape[0] == 0:
            raise ValueError(f"sample: the slice {sample} selects no rows of X")
        return rows
    raise TypeError(f"sample: expected None, an int or a slice, got {type(sample).__name__}")


def explain(model: MLP, X: np.typing.ArrayLike, y: np.typing.ArrayLike, lr: float = 0.1, sample: int | slice | None = None,
            max_samples: int = MAX_SAMPLES, max_neurons: int = MAX_NEURONS,
            max_terms: int = MAX_TERMS) -> Explanation:
    """Work out one forward and backward pass of ``model`` on ``(X, y)``.

    Parameters
    ----------
    model : MLP
    X, y : a sample (one row) or a tiny batch and its targets, as for ``fit``.
    lr : float — learning rate of the plain gradient step shown at the end.
    sample : None, int or slice — which rows of ``X`` to use (default all).
    max_samples, max_neurons, max_terms : how much the text writes out in full
        before summarizing (the record always holds every number).

    Returns an :class:`Explanation`; ``print`` it to read the calculation.
    The model's weights are untouched; the arithmetic runs on the model's
    backend (``model.gradients``, ``model.loss`` and the backend's kernels).
    """
    from .validation import check_number, check_positive_int

    lr = check_number(lr, "lr", 0.0, low_open=True)
    for value, name in ((max_samples, "max_samples"), (max_neurons, "max_neurons"), (max_terms, "max_terms")):
        check_positive_int(value, name, minimum=3 if name == "max_terms" else 1)
    Xc = model.check_X(X)
    Y = model.encode_y(y, Xc.shape[0])
    Xc, Y = _rows(Xc, sample), _rows(Y, sample)
    kernels = model.kernels
    grads = model.gradients(Xc, Y)           # forward + backward: fills every layer's cache and grads
    loss = model._data_loss(model.layers[-1].cache["out"], Y)
    out = model.layers[-1]
    fused = (out.activation, model.loss_name) in (("sigmoid", "bce"), ("softmax", "cce"))
    params = [p for layer in model.layers for p in layer.parameters()]
    updated = [p.copy() for p in params]
    for p, g in zip(updated, grads):
        kernels.sgd_step(p, g, lr)           # the update, on copies
    records, position = [], 0
    for number, layer in enumerate(model.layers, start=1):
        cache, g = layer.cache, layer.grads
        n_params = len(layer.parameters())
        # a layer without bias (MLP(bias=False)) has no b among its parameters: its b is 0
        new = dict(zip(layer.parameter_kinds(), updated[position:position + n_params]))
        W_new, b_new = new["W"], new.get("b", layer.b.copy())
        position += n_params
        is_output = number == len(model.layers)
        if is_output and fused:
            dA, derivative = None, None
        else:
            if is_output:
                dA = kernels.loss_gradient(model.loss_name, cache["A"], Y)
            else:
                above = model.layers[number]
                dA = kernels.matmul(above.grads["dZ"], above.W)
            derivative = None
            if layer.activation != "softmax":
                derivative = kernels.activation_backward(layer.activation, np.ones_like(cache["Z"]),
                                                         cache["Z"], cache["A"], layer.negative_slope)
        records.append(LayerExplanation(
            number=number, activation=layer.activation, inputs=cache["X"].copy(), W=layer.W.copy(),
            b=layer.b.copy(), Z=(cache["Z_lin"] if layer.batch_norm else cache["Z"]).copy(),
            A=cache["A"].copy(), dA=None if dA is None else np.array(dA),
            derivative=derivative, dZ=g["dZ"].copy(), dW=g["dW"].copy(),
            db=g["db"].copy() if "db" in g else np.zeros_like(layer.b),
            W_new=W_new, b_new=b_new, Z_normalized=cache["Z"].copy() if layer.batch_norm else None))
    return Explanation(X=Xc.copy(), Y=Y, loss_name=model.loss_name, loss=float(loss), lr=lr,
                       backend=kernels.name, fused=fused, layers=records, max_samples=max_samples,
                       max_neurons=max_neurons, max_terms=max_terms)


__all__ = ["explain", "Explanation", "LayerExplanation"]
