"""``pyneuron bench``'s fit table: µs per training step through ``model.fit``, what a
user feels, for the c and numpy backends beside a hand-written NumPy loop (``bench/``)
and PyTorch eager (if installed), on the configurations of issue 10.

Every engine trains a fresh network for the same epochs on the same data, from its own
shuffles; the figure is CPU time per step (the whole run, setup included, divided by its
steps), interleaved over rounds (:mod:`pyneuron.bench_common`). PyTorch's L2 is its
``weight_decay`` (same cost, the gradient λW rather than (λ/m)W).
"""
from __future__ import annotations

from .bench_common import interleaved, load_bench_function

DIGITS = [64, 64, 32, 10]
#: title, layer sizes, output, data, batch, optimizer, model/fit options, dtype, epochs
CASES = [
    ("2-16-8-1, moons 400, batch 32, SGD", [2, 16, 8, 1], "sigmoid", "moons", 32, "sgd", {}, "float64", 40),
    ("2-16-8-1, moons 400, batch 32, Adam", [2, 16, 8, 1], "sigmoid", "moons", 32, "adam", {}, "float64", 40),
    ("64-64-32-10, digits 1437, batch 32, SGD", DIGITS, "softmax", "digits", 32, "sgd", {}, "float64", 4),
    ("64-64-32-10, digits 1437, batch 32, Adam", DIGITS, "softmax", "digits", 32, "adam", {}, "float64", 4),
    ("same + L2 + dropout 0.2 + batch norm, Adam", DIGITS, "softmax", "digits", 32, "adam",
     {"l2": 1e-3, "dropout": 0.2, "batch_norm": True}, "float64", 3),
    ("784-256-128-10, 10000×784, batch 128, Adam", [784, 256, 128, 10], "softmax", "big", 128,
     "adam", {}, "float64", 1),
    ("same, float32", [784, 256, 128, 10], "softmax", "big", 128, "adam", {}, "float32", 1),
]
LR = {"sgd": 0.05, "adam": 0.001}


def load_reference_fit():
    """The hand-written NumPy training loop, ``fit_numpy`` of bench/reference_numpy_fit.py,
    or None outside a source checkout
    (:func:`pyneuron.bench_common.load_bench_function`; bench/fit_ratio.py calls it too)."""
    return load_bench_function("reference_numpy_fit.py", "fit_numpy")


def datasets(np):
    """name -> (X, labels): two moons, scikit-learn's digits (random data of that shape
    without scikit-learn) and 10000 random 784-feature rows."""
    from .bench_report import digits, two_moons
    Xm, ym = two_moons(np, 400)
    Xd, Yd, _ = digits(np)
    rng = np.random.default_rng(1)
    return {"moons": (Xm, ym[:, 0].astype(int)), "digits": (Xd, Yd.argmax(axis=1)),
            "big": (rng.standard_normal((10000, 784)), rng.integers(0, 10, 10000))}


