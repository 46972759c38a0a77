"""Lesson 11 — same network, different conventions: one small net set up three ways
(PyTorch's, the "from scratch" book's, an online course's) from the same starting
weights, to see which printed numbers change and why (issue 14).

Every number here comes from one of three choices a course makes without always saying
so: how the L2 penalty is scaled, how momentum carries the learning rate, and where the
random numbers (shuffles, dropout masks) come from. pyneuron can be set up either way."""
from __future__ import annotations

import numpy as np

import pyneuron as pn
from pyneuron import optimizers as O

from ._common import heading, note, parse, parser

LAMBDA, LR, MU, DECAY = 1e-3, 0.1, 0.9, 1e-3


def _net(backend, weights, bias=True, dropout=0.0):
    model = pn.MLP([2, 8, 1], activation="tanh", backend=backend, seed=0, dropout=dropout,
                   bias=bias)
    model.set_weights(weights if bias else weights[0::2])
    return model


def setups(backend, weights, fast):
    """The three ways: (model, fit options, what it stands for)."""
    epochs = 20 if fast else 200
    torch_style = (_net(backend, weights),
                   dict(optimizer=O.SGD(LR, momentum=MU), l2={"W": LAMBDA / 2, "b": LAMBDA / 2},
                        penalty="sum", batch_size=32, epochs=epochs),
                   "SGD(momentum) as torch.optim.SGD(weight_decay=λ): v ← μv + g, w ← w − ηv; the "
                   "decay λ·w on every parameter, biases too (penalty 'sum' with λ/2)")
    book = (_net(backend, weights),
            dict(optimizer=O.SGD(LR, momentum=MU, form="course", decay=DECAY), l2={"W": LAMBDA},
                 penalty="sum", batch_size=32, epochs=epochs),
            "the book's SGD: v ← μv − η_t·g, w ← w + v with η_t = η₀/(1 + k·t) per step; "
            "λ·ΣW² added to the mean data loss")
    course = (_net(backend, weights, dropout=0.2),
              dict(optimizer=O.SGD(LR * 5), l2=LAMBDA * 100, penalty="mean", batch_size=None,
                   epochs=epochs * 5,
                   shuffle=False, dropout_masks=lambda i, shape: (np.random.rand(*shape) < 0.8).astype(float)),
              "the online course: full-batch gradient descent, λ/(2m)·ΣW², dropout masks from "
              "np.random.seed(1) and np.random.rand(...) < keep_prob")
    return {"torch-style": torch_style, "book": book, "course": course}


def main(argv=None):
    args = parse(parser(__doc__), argv, __name__)
    backend = args.backend or pn.get_backend()
    X, y = pn.datasets.make_moons(200, noise=0.2, seed=3)
    weights = pn.MLP([2, 8, 1], activation="tanh", seed=7).get_weights()
    results = {}

    heading("Before any training: the same weights, three losses")
    ref = _net(backend, weights)
    data = ref.loss(X, y)
    squares = float(sum(np.sum(w * w) for w in weights[0::2]))
    m = 32
    print(f"  data loss (mean binary cross-entropy) {data:.6f}; ΣW² = {squares:.4f}")
    for label, kwargs in (("'sum', λ = 1e-3          λ·ΣW²", dict(l2=LAMBDA, penalty="sum")),
                          ("'mean', λ = 1e-3, m = 32  λ/(2m)·ΣW²", dict(l2=LAMBDA, penalty="mean"))):
        total = ref.loss(X[:m], y[:m], **kwargs)
        print(f"  {label:<40} loss on a batch of 32 = data + {total - ref.loss(X[:m], y[:m]):.6f}")
    ratio = ref.loss(X[:m], y[:m], l2=LAMBDA, penalty="sum") - ref.loss(X[:m], y[:m])
    ratio /= ref.loss(X[:m], y[:m], l2=LAMBDA, penalty="mean") - ref.loss(X[:m], y[:m])
    print(f"  the same λ is {ratio:.1f} = 2m times stronger in 'sum' than in 'mean' for m = {m}")
    results["initial_data_loss"], results["sum_over_mean"] = data, ratio

    heading("Momentum: two forms, one trajectory while η is constant")
    same = []
    for form in ("torch", "course"):
        model = _net(backend, weights)
        model.fit(X, y, epochs=3, batch_size=32, shuffle=False, optimizer=O.SGD(LR, momentum=MU, form=form))
        same.append(model.layers[0].W.copy())
    decayed = []
    for form in ("torch", "course"):
        model = _net(backend, weights)
        model.fit(X, y, epochs=3, batch_size=32, shuffle=False,
                  optimizer=O.SGD(LR, momentum=MU, form=form, decay=0.5))
        decayed.append(model.layers[0].W.copy())
    results["forms_constant_lr"] = float(np.max(np.abs(same[0] - same[1])))
    results["forms_decayed_lr"] = float(np.max(np.abs(decayed[0] - decayed[1])))
    print(f"  largest weight difference after 3 epochs, constant η:   {results['forms_constant_lr']:.1e}")
    print(f"  largest weight difference after 3 epochs, η/(1 + 0.5t): {results['forms_decayed_lr']:.1e}")
    note("the course's velocity keeps each gradient at the rate it was taken with (v ← μv − η_t g); "
         "torch's applies today's rate to the whole velocity (w ← w − η_t v). Equal while η is constant.")

    heading(f"Training the three ways ({backend} backend)")
    for name, (model, options, what) in setups(backend, weights, args.fast).items():
        if name == "course":
            np.random.seed(1)
        h = model.fit(X, y, **options)
        acc = model.score(X, y)
        results[name] = {"loss": h["loss"][-1], "data_loss": h["data_loss"][-1],
                         "penalty": h["penalty"][-1], "accuracy": acc}
        print(f"  {name:<12} {what}")
        print(f"  {'':<12} last epoch: loss {h['loss'][-1]:.4f} = data {h['data_loss'][-1]:.4f} "
              f"+ penalty {h['penalty'][-1]:.5f}; accuracy {acc:.3f}")
    note("the three runs print different losses from the same start because each adds a different "
         "penalty to the data loss and takes different steps; to reproduce a course's numbers, set "
         "up its conventions, not only its architecture.")
    return results


if __name__ == "__main__":
    main()
