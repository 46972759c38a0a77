"""pyneuron.bench_fit without timing anything (issue 15 item 10: the mutation run of
pyneuron/bench_fit.py): the fit table's cases against their titles and issue 10's
configurations; the data sets' shapes and labels; what each engine of ``engines_for``
builds and trains (the MLP and fit arguments, the hand-written loop's one-hot targets and
options, the PyTorch engine), read back from recording stand-ins on tiny data; PyTorch
eager's network, optimizer, loss and batches; the printed table from fake figures; the
memory line from stand-ins that allocate known sizes; which bench/ script holds the
hand-written loop."""
import re
import sys
import tracemalloc

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import backends, bench_fit
from bench_fakes import figure, layers, record_torch


# ---------------------------------------------------------------- the cases
def _title_sizes(title):
    return [int(n) for n in title.split(",")[0].split("-")]


def test_each_case_is_what_its_title_says():
    previous = None
    for title, sizes, output, source, batch, optimizer, options, dtype, epochs in bench_fit.CASES:
        if title.startswith("same"):              # "same + ...", "same, float32": the case above
            assert sizes == previous[1] and source == previous[3] and batch == previous[4]
        else:
            assert sizes == _title_sizes(title)
            assert f"batch {batch}," in title
        assert output == ("sigmoid" if sizes[-1] == 1 else "softmax")
        assert optimizer == ("adam" if title.endswith("Adam") or title == "same, float32" else "sgd")
        assert dtype == ("float32" if title.endswith("float32") else "float64")
        extras = {"l2": "L2", "dropout": "dropout 0.2", "batch_norm": "batch norm"}
        assert set(options) == {k for k, text in extras.items() if text in title}
        if options:
            assert options["dropout"] == 0.2 and options["batch_norm"] is True
        previous = (title, sizes, output, source, batch)


def test_the_cases_are_issue_10s_configurations():
    # issue 10's table: 2-16-8-1 on moons 400 (SGD, Adam), 64-64-32-10 on 1437 digits batch 32
    # (SGD, Adam, Adam + L2 + dropout 0.2 + batch norm), 784-256-128-10 on 10000 rows batch 128
    # with Adam (float64, float32)
    got = [(sizes, source, batch, optimizer) for _, sizes, _, source, batch, optimizer, *_ in bench_fit.CASES]
    assert got == [([2, 16, 8, 1], "moons", 32, "sgd"), ([2, 16, 8, 1], "moons", 32, "adam"),
                   ([64, 64, 32, 10], "digits", 32, "sgd"), ([64, 64, 32, 10], "digits", 32, "adam"),
                   ([64, 64, 32, 10], "digits", 32, "adam"), ([784, 256, 128, 10], "big", 128, "adam"),
                   ([784, 256, 128, 10], "big", 128, "adam")]
    assert bench_fit.DIGITS == [64, 64, 32, 10]
    # the workload each timed run trains (README: "each timed run builds a model and trains it
    # 40 epochs" on the small net); the L2 strength; the learning rates (Adam's: the usual 0.001)
    assert [case[8] for case in bench_fit.CASES] == [40, 40, 4, 4, 3, 1, 1]
    assert bench_fit.CASES[4][6]["l2"] == 1e-3
    assert bench_fit.LR == {"sgd": 0.05, "adam": 0.001}


def test_the_hand_written_loop_is_fit_numpy_of_its_bench_script(monkeypatch):
    # where the script is looked for: tests/test_mutants_bench_common.py
    monkeypatch.setattr(bench_fit, "load_bench_function", lambda filename, name: (filename, name))
    assert bench_fit.load_reference_fit() == ("reference_numpy_fit.py", "fit_numpy")


# ---------------------------------------------------------------- engines_for
@pytest.fixture
def tiny():
    rng = np.random.default_rng(0)
    return {"moons": (rng.standard_normal((40, 2)), np.arange(40) % 2),
            "digits": (rng.standard_normal((30, 4)), np.arange(30) % 3)}


@pytest.fixture
def made(monkeypatch):
    """Every MLP engines_for builds, with its arguments and the arguments of its fit."""
    real, made = pn.MLP, []

    def MLP(*args, **kwargs):
        model = real(*args, **kwargs)
        record = {"args": args, "kwargs": kwargs, "model": model}
        fit = model.fit

        def recording_fit(*a, **k):
            record["fit"] = (a, k)
            return fit(*a, **k)
        model.fit = recording_fit
        made.append(record)
        return model
    monkeypatch.setattr(pn, "MLP", MLP)
    return made


SMALL = ("t", [2, 3, 1], "sigmoid", "moons", 16, "sgd", {}, "float32", 2)
OPTIONS = ("u", [4, 5, 3], "softmax", "digits", 8, "adam",
           {"l2": 0.01, "dropout": 0.25, "batch_norm": True}, "float64", 1)