def torch_fit(np, sizes, output, options, dtype, optimizer, lr):
    """A function training PyTorch eager for some epochs on (X, labels), or None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    tdtype = getattr(torch, dtype)

    def run(X, labels, epochs, batch):
        torch.manual_seed(0)
        layers = []
        for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
            layers.append(torch.nn.Linear(a, b, dtype=tdtype))
            if i < len(sizes) - 2:
                if options.get("batch_norm"):
                    layers.append(torch.nn.BatchNorm1d(b, dtype=tdtype))
                layers.append(torch.nn.ReLU())
                if options.get("dropout"):
                    layers.append(torch.nn.Dropout(options["dropout"]))
        net = torch.nn.Sequential(*layers)
        make = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD
        opt = make(net.parameters(), lr=lr, weight_decay=options.get("l2", 0.0))
        Xt = torch.from_numpy(X.astype(dtype))
        if output == "sigmoid":
            Yt = torch.from_numpy(labels.astype(dtype).reshape(-1, 1))
            lossf = torch.nn.functional.binary_cross_entropy_with_logits
        else:
            Yt = torch.from_numpy(labels.astype(np.int64))
            lossf = torch.nn.functional.cross_entropy
        n, steps = X.shape[0], 0
        for _ in range(epochs):
            order = torch.randperm(n)
            for s in range(0, n, batch):
                idx = order[s:s + batch]
                opt.zero_grad()
                loss = lossf(net(Xt[idx]), Yt[idx])
                loss.backward()
                opt.step()
                loss.item()
                steps += 1
        return steps

    return run, torch.__version__


def engines_for(np, case, data, reference):
    """name -> callable running one training run of ``case``, returning its steps."""
    import pyneuron as pn
    from pyneuron import backends
    title, sizes, output, source, batch, optimizer, options, dtype, epochs = case
    X, labels = data[source]
    X = X.astype(dtype)
    lr = LR[optimizer]
    model_kw = {k: options[k] for k in ("dropout", "batch_norm") if k in options}
    fit_kw = {k: options[k] for k in ("l2",) if k in options}
    steps = epochs * -(-X.shape[0] // batch)
    engines = {}
    for name in ("c", "numpy"):
        if name not in backends.available():
            continue

        def run(name=name):
            model = pn.MLP(sizes, activation="relu", output=output, seed=0, backend=name,
                           dtype=dtype, **model_kw)
            opt = pn.optimizers.Adam(lr) if optimizer == "adam" else pn.optimizers.SGD(lr)
            model.fit(X, labels, epochs=epochs, batch_size=batch, optimizer=opt, **fit_kw)
            return steps
        engines[f"pyneuron {name}"] = run
    if reference is not None:
        Y = (np.eye(sizes[-1])[labels] if output == "softmax" else labels.reshape(-1, 1)).astype(dtype)
        engines["hand-written NumPy"] = lambda: len(reference(
            X, Y, sizes, output, epochs, batch, optimizer, lr, l2=options.get("l2", 0.0),
            dropout=options.get("dropout", 0.0), batch_norm=options.get("batch_norm", False)))
    tf = torch_fit(np, sizes, output, options, dtype, optimizer, lr)
    torch_version = None
    if tf is not None:
        run_torch, torch_version = tf
        engines["PyTorch eager"] = lambda: run_torch(X, labels, epochs, batch)
    return engines, torch_version


def fit_section(np, rounds, out, quick=False):
    """Print the fit table; returns {title: {engine: Figure}}."""
    reference = load_reference_fit()
    data = datasets(np)
    out("(2) training through model.fit (what a user feels): µs per step, median (spread), "
        "one thread")
    if reference is None:
        out("    (the hand-written NumPy loop lives in bench/ of a source checkout: not found here)")
    results, torch_version = {}, None
    order = ["pyneuron c", "pyneuron numpy", "hand-written NumPy", "PyTorch eager"]
    for case in CASES[:3] if quick else CASES:
        engines, tv = engines_for(np, case, data, reference)
        torch_version = torch_version or tv
        figures = interleaved(engines, rounds)
        results[case[0]] = figures
        cells = []
        for name in order:
            if name in figures:
                f = figures[name]
                cells.append(f"{name.replace('pyneuron ', '')} {f.median * 1e6:.1f} ({f.spread()})")
        out(f"  {case[0]}: " + "; ".join(cells))
    if torch_version is None:
        out("  PyTorch: not installed, so not in the table")
    else:
        out(f"  PyTorch {torch_version}: eager nn.Sequential, torch.optim, a Python loop over "
            "torch.randperm batches")
    out("")
    return results


def memory_line(np, out):
    """Peak memory growth (tracemalloc: NumPy's allocations, C's workspace) of one epoch of
    fit on the 784 net against the hand-written loop's."""
    import tracemalloc

    import pyneuron as pn
    reference = load_reference_fit()
    X, labels = datasets(np)["big"]
    peaks = {}

    def peak(fn):
        tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return (top - base) / 2 ** 20

    for name in ("c", "numpy"):
        def run(name=name):
            model = pn.MLP([784, 256, 128, 10], output="softmax", seed=0, backend=name)
            model.fit(X, labels, epochs=1, batch_size=128, optimizer=pn.optimizers.Adam(0.001))
        peaks[name] = peak(run)
    if reference is not None:
        Y = np.eye(10)[labels]
        peaks["hand-written"] = peak(lambda: reference(X, Y, [784, 256, 128, 10], "softmax", 1,
                                                       128, "adam", 0.001))
    out("  peak memory growth of one epoch, 784 net, float64 (tracemalloc, MiB; the data "
        "itself is outside): " + ", ".join(f"{k} {v:.1f}" for k, v in peaks.items()))
    return peaks
