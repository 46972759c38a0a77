"""pyneuron.cli in-process (issue 15 item 10: the mutation run of pyneuron/cli.py), beyond the
subprocess tests of tests/test_cli.py: each option parser on both sides of its bounds, every
command's checks at their boundary values, the defaults the help promises, what each command
hands to the library (the heavy calls are recorded by monkeypatch, or run at the cheapest
size), the exact lines it prints and its exit statuses. ``main`` is called directly, so a
test costs milliseconds; the one subprocess runs ``python -m pyneuron``."""
from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import cli

ROOT = Path(__file__).resolve().parents[1]
notebook = importlib.import_module("pyneuron.lessons.notebook")
explain_module = importlib.import_module("pyneuron.explain")
lessons_module = importlib.import_module("pyneuron.lessons")


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    """No progress bars (stderr holds only the CLI's own messages); no backend variable."""
    monkeypatch.setenv("PYNEURON_PROGRESS", "0")
    monkeypatch.setattr(cli, "_environment_error", lambda: None)


def run(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def refused(capsys, *argv):
    """The one stderr line of a refused command (status 2, nothing else on stderr)."""
    status, out, err = run(capsys, *argv)
    assert status == 2, (out, err)
    assert err.count("\n") == 1, err
    return err.rstrip("\n")


class Stream(io.StringIO):
    """stdout that remembers what had been flushed (``print(..., flush=True)``)."""
    flushed = ""

    def flush(self):
        self.flushed = self.getvalue()


@pytest.fixture
def made(monkeypatch):
    """Every MLP a command builds, with its constructor and ``fit`` arguments, what stdout had
    flushed when ``fit`` began, and the History it returned."""
    models = []

    class Recording(pn.MLP):
        def __init__(self, sizes, **kwargs):
            super().__init__(sizes, **kwargs)
            self.init_args = (list(sizes), kwargs)
            models.append(self)

        def fit(self, X, y, **kwargs):
            self.fit_kwargs = kwargs
            self.flushed_at_fit = getattr(sys.stdout, "flushed", None)
            self.history_returned = super().fit(X, y, **kwargs)
            return self.history_returned

    monkeypatch.setattr(pn, "MLP", Recording)
    return models


def fake_clock(monkeypatch, *times):
    monkeypatch.setattr(cli, "time", types.SimpleNamespace(perf_counter=iter(times).__next__))


def recorded_sizes(monkeypatch):
    """The ``check_sizes`` calls of a command (they still run)."""
    calls = []
    real = cli.check_sizes

    def record(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)
    monkeypatch.setattr(cli, "check_sizes", record)
    return calls


# ------------------------------------------------------------------------------ option parsers
def test_int_list():
    assert cli.int_list("16, 8") == [16, 8]
    assert cli.int_list("1") == [1]                   # 1 is the smallest width
    assert cli.int_list("3,,4,") == [3, 4]
    for text in ("", ",", "0", "4,0", "-2"):
        with pytest.raises(argparse.ArgumentTypeError,
                           match=rf"^expected positive integers such as 16,8, got {re.escape(repr(text))}$"):
            cli.int_list(text)
    with pytest.raises(argparse.ArgumentTypeError,
                       match=r"^expected comma-separated integers such as 16,8, got '4,a'$"):
        cli.int_list("4,a")


def test_float_rows():
    assert cli.float_rows("1,2") == [[1.0, 2.0]]
    assert cli.float_rows("1, 2; 0,-1.5;") == [[1.0, 2.0], [0.0, -1.5]]
    for text in ("", ";", "1,2;3"):
        with pytest.raises(argparse.ArgumentTypeError,
                           match=rf"^expected samples of equal length, got {re.escape(repr(text))}$"):
            cli.float_rows(text)
    with pytest.raises(argparse.ArgumentTypeError,
                       match=r"^expected numbers like 1,2 or 1,2;0,1 \(samples split by ;\), got '1,a'$"):
        cli.float_rows("1,a")


def test_float_list():
    assert cli.float_list("1, 0,") == [1.0, 0.0]
    with pytest.raises(argparse.ArgumentTypeError, match=r"^expected comma-separated numbers, got 'x'$"):
        cli.float_list("x")


def test_slope():
    assert cli.slope("0") == 0.0
    assert cli.slope("0.5") == 0.5
    assert cli.slope("1e300") == 1e300
    for text in ("-0.01", "nan", "inf", "-inf"):
        with pytest.raises(argparse.ArgumentTypeError,
                           match=rf"^expected a finite number >= 0 such as 0.01, got {re.escape(repr(text))}$"):
            cli.slope(text)
    with pytest.raises(argparse.ArgumentTypeError, match=r"^expected a number >= 0 such as 0.01, got 'a'$"):
        cli.slope("a")


def test_check_sizes_checks_every_array_it_will_allocate(monkeypatch):
    import pyneuron.validation as validation
    calls = []
    monkeypatch.setattr(validation, "check_array_fits", lambda *args: calls.append(args))
    cli.check_sizes(100, 2, [16, 8])
    assert calls == [((100, 2), "float64", "--samples"),
                     ((16, 2), "float64", "--hidden"), ((100, 16), "float64", "--hidden"),
                     ((8, 16), "float64", "--hidden"), ((100, 8), "float64", "--hidden")]
    calls.clear()
    cli.check_sizes(None, 3, [4, 1], hidden_flag="--layers")       # no samples: the weights only
    assert calls == [((4, 3), "float64", "--layers"), ((1, 4), "float64", "--layers")]
    calls.clear()
    cli.check_sizes(7)                                             # two features by default
    assert calls == [((7, 2), "float64", "--samples")]


def test_check_sizes_refuses_what_cannot_fit():
    with pytest.raises(ValueError, match="--samples"):
        cli.check_sizes(10**15)
    with pytest.raises(ValueError, match="--layers"):
        cli.check_sizes(None, 2, [10**15], hidden_flag="--layers")
    cli.check_sizes(10, 2, [3])                                    # small: nothing raised


def test_missing_backends_note(monkeypatch):
    monkeypatch.setattr(pn, "available_backends", lambda: ["scalar", "numpy"])
    monkeypatch.setattr(pn.backends, "unavailable_reason", lambda name: f"no {name} today")
    assert cli.missing_backends_note(pn) == ["(c is not available here: no c today)"]
    monkeypatch.setattr(pn, "available_backends", lambda: ["scalar", "numpy", "c"])
    assert cli.missing_backends_note(pn) == []


def test_take_plugins():
    assert cli.take_plugins(["--plugin", "m:A", "--plugin", "n:B=x", "demo", "--epochs", "1"]) == \
        (["demo", "--epochs", "1"], ["m:A", "n:B=x"])
    assert cli.take_plugins(["--plugin", "m:A"]) == ([], ["m:A"])
    assert cli.take_plugins(["--plugin"]) == (["--plugin"], [])      # no spec: left to the parser
    assert cli.take_plugins(["demo", "--plugin", "m:A"]) == (["demo", "--plugin", "m:A"], [])
    assert cli.take_plugins([]) == ([], [])


def test_backend_choices_add_the_registered_ones(monkeypatch):
    import pyneuron.backends as backends
    assert cli.backend_choices() == ["scalar", "numpy", "c"]
    monkeypatch.setattr(backends, "names", lambda: ["scalar", "numpy", "c", "mine"])
    assert cli.backend_choices() == ["scalar", "numpy", "c", "mine"]


def test_load_dataset_makes_each_named_set():
    ds = pn.datasets
    expected = {"moons": ds.make_moons(30, noise=0.1, seed=5),
                "circles": ds.make_circles(30, noise=0.1, seed=5),
                "xor": ds.make_xor(30, noise=0.1, seed=5),
                "spiral": ds.make_spiral(30, noise=0.1, seed=5),
                "tutorial-moons": ds.make_tutorial_moons(30, noise=0.1, seed=5),
                "tutorial-circles": ds.make_tutorial_circles(30, noise=0.1, seed=5),
                "tutorial-blobs": ds.make_tutorial_blobs(30, seed=5)}
    for name, (X, y) in expected.items():
        got_X, got_y = cli.load_dataset(name, 30, 0.1, 5)
        np.testing.assert_array_equal(got_X, X, err_msg=name)
        np.testing.assert_array_equal(got_y, y, err_msg=name)
    X, y = cli.load_dataset("blobs", 30, 0.1, 5)
    assert X.shape == (30, 2) and sorted(set(y.tolist())) == [0, 1, 2]      # three blobs
    assert set(cli.DATASETS) == {*expected, "blobs", "digits"}


# ------------------------------------------------------------------------------ the parser
def subparsers():
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return parser, action.choices


@pytest.mark.parametrize("command", ["demo", "train", "explain"])
def test_every_default_is_the_one_the_help_promises(command):
    _, commands = subparsers()
    promised = 0
    for action in commands[command]._actions:
        found = re.search(r"\(default ([-0-9.,]+)[;)]", action.help or "")
        if not found:
            continue
        promised += 1
        text = found.group(1)
        if "," in text:                                   # --hidden
            assert action.default == [int(v) for v in text.split(",")], action.dest
        else:
            assert action.default == float(text), action.dest
    assert promised == {"demo": 5, "train": 13, "explain": 3}[command]


def test_explain_needs_x():
    _, commands = subparsers()
    with pytest.raises(SystemExit) as exit_:
        commands["explain"].parse_args(["--layers", "2,1"])
    assert exit_.value.code == 2


def test_bench_leaves_its_help_to_the_report():
    parser, _ = subparsers()
    args, rest = parser.parse_known_args(["bench", "--help"])      # not argparse's own help
    assert args.command == "bench" and rest == ["--help"]


# ------------------------------------------------------------------------------ main
def test_main_reads_sys_argv(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["pyneuron", "lessons"])
    assert cli.main() == 0
    assert "  03  xor" in capsys.readouterr().out


def test_no_command_prints_the_help(capsys):
    status, out, _ = run(capsys)
    assert status == 0 and out.startswith("usage: pyneuron")


def test_a_bad_backend_variable_stops_every_command(monkeypatch, capsys):
    monkeypatch.setattr(cli, "_environment_error", lambda: "PYNEURON_BACKEND='gpu' is no backend")
    calls = []
    monkeypatch.setattr(cli, "_bench", lambda rest: calls.append(rest) or 0)
    assert refused(capsys, "lessons") == "pyneuron lessons: error: PYNEURON_BACKEND='gpu' is no backend"
    assert refused(capsys, "bench", "--quick") == "pyneuron bench: error: PYNEURON_BACKEND='gpu' is no backend"
    assert calls == []


def test_bench_delegates_the_rest(monkeypatch, capsys):
    import pyneuron.bench_report as bench_report
    calls = []
    monkeypatch.setattr(bench_report, "main", lambda rest: calls.append(rest) or 7)
    assert cli.main(["bench", "--quick", "x"]) == 7
    assert calls == [["--quick", "x"]]
    assert cli.main(["bench"]) == 7 and calls[-1] == []


def test_bench_without_its_report(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyneuron.bench_report", None)
    status, _, err = run(capsys, "bench")
    assert status == 2 and err.startswith("pyneuron bench: the benchmark report is not available (")


def test_bench_after_a_plugin(monkeypatch, capsys):
    import pyneuron.bench_report as bench_report
    import pyneuron.compare as compare
    monkeypatch.setattr(compare, "load_plugin", lambda spec: "mine")
    calls = []
    monkeypatch.setattr(bench_report, "main", lambda rest: calls.append(rest) or 0)
    assert cli.main(["--plugin", "m:A", "bench", "--quick"]) == 0
    assert calls == [["--quick"]]


def test_plugins_are_loaded_before_the_command(monkeypatch, capsys):
    import pyneuron.compare as compare
    loaded = []
    monkeypatch.setattr(compare, "load_plugin", loaded.append)
    status, out, _ = run(capsys, "--plugin", "m:A", "--plugin", "n:B=x", "lessons")
    assert status == 0 and loaded == ["m:A", "n:B=x"] and "  03  xor" in out


def test_a_plugin_that_fails_is_one_line(capsys):
    assert refused(capsys, "--plugin", "nocolon", "lessons") == \
        "pyneuron: error: --plugin: expected MODULE:ATTR or MODULE:ATTR=NAME, got 'nocolon'"


@pytest.mark.parametrize("error, line", [
    (ValueError("first line\nsecond line"), "first line"),
    (OSError(), "OSError"),
    (cli.CommandError("--x: expected 1"), "--x: expected 1"),
])
def test_errors_become_one_message(monkeypatch, capsys, error, line):
    def fail(args):
        raise error
    monkeypatch.setitem(cli.COMMANDS, "lessons", fail)
    status, out, err = run(capsys, "lessons")
    assert status == 2 and out == "" and err == f"pyneuron lessons: error: {line}\n"


def test_python_dash_m_pyneuron_runs_the_command_line():
    done = subprocess.run([sys.executable, "-m", "pyneuron", "--version"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"pyneuron {pn.__version__} (distribution pyneuron-mlp)\n"


# ------------------------------------------------------------------------------ demo
def test_demo_checks_each_option_at_its_bound(monkeypatch, capsys):
    monkeypatch.setattr(cli, "check_sizes", lambda *a: (_ for _ in ()).throw(cli.CommandError("sizes")))
    # the bounds themselves pass the checks (and reach check_sizes, which stops the run here)
    assert refused(capsys, "demo", "--epochs", "1", "--batch-size", "1", "--lr", "1e-9", "--samples", "10") \
        == "pyneuron demo: error: sizes"
    assert refused(capsys, "demo", "--lr", "0.5") == "pyneuron demo: error: sizes"
    assert refused(capsys, "demo", "--epochs", "0") == "pyneuron demo: error: --epochs: expected an integer >= 1, got 0"
    assert refused(capsys, "demo", "--batch-size", "0") == \
        "pyneuron demo: error: --batch-size: expected an integer >= 1, got 0"
    assert refused(capsys, "demo", "--lr", "0") == "pyneuron demo: error: --lr: expected a number > 0, got 0.0"
    assert refused(capsys, "demo", "--lr", "nan") == "pyneuron demo: error: --lr: expected a number > 0, got nan"
    assert refused(capsys, "demo", "--samples", "9") == \
        "pyneuron demo: error: --samples: expected an integer >= 10 (a fifth is kept for testing), got 9"


def test_demo_on_one_backend(monkeypatch, capsys, made):
    sizes = recorded_sizes(monkeypatch)
    moons = []
    real_moons = pn.datasets.make_moons
    monkeypatch.setattr(pn.datasets, "make_moons", lambda *a, **k: moons.append((a, k)) or real_moons(*a, **k))
    monkeypatch.setattr(cli, "missing_backends_note", lambda pn: ["(z is not available here: why)"])
    fake_clock(monkeypatch, 100.0, 100.25)
    stream = Stream()
    monkeypatch.setattr(sys, "stdout", stream)
    assert cli.main(["demo", "--backend", "numpy", "--epochs", "2", "--samples", "20", "--seed", "3",
                     "--batch-size", "4", "--lr", "0.3"]) == 0
    assert sizes == [((20, 2, [16, 8]), {})]
    assert moons == [((20,), {"noise": 0.2, "seed": 3})]
    [model] = made
    assert model.init_args == ([2, 16, 8, 1], {"activation": "relu", "output": "sigmoid", "seed": 3,
                                               "backend": "numpy"})
    assert model.fit_kwargs["epochs"] == 2 and model.fit_kwargs["batch_size"] == 4 and model.fit_kwargs["lr"] == 0.3
    header = ("two moons: 16 training and 4 test samples; network 2-16-8-1 relu/sigmoid, SGD lr 0.3, "
              "batch 4, 2 epochs\n"
              "backend   test accuracy   train time\n")
    assert model.flushed_at_fit == header                 # said before the slow part
    X, y = real_moons(20, noise=0.2, seed=3)
    _, X_te, _, y_te = pn.datasets.train_test_split(X, y, test_size=0.2, seed=3)
    accuracy = np.mean(model.predict(X_te) == y_te)
    row = f"numpy    {accuracy * 100:12.1f}%       0.250s\n"
    assert stream.getvalue() == header + row              # one row; no note about other backends
    assert stream.flushed == stream.getvalue()


def test_demo_on_every_backend(monkeypatch, capsys, made):
    monkeypatch.setattr(pn, "available_backends", lambda: ["scalar", "numpy"])
    monkeypatch.setattr(cli, "missing_backends_note", lambda pn: ["(z is not available here: why)"])
    stream = Stream()
    monkeypatch.setattr(sys, "stdout", stream)
    assert cli.main(["demo", "--epochs", "1", "--samples", "10"]) == 0
    lines = stream.getvalue().splitlines()
    assert lines[1] == "(z is not available here: why)"
    assert [line.split()[0] for line in lines[3:]] == ["scalar", "numpy"]
    assert [m.init_args[1]["backend"] for m in made] == ["scalar", "numpy"]
    assert made[1].flushed_at_fit.endswith(lines[3] + "\n")     # the first row was shown at once


# ------------------------------------------------------------------------------ train
TINY = ["train", "--samples", "20", "--hidden", "3", "--epochs", "2", "--backend", "numpy"]


@pytest.mark.parametrize("args, message", [
    (["--patience", "2"], "--patience watches the validation loss: add --validation-split (e.g. 0.2)"),
    (["--epochs", "0"], "--epochs: expected an integer >= 1, got 0"),
    (["--batch-size", "-1"], "--batch-size: expected an integer >= 0 (0 = full batch), got -1"),
    (["--print-every", "0"], "--print-every: expected an integer >= 1, got 0"),
    (["--l2", "-0.5"], "--l2: expected a number >= 0, got -0.5"),
    (["--l2", "nan"], "--l2: expected a number >= 0, got nan"),
    (["--samples", "9"], "--samples: expected an integer >= 10, got 9"),
])
def test_train_refuses(capsys, made, args, message):
    assert refused(capsys, *TINY, *args) == f"pyneuron train: error: {message}"
    assert made == []


def test_train_accepts_each_bound(monkeypatch, capsys):
    sizes = recorded_sizes(monkeypatch)
    stop = cli.CommandError("stop")
    monkeypatch.setattr(cli, "load_dataset", lambda *a: (_ for _ in ()).throw(stop))
    ok = ["--epochs", "1", "--batch-size", "0", "--print-every", "1", "--l2", "0", "--samples", "10"]
    assert refused(capsys, *TINY, *ok) == "pyneuron train: error: stop"
    assert refused(capsys, *TINY, "--l2", "0.5", "--patience", "1", "--validation-split", "0.2") == \
        "pyneuron train: error: stop"
    assert refused(capsys, *TINY, "--dataset", "digits", "--samples", "3", "--hidden", "5,4") == \
        "pyneuron train: error: stop"                                  # --samples means nothing for digits
    assert sizes == [((10, 2, [3]), {}), ((20, 2, [3]), {}), ((1797, 64, [5, 4]), {})]


def two_class_data(n_features, n=40):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, n_features))
    return X, (X[:, 0] > 0).astype(int)


def test_train_binary(monkeypatch, capsys, made, tmp_path):
    fake_clock(monkeypatch, 10.0, 12.5)
    stream = Stream()
    monkeypatch.setattr(sys, "stdout", stream)
    assert cli.main([*TINY, "--epochs", "7", "--print-every", "3", "--seed", "1",
                     "--save", str(tmp_path / "m")]) == 0
    out = stream.getvalue()
    [model] = made
    assert model.init_args[0] == [2, 3, 1] and model.init_args[1]["output"] == "sigmoid"
    assert model.fit_kwargs["batch_size"] == 32 and model.fit_kwargs["early_stopping"] is None
    adam = pn.optimizers.get("adam", lr=0.01)
    header = ("moons: 16 training and 4 test samples (inputs standardized); network 2-3-1 relu/sigmoid, "
              f"{adam!r}, batch 32, 7 epochs, backend numpy\n")
    assert model.flushed_at_fit == header
    assert out.startswith(header)
    epochs = re.findall(r"^  epoch +(\d+)/7  loss \d\.\d{4}  accuracy \d\.\d{4}$", out, re.M)
    assert epochs == ["1", "3", "6", "7"]                  # the first, every third, the last
    assert "early stopping" not in out
    assert "\ntrained in 2.50s; test set:\n" in out
    X, y = pn.datasets.make_moons(20, noise=0.2, seed=1)
    X_tr, X_te, _, y_te = pn.datasets.train_test_split(X, y, test_size=0.2, seed=1)
    mean, scale = X_tr.mean(axis=0), X_tr.std(axis=0)
    for key, value in model.evaluate((X_te - mean) / scale, y_te).items():
        assert f"\n  {key:<10} {value:.4f}\n" in out
    shown = f"mean {[round(float(v), 4) for v in mean]}, scale {[round(float(v), 4) for v in scale]}"
    assert f"  model saved to {tmp_path / 'm.npz'}, with its input standardizer ({shown}): " in out
    np.testing.assert_allclose(pn.load(tmp_path / "m.npz").standardizer.mean_, mean)


def test_train_full_batch_with_early_stopping(capsys, made):
    status, out, _ = run(capsys, *TINY, "--batch-size", "0", "--epochs", "30", "--patience", "2",
                         "--validation-split", "0.25", "--lr", "0.5", "--optimizer", "sgd")
    assert status == 0
    [model] = made
    assert model.fit_kwargs["batch_size"] is None and ", batch full, " in out
    assert model.fit_kwargs["validation_split"] == 0.25 and model.fit_kwargs["early_stopping"].patience == 2
    history = model.history_returned
    assert history.best_epoch is not None
    assert f"  early stopping: best epoch {history.best_epoch} of {len(history.epoch)} (weights restored)\n" in out


def test_train_passes_every_option_on(capsys, made):
    status, _, _ = run(capsys, *TINY, "--activation", "leaky_relu", "--negative-slope", "0.2",
                       "--dropout", "0.1", "--l2", "0.01", "--seed", "4", "--optimizer", "momentum", "--lr", "0.2")
    assert status == 0
    [model] = made
    assert model.init_args == ([2, 3, 1], {"activation": "leaky_relu", "output": "sigmoid", "seed": 4,
                                           "backend": "numpy", "dropout": 0.1, "negative_slope": 0.2})
    assert model.fit_kwargs["l2"] == 0.01 and model.fit_kwargs["optimizer"].lr == 0.2
    assert type(model.fit_kwargs["optimizer"]).__name__ == "Momentum"


def test_train_three_classes_is_softmax(monkeypatch, capsys, made):
    status, out, _ = run(capsys, *TINY, "--dataset", "blobs", "--samples", "30")
    assert status == 0
    [model] = made
    assert model.init_args[0] == [2, 3, 3] and model.init_args[1]["output"] == "softmax"
    assert "network 2-3-3 relu/softmax" in out


@pytest.mark.parametrize("n_features, boundary", [(2, True), (3, False)])
def test_train_plots(monkeypatch, capsys, tmp_path, n_features, boundary):
    from pyneuron import plot
    events = []
    monkeypatch.setattr(plot, "require_matplotlib", lambda: events.append("require"))
    monkeypatch.setattr(plot, "plot_history", lambda history, path, title: events.append(("history", path, title)))
    monkeypatch.setattr(plot, "plot_decision_boundary",
                        lambda model, X, y, path, title: events.append(("boundary", path, title, X.shape)))
    monkeypatch.setattr(cli, "load_dataset", lambda *a: events.append("data") or two_class_data(n_features))
    where = tmp_path / "plots"
    where.mkdir()                                          # already there: used as it is
    status, out, _ = run(capsys, *TINY, "--dataset", "blobs", "--plot", str(where))
    assert status == 0
    expected = ["require", "data", ("history", str(where / "history.png"), "blobs")]
    if boundary:
        expected.append(("boundary", str(where / "decision_boundary.png"),
                         "blobs (test points, standardized)", (8, 2)))
    assert events == expected
    assert f"  saved {where / 'history.png'}\n" in out
    assert (f"  saved {where / 'decision_boundary.png'}\n" in out) is boundary


# ------------------------------------------------------------------------------ explain
@pytest.fixture
def explained(monkeypatch):
    """The (model, X, y, lr) each ``explain`` command hands to pyneuron.explain."""
    calls = []
    monkeypatch.setattr(explain_module, "explain",
                        lambda model, X, y, lr: calls.append((model, X, y, lr)) or "THE CALCULATION")
    return calls


SEED003 = [[[0.1, 0.2], [0.3, 0.4]], [0.1, 0.2], [[0.5, 0.6]], [0.3]]


def test_explain_given_weights(monkeypatch, capsys, explained):
    sizes = recorded_sizes(monkeypatch)
    status, out, _ = run(capsys, "explain", "--layers", "2,2,1", "--weights", json.dumps(SEED003),
                         "--x", "1,2", "--y", "1", "--lr", "0.5", "--backend", "scalar")
    assert status == 0 and out == "THE CALCULATION\n"
    assert sizes == [((None, 2, [2, 1]), {"hidden_flag": "--layers"})]
    [(model, X, y, lr)] = explained
    for got, want in zip(model.get_weights(), SEED003):
        np.testing.assert_array_equal(got, np.array(want))
    assert model.layer_sizes == [2, 2, 1] and model.backend == "scalar" and lr == 0.5
    np.testing.assert_array_equal(X, [[1.0, 2.0]])
    assert y.dtype == np.int64 and y.tolist() == [1]            # a label, one per sample


def test_explain_random_weights_from_the_options(monkeypatch, capsys, explained, made):
    sizes = recorded_sizes(monkeypatch)
    status, _, _ = run(capsys, "explain", "--layers", "3,4,2", "--activation", "leaky_relu",
                       "--negative-slope", "0.3", "--output", "linear", "--seed", "9",
                       "--x", "1,2,3", "--y", "0.5,-1.5")
    assert status == 0
    assert sizes == [((None, 3, [4, 2]), {"hidden_flag": "--layers"})]      # inputs first, then the layers
    assert made[0].init_args == ([3, 4, 2], {"activation": "leaky_relu", "output": "linear", "seed": 9,
                                             "backend": None, "negative_slope": 0.3})
    [(model, X, y, lr)] = explained
    assert model.backend is None and lr == 0.1
    np.testing.assert_array_equal(y, [[0.5, -1.5]])             # two outputs of one sample, as floats
    assert y.dtype == np.float64


@pytest.mark.parametrize("layers, output, x, y, expected", [
    ("3,2,2", "sigmoid", "1,2,3;0,0,1", "1,0,0,1", [[1, 0], [0, 1]]),     # multi-label: a row per sample
    ("3,2,2", "softmax", "1,2,3;0,0,1", "1,0", [1, 0]),                    # classes: one label per sample
    ("3,2,2", "sigmoid", "1,2,3;0,0,1", "1,0", [1, 0]),                    # not outputs x samples: as given
    ("2,2,1", "sigmoid", "1,2;3,4", "1,0", [1, 0]),                        # one output: one label per sample
    ("2,2,1", "linear", "1,2", "0.5", [0.5]),
])
def test_explain_shapes_the_targets(capsys, explained, layers, output, x, y, expected):
    status, _, _ = run(capsys, "explain", "--layers", layers, "--output", output, "--x", x, "--y", y)
    assert status == 0
    got = explained[0][2]
    assert got.shape == np.shape(expected) and got.tolist() == expected


@pytest.mark.parametrize("args, message", [
    (["--x", "1,2", "--y", "1"], "give the network: --layers 2,2,1 (with --weights, or random weights from "
                                 "--seed), or --model FILE.npz"),
    (["--layers", "2,2,1", "--x", "1,2"], "give the targets with --y, e.g. --y 1 (one per sample, comma-separated)"),
    (["--layers", "2,2,1", "--x", "1,2", "--y", "0.5"], "--y: expected class labels for a classifier, got [0.5]"),
    (["--layers", "2,2,1", "--x", "1,2", "--y", "1", "--weights", "[1"],
     "--weights: not valid JSON (Expecting ',' delimiter at character 2)"),
    (["--layers", "2,2,1", "--x", "1,2", "--y", "1", "--weights", '{"W": 1}'],
     "--weights: expected a JSON list [W1, b1, W2, b2, ...]"),
    (["--layers", "2,2,1", "--model", "m.npz", "--x", "1,2", "--y", "1"], "give either --model or "
                                                                          "--layers/--weights, not both"),
    (["--weights", "[]", "--model", "m.npz", "--x", "1,2", "--y", "1"], "give either --model or "
                                                                        "--layers/--weights, not both"),
])
def test_explain_refuses(capsys, explained, args, message):
    assert refused(capsys, "explain", *args) == f"pyneuron explain: error: {message}"
    assert explained == []


def test_explain_a_saved_model_on_its_standardized_inputs(capsys, explained, tmp_path):
    model = pn.MLP([2, 2, 1], seed=0)
    model.standardizer = pn.datasets.Standardizer().fit(np.array([[0.0, 0.0], [2.0, 4.0]]))  # mean 1,2; scale 1,2
    model.save(tmp_path / "m.npz")
    status, out, _ = run(capsys, "explain", "--model", str(tmp_path / "m.npz"), "--x", "3,6", "--y", "1",
                         "--backend", "scalar")
    assert status == 0
    assert out == ("(the model was trained on standardized inputs: --x is standardized with the statistics "
                   "saved beside it before the calculation)\nTHE CALCULATION\n")
    [(loaded, X, y, _)] = explained
    np.testing.assert_array_equal(X, [[2.0, 2.0]])
    assert loaded.backend == "scalar"
    for got, want in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_explain_a_saved_model_without_a_standardizer(capsys, explained, tmp_path):
    pn.MLP([2, 1], seed=0).save(tmp_path / "m.npz")
    status, out, _ = run(capsys, "explain", "--model", str(tmp_path / "m.npz"), "--x", "3,6", "--y", "1")
    assert status == 0 and out == "THE CALCULATION\n"
    np.testing.assert_array_equal(explained[0][1], [[3.0, 6.0]])
    assert explained[0][0].backend is None


# ------------------------------------------------------------------------------ lessons
@pytest.fixture
def lesson_runs(monkeypatch):
    calls = []
    monkeypatch.setattr(lessons_module, "run", lambda name, argv: calls.append((name, argv)))
    return calls


def test_lessons_list(capsys, lesson_runs):
    status, out, _ = run(capsys, "lessons")
    lines = out.splitlines()
    assert status == 0 and lesson_runs == []
    assert lines[0].startswith("The tutorials as lessons, in learning order (run one: pyneuron lessons NAME")
    assert lines[3] == "  03  xor" + " " * 18 + lessons_module.find("xor")[2]       # names padded to 20
    assert len(lines) == 1 + len(lessons_module.LESSONS)


def test_lessons_run_hands_the_options_on(capsys, lesson_runs):
    assert cli.main(["lessons", "--backend", "scalar", "--fast", "--out", "figs", "03", "--seed", "2"]) == 0
    assert cli.main(["lessons", "perceptron"]) == 0
    assert lesson_runs == [("03", ["--seed", "2", "--backend", "scalar", "--fast", "--out", "figs"]),
                           ("perceptron", [])]


@pytest.mark.parametrize("args, message", [
    (["--open"], "--open opens a lesson's notebook: pyneuron lessons --notebook NAME --open"),
    (["--notebook", "xor", "xor"], "give the lesson once: pyneuron lessons --notebook NAME [--out DIR]"),
    (["nonsense"], "lesson: no lesson called 'nonsense'; choose one of 01_single_neuron, "),
])
def test_lessons_refuses(capsys, lesson_runs, args, message):
    assert refused(capsys, "lessons", *args).startswith(f"pyneuron lessons: error: {message}")
    assert lesson_runs == []


@pytest.fixture
def notebooks(monkeypatch):
    """What ``lessons --notebook`` writes and opens (nothing is written or opened)."""
    calls = []

    def write(name, directory, backend, fast):
        calls.append(("write", name, directory, backend, fast))
        number, lesson, _ = lessons_module.find(name)
        return os.path.join(directory, f"{number}_{lesson}.ipynb")
    monkeypatch.setattr(notebook, "write", write)
    monkeypatch.setattr(notebook, "open_in_jupyter", lambda path: calls.append(("open", path)) or 5)
    return calls


def test_notebook_written(capsys, notebooks):
    status, out, _ = run(capsys, "lessons", "--notebook", "xor")
    assert status == 0
    assert notebooks == [("write", "xor", ".", "numpy", False)]
    path = os.path.join(".", "03_xor.ipynb")
    assert out == f"wrote {path}  (open it with: pyneuron lessons --notebook xor --open, or jupyter lab {path})\n"


def test_notebook_all_with_options(capsys, notebooks, tmp_path):
    (tmp_path / "03_xor.ipynb").write_text("{}")           # there, but not opened: written again
    status, out, _ = run(capsys, "lessons", "--notebook", "all", "--out", str(tmp_path), "--backend", "c", "--fast")
    assert status == 0
    assert notebooks == [("write", name, str(tmp_path), "c", True) for _, name, _ in lessons_module.LESSONS]
    assert out.count("wrote ") == len(lessons_module.LESSONS)


def test_notebook_opened(capsys, notebooks, tmp_path):
    status, out, _ = run(capsys, "lessons", "--notebook", "03", "--out", str(tmp_path), "--open")
    assert status == 5                                     # the status of the notebook server
    path = str(tmp_path / "03_xor.ipynb")
    assert notebooks == [("write", "03", str(tmp_path), "numpy", False), ("open", path)]
    assert out == f"wrote {path}\n"


def test_notebook_already_there_is_opened_as_it_is(capsys, notebooks, tmp_path):
    (tmp_path / "03_xor.ipynb").write_text("{}")
    status, out, _ = run(capsys, "lessons", "--notebook", "xor", "--out", str(tmp_path), "--open")
    assert status == 5
    path = str(tmp_path / "03_xor.ipynb")
    assert notebooks == [("open", path)]
    assert out == f"{path} is already there: opening it as it is (delete it for a fresh copy)\n"


def test_notebook_all_opens_the_folder(capsys, notebooks, tmp_path):
    assert cli.main(["lessons", "--notebook", "all", "--out", str(tmp_path), "--open"]) == 5
    assert notebooks[-1] == ("open", str(tmp_path))
    assert len(notebooks) == len(lessons_module.LESSONS) + 1


def test_notebook_of_an_unknown_lesson_writes_nothing(capsys, notebooks):
    assert refused(capsys, "lessons", "--notebook", "nonsense").startswith(
        "pyneuron lessons: error: lesson: no lesson called 'nonsense'")
    assert notebooks == []