def test_the_pyneuron_engines_build_and_fit_as_the_case_says(tiny, made, monkeypatch):
    monkeypatch.setattr(bench_fit, "torch_fit", lambda *args: None)
    engines, version = bench_fit.engines_for(np, SMALL, tiny, None)
    built = [name for name in ("c", "numpy") if name in backends.available()]    # c: where it is built
    assert version is None and list(engines) == [f"pyneuron {name}" for name in built]
    for name in built:
        assert engines[f"pyneuron {name}"]() == 2 * 3          # 2 epochs of ceil(40 / 16) batches
        record = made[-1]
        assert record["args"] == ([2, 3, 1],)
        assert record["kwargs"] == {"activation": "relu", "output": "sigmoid", "seed": 0,
                                    "backend": name, "dtype": "float32"}
        (X, labels), kw = record["fit"]
        assert X.dtype == np.float32 and np.array_equal(X, tiny["moons"][0].astype(np.float32))
        assert labels is tiny["moons"][1]
        opt = kw.pop("optimizer")
        assert kw == {"epochs": 2, "batch_size": 16}
        assert type(opt) is pn.optimizers.SGD and opt.lr == 0.05

    engines, _ = bench_fit.engines_for(np, OPTIONS, tiny, None)
    assert engines["pyneuron numpy"]() == 4                     # ceil(30 / 8)
    record = made[-1]
    assert record["kwargs"] == {"activation": "relu", "output": "softmax", "seed": 0, "backend": "numpy",
                                "dtype": "float64", "dropout": 0.25, "batch_norm": True}
    _, kw = record["fit"]
    opt = kw.pop("optimizer")
    assert kw == {"epochs": 1, "batch_size": 8, "l2": 0.01}
    assert type(opt) is pn.optimizers.Adam and opt.lr == 0.001


def test_an_engine_trains_the_model_a_direct_fit_trains(tiny, made, monkeypatch):
    monkeypatch.setattr(bench_fit, "torch_fit", lambda *args: None)
    engines, _ = bench_fit.engines_for(np, SMALL, tiny, None)
    engines["pyneuron numpy"]()
    X, labels = tiny["moons"]
    direct = pn.MLP([2, 3, 1], activation="relu", output="sigmoid", seed=0, backend="numpy", dtype="float32")
    direct.fit(X.astype(np.float32), labels, epochs=2, batch_size=16, optimizer=pn.optimizers.SGD(0.05))
    got, expected = made[-1]["model"].get_weights(), direct.get_weights()
    assert len(got) == len(expected)
    assert all(a.dtype == np.float32 and np.array_equal(a, b) for a, b in zip(got, expected))


def test_only_the_available_backends(tiny, monkeypatch):
    monkeypatch.setattr(bench_fit, "torch_fit", lambda *args: None)
    monkeypatch.setattr(backends, "available", lambda: ["scalar", "numpy"])
    engines, _ = bench_fit.engines_for(np, SMALL, tiny, None)
    assert set(engines) == {"pyneuron numpy"}


def test_the_hand_written_engine_gets_targets_and_options(tiny, monkeypatch):
    monkeypatch.setattr(bench_fit, "torch_fit", lambda *args: None)
    calls = []

    def reference(X, Y, sizes, output, epochs, batch, optimizer, lr, **options):
        calls.append((X, Y, sizes, output, epochs, batch, optimizer, lr, options))
        return [0.5] * 7                                        # one loss per step

    engines, _ = bench_fit.engines_for(np, SMALL, tiny, reference)
    assert engines["hand-written NumPy"]() == 7
    X, Y, *rest, options = calls[-1]
    assert X.dtype == np.float32 and Y.dtype == np.float32
    assert np.array_equal(Y, tiny["moons"][1].reshape(40, 1))
    assert rest == [[2, 3, 1], "sigmoid", 2, 16, "sgd", 0.05]
    assert options == {"l2": 0.0, "dropout": 0.0, "batch_norm": False}

    engines, _ = bench_fit.engines_for(np, OPTIONS, tiny, reference)
    engines["hand-written NumPy"]()
    X, Y, *rest, options = calls[-1]
    labels = tiny["digits"][1]
    expected = np.zeros((30, 3))
    expected[np.arange(30), labels] = 1.0                       # one-hot rows
    assert Y.dtype == np.float64 and np.array_equal(Y, expected)
    assert rest == [[4, 5, 3], "softmax", 1, 8, "adam", 0.001]
    assert options == {"l2": 0.01, "dropout": 0.25, "batch_norm": True}


