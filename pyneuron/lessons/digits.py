"""Lesson 06 — handwritten digits (seed 002): 64 pixels in, ten classes out
through softmax; accuracy, then precision, recall and F1 for every digit.

Needs scikit-learn for the data (its bundled copy, nothing is downloaded):
``pip install scikit-learn``."""
from __future__ import annotations

import numpy as np

import pyneuron as pn
from pyneuron import plot

from ._common import heading, note, parse, parser, progress, save


def main(argv=None):
    args = parse(parser(__doc__), argv, __name__)
    X, y = pn.datasets.load_digits()        # ImportError with the install hint if scikit-learn is absent
    X_tr, X_te, y_tr, y_te = pn.datasets.train_test_split(X, y, test_size=0.2, seed=3, stratify=True)
    scaler = pn.datasets.Standardizer().fit(X_tr)
    X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    epochs = 80 if args.fast else 500
    heading(f"Digits: {len(y_tr)} training and {len(y_te)} test images of 8×8 pixels")
    note("the tutorial standardizes with statistics of all 1,797 images before splitting; here the "
         "scaler sees only the training images, so nothing of the test set leaks into training.")
    print(f"  network 64-64-32-10, ReLU then softmax, Xavier initialization, SGD lr 0.01, "
          f"batch 32, {epochs} epochs")
    model = pn.MLP([64, 64, 32, 10], activation="relu", output="softmax", init="xavier_normal", seed=3,
                   backend=args.backend)
    shown = {1, *range(10, min(epochs, 100) + 1, 10), epochs}
    history = model.fit(X_tr, y_tr, epochs=epochs, batch_size=32, lr=0.01, callbacks=progress(
        model, epochs, "digits", shown, lambda e, logs: f"  epoch {e:4d}  loss {logs['loss']:.4f}"))
    predicted = model.predict(X_te)
    accuracy = pn.metrics.accuracy(y_te, predicted)
    scores = pn.metrics.precision_recall_f1(y_te, predicted, labels=np.arange(10))
    heading(f"Test accuracy {accuracy:.4f}")
    print(f"  {'digit':>5} {'precision':>10} {'recall':>8} {'F1':>8} {'support':>8}")
    for d in range(10):
        print(f"  {d:>5} {scores['precision'][d]:10.4f} {scores['recall'][d]:8.4f} {scores['f1'][d]:8.4f} "
              f"{int(scores['support'][d]):8d}")
    print(f"  {'macro':>5} {scores['macro_precision']:10.4f} {scores['macro_recall']:8.4f} "
          f"{scores['macro_f1']:8.4f}")
    confusion = pn.metrics.confusion_matrix(y_te, predicted, labels=np.arange(10))
    print("\n  confusion matrix (rows: true digit, columns: predicted)")
    for d, row in enumerate(confusion):
        print(f"  {d}: " + " ".join(f"{v:3d}" for v in row))
    save(args, "digits_history.png", lambda p: plot.plot_history(history, path=p, title="digits"))
    save(args, "digits_weights.png", lambda p: plot.plot_weight_histograms(model, X_te[:200], y_te[:200], path=p))
    return {"accuracy": accuracy, "macro_f1": scores["macro_f1"], "precision": scores["precision"].tolist(),
            "recall": scores["recall"].tolist(), "f1": scores["f1"].tolist()}


if __name__ == "__main__":
    main()
