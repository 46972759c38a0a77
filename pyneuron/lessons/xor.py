"""Lesson 03 — XOR: no straight line separates it, one hidden layer does
(seed 003's 2-4-1 network, tanh then sigmoid, full-batch gradient descent at 0.5)."""
from __future__ import annotations

import pyneuron as pn
from pyneuron import plot

from ._common import heading, parse, parser, progress, save


def main(argv=None):
    args = parse(parser(__doc__), argv, __name__)
    X, y = pn.datasets.make_xor()
    epochs = 2000 if args.fast else 5000
    heading(f"XOR with a 2-4-1 network (tanh, sigmoid), lr 0.5, {epochs} full-batch epochs")
    model = pn.MLP([2, 4, 1], activation="tanh", output="sigmoid", seed=42, backend=args.backend)
    shown = {1, *range(1000, epochs + 1, 1000)}
    history = model.fit(X, y, epochs=epochs, batch_size=None, lr=0.5, callbacks=progress(
        model, epochs, "XOR", shown, lambda e, logs: f"  epoch {e:5d}  loss {logs['loss']:.6f}  "
                                                    f"accuracy {logs['accuracy']:.0%}"))
    proba = model.predict_proba(X)
    print("\n  input    true  predicted  rounded")
    for xi, yi, p in zip(X.astype(int).tolist(), y.tolist(), proba.tolist()):
        print(f"  {xi}   {yi}     {p:.4f}      {int(p >= 0.5)}")
    accuracy = model.score(X, y)
    print(f"\n  accuracy {accuracy:.0%}  (the tutorial's own run also reaches 100 %; its exact losses "
          "depend on its initial weights, which pyneuron draws differently)")
    save(args, "xor_boundary.png", lambda p: plot.plot_decision_boundary(model, X, y, path=p, title="XOR"))
    save(args, "xor_history.png", lambda p: plot.plot_history(history, path=p, title="XOR"))
    return {"accuracy": accuracy, "final_loss": history["loss"][-1], "proba": proba.tolist()}


if __name__ == "__main__":
    main()