def test_the_pytorch_engine(tiny, monkeypatch):
    asked, ran = [], []

    def fake_torch_fit(*args):
        asked.append(args)
        return (lambda *a: ran.append(a) or 11), "9.9"

    monkeypatch.setattr(bench_fit, "torch_fit", fake_torch_fit)
    engines, version = bench_fit.engines_for(np, OPTIONS, tiny, None)
    assert version == "9.9"
    assert asked == [(np, [4, 5, 3], "softmax", OPTIONS[6], "float64", "adam", 0.001)]
    assert engines["PyTorch eager"]() == 11
    (X, labels, epochs, batch), = ran
    assert np.array_equal(X, tiny["digits"][0]) and labels is tiny["digits"][1] and (epochs, batch) == (1, 8)


# ---------------------------------------------------------------- the printed table
def _fake_table(monkeypatch, reference, versions):
    calls = {"engines": [], "rounds": []}
    monkeypatch.setattr(bench_fit, "load_reference_fit", lambda: reference)
    monkeypatch.setattr(bench_fit, "datasets", lambda np: "DATA")
    versions = iter(versions)

    def engines_for(np_, case, data, ref):
        assert data == "DATA" and ref is reference
        calls["engines"].append(case[0])
        return {"anything": None}, next(versions)

    def interleaved(engines, rounds):
        calls["rounds"].append(rounds)
        # out of the table's order, without PyTorch: the table orders the columns itself
        return {"hand-written NumPy": figure(30, 40, 50), "pyneuron numpy": figure(20, 25, 40),
                "pyneuron c": figure(8, 10.049995, 13)}
    monkeypatch.setattr(bench_fit, "engines_for", engines_for)
    monkeypatch.setattr(bench_fit, "interleaved", interleaved)
    return calls


# c: 10.049995 µs prints 10.0 (µs = seconds · 10⁶ exactly); (10.05 - 8) / 10.05 = 20 %, (13 - 10.05) / 10.05 = 29 %
CELLS = "c 10.0 (-20/+29%); numpy 25.0 (-20/+60%); hand-written NumPy 40.0 (-25/+25%)"


def test_the_fit_table_text(monkeypatch):
    calls = _fake_table(monkeypatch, None, [None] * 7)
    lines = []
    results = bench_fit.fit_section(np, 5, lines.append)
    titles = [case[0] for case in bench_fit.CASES]
    assert lines == ["(2) training through model.fit (what a user feels): µs per step, median (spread), one thread",
                     "    (the hand-written NumPy loop lives in bench/ of a source checkout: not found here)"] + \
        [f"  {t}: {CELLS}" for t in titles] + ["  PyTorch: not installed, so not in the table", ""]
    assert calls == {"engines": titles, "rounds": [5] * 7}
    assert list(results) == titles
    assert results[titles[0]]["pyneuron c"].median == pytest.approx(10.049995e-6)


def test_the_quick_fit_table_with_pytorch(monkeypatch):
    calls = _fake_table(monkeypatch, object(), [None, "9.9", None])
    lines = []
    bench_fit.fit_section(np, 3, lines.append, quick=True)
    titles = [case[0] for case in bench_fit.CASES[:3]]
    assert calls["engines"] == titles
    assert lines == ["(2) training through model.fit (what a user feels): µs per step, median (spread), one thread"] + \
        [f"  {t}: {CELLS}" for t in titles] + [
        "  PyTorch 9.9: eager nn.Sequential, torch.optim, a Python loop over torch.randperm batches", ""]


# ---------------------------------------------------------------- the memory line
def test_the_memory_line(monkeypatch):
    rng = np.random.default_rng(0)
    X, labels = rng.standard_normal((6, 784)), np.array([0, 3, 9, 3, 1, 2])
    monkeypatch.setattr(bench_fit, "datasets", lambda np_: {"big": (X, labels)})
    built = []
    mib = 2 ** 20

    class Model:
        def __init__(self, sizes, **kwargs):
            built.append((sizes, kwargs))
            self.backend = kwargs["backend"]

        def fit(self, X_, y_, **kwargs):
            assert X_ is X and y_ is labels
            opt = kwargs.pop("optimizer")
            assert kwargs == {"epochs": 1, "batch_size": 128}
            assert type(opt) is pn.optimizers.Adam and opt.lr == 0.001
            block = bytearray({"c": 3, "numpy": 5}[self.backend] * mib)    # freed on return
            return len(block)

    def reference(X_, Y, sizes, output, epochs, batch, optimizer, lr):
        assert X_ is X and np.array_equal(Y, np.eye(10)[labels])
        assert (sizes, output, epochs, batch, optimizer, lr) == ([784, 256, 128, 10], "softmax", 1, 128, "adam", 0.001)
        block = bytearray(2 * mib)
        return [len(block)]

    monkeypatch.setattr(pn, "MLP", Model)
    monkeypatch.setattr(bench_fit, "load_reference_fit", lambda: reference)
    lines = []
    peaks = bench_fit.memory_line(np, lines.append)
    assert built == [([784, 256, 128, 10], {"output": "softmax", "seed": 0, "backend": b}) for b in ("c", "numpy")]
    assert list(peaks) == ["c", "numpy", "hand-written"]
    assert [peaks[k] for k in peaks] == pytest.approx([3.0, 5.0, 2.0], abs=0.01)
    assert lines == ["  peak memory growth of one epoch, 784 net, float64 (tracemalloc, MiB; the data itself is "
                     "outside): c 3.0, numpy 5.0, hand-written 2.0"]

    monkeypatch.setattr(bench_fit, "load_reference_fit", lambda: None)
    lines.clear()
    assert list(bench_fit.memory_line(np, lines.append)) == ["c", "numpy"]
    assert re.fullmatch(r".*: c 3\.0, numpy 5\.0", lines[0])

    # already tracing, with 4 MiB held from before: only the growth during fit counts
    tracemalloc.start()
    held = bytearray(4 * mib)
    try:
        assert list(bench_fit.memory_line(np, lines.append).values()) == pytest.approx([3.0, 5.0], abs=0.01)
    finally:
        tracemalloc.stop()
    assert len(held) == 4 * mib


# ---------------------------------------------------------------- PyTorch eager
@pytest.fixture
def recorded_torch(monkeypatch, request):
    return record_torch(monkeypatch, request)


def test_pytorch_eager_small_net_with_sgd(recorded_torch):
    torch, rec = recorded_torch
    run, version = bench_fit.torch_fit(np, [2, 3, 1], "sigmoid", {}, "float64", "sgd", 0.05)
    assert version == torch.__version__ and torch.get_num_threads() == 1
    X = np.random.default_rng(0).standard_normal((10, 2))
    labels = np.arange(10) % 2
    assert run(X, labels, 2, 4) == 2 * 3                        # 2 epochs of batches 4, 4, 2
    (net,) = rec["nets"]
    f64 = torch.float64
    assert layers(net) == [("Linear", 2, 3, f64), ("ReLU",), ("Linear", 3, 1, f64)]
    assert rec["opts"] == [("SGD", {"lr": 0.05, "weight_decay": 0.0})]
    bce = "binary_cross_entropy_with_logits"
    assert rec["losses"] == [(bce, (b, 1), f64, (b, 1), f64) for b in (4, 4, 2) * 2]
    torch.manual_seed(0)                                        # seeded with 0
    first, second = torch.nn.Linear(2, 3, dtype=f64), torch.nn.Linear(3, 1, dtype=f64)
    expected = [first.weight, first.bias, second.weight, second.bias]
    assert all(torch.equal(a, b) for a, b in zip(rec["initial"], expected))


def test_pytorch_eager_with_every_option(recorded_torch):
    torch, rec = recorded_torch
    options = {"l2": 0.01, "dropout": 0.25, "batch_norm": True}
    run, _ = bench_fit.torch_fit(np, [4, 5, 6, 3], "softmax", options, "float32", "adam", 0.001)
    X = np.random.default_rng(0).standard_normal((12, 4))
    assert run(X, np.arange(12) % 3, 1, 5) == 3
    f32 = torch.float32
    assert layers(rec["nets"][0]) == [
        ("Linear", 4, 5, f32), ("BatchNorm1d", 5, f32), ("ReLU",), ("Dropout", 0.25),
        ("Linear", 5, 6, f32), ("BatchNorm1d", 6, f32), ("ReLU",), ("Dropout", 0.25),
        ("Linear", 6, 3, f32)]
    assert rec["opts"] == [("Adam", {"lr": 0.001, "weight_decay": 0.01})]
    assert rec["losses"] == [("cross_entropy", (b, 3), f32, (b,), torch.int64) for b in (5, 5, 2)]


def test_pytorch_eager_without_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    assert bench_fit.torch_fit(np, [2, 1], "sigmoid", {}, "float64", "sgd", 0.1) is None


# ---------------------------------------------------------------- the data (slow: 10000 × 784 draws, scikit-learn)
def test_the_data_sets():
    data = bench_fit.datasets(np)
    Xm, ym = data["moons"]
    assert Xm.shape == (400, 2) and ym.shape == (400,) and ym.dtype.kind == "i"
    assert sorted(np.bincount(ym)) == [200, 200]
    Xd, yd = data["digits"]
    assert Xd.shape == (1437, 64) and yd.shape == (1437,) and set(yd) == set(range(10))
    Xb, yb = data["big"]
    rng = np.random.default_rng(1)              # 10000 standard normal rows, then labels 0..9
    assert np.array_equal(Xb, rng.standard_normal((10000, 784)))
    assert np.array_equal(yb, rng.integers(0, 10, 10000))
    assert yb.min() == 0 and yb.max() == 9
