"""pyneuron.lessons._common beyond test_learner_progress: what the mutation run
(.ci/mutation.py pyneuron/lessons/_common.py, issue 15 item 10) showed untested — the
command line's defaults, which seeds a text cites and how they are explained, the opening
lines parse prints (title paragraph, a lesson not yet imported, one run as __main__, the
backend marked), saving and showing figures in and out of a notebook, and seed 003's
split (its printed class counts)."""
from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import lessons
from pyneuron.lessons import _common


def test_parser_defaults_and_options():
    p = _common.parser("A lesson.")
    args = p.parse_args([])
    assert (args.backend, args.fast, args.out) == (None, False, None)
    args = p.parse_args(["--backend", "scalar", "--fast", "--out", "figs"])
    assert (args.backend, args.fast, args.out) == ("scalar", True, "figs")
    with pytest.raises(SystemExit):
        p.parse_args(["--backend", "nope"])


@pytest.mark.parametrize("text, seeds", [(None, []), ("", []), ("Seed 002; seed 002", ["002"]),
                                         ("seeds 004 and 001, seed 004", ["004", "001"])])
def test_cited_seeds_once_each(text, seeds):
    assert _common.cited_seeds(text) == seeds


def test_a_seed_named_twice_in_one_list_is_cited_once():
    assert _common.cited_seeds("seeds 001, 001 and 004") == ["001", "004"]


def test_seed_lines():
    assert _common.seed_lines("no tutorial") == []
    header = "  (a \"seed\" is one of the five tutorials pyneuron grew from; this lesson follows:)"
    assert _common.seed_lines("seed 999") == [header]
    assert _common.seed_lines("seeds 003 and 000") == [header, f"    seed 003: {_common.SEEDS['003']}",
                                                       f"    seed 000: {_common.SEEDS['000']}"]


# ---------------------------------------------------------------------------- parse
@pytest.fixture
def measured(monkeypatch):
    """Lesson xor's expected times, fixed for the test."""
    monkeypatch.setitem(lessons.EXPECTED_SECONDS, "xor", {"full": {"scalar": 2.0, "numpy": 3.0, "c": 4.0},
                                                          "fast": {"numpy": 1.0}})


def fake_lesson(monkeypatch, name, doc, spec_name=None):
    module = types.ModuleType(name, doc)
    module.__spec__ = types.SimpleNamespace(name=spec_name) if spec_name else None
    monkeypatch.setitem(sys.modules, name, module)
    return module


def test_parse_prints_the_first_paragraph_the_seeds_and_the_time(monkeypatch, capsys, measured):
    fake_lesson(monkeypatch, "m2_lesson", "Lesson 3:   XOR\n  in one line.\n\nFollows seed 003.",
                spec_name="pyneuron.lessons.xor")      # e.g. run as __main__: the spec names it
    pn.set_backend("scalar")
    args = _common.parse(_common.parser("x"), ["--backend", "numpy"], "m2_lesson")
    assert args.backend == "numpy"
    assert capsys.readouterr().out.splitlines() == [
        "Lesson 3: XOR in one line.",
        *_common.seed_lines("seed 003"),
        lessons.expected_time("xor", False, "numpy")]
    assert "numpy about 3 s ← this run" in lessons.expected_time("xor", False, "numpy")


def test_parse_marks_the_global_backend_and_the_fast_setting(monkeypatch, capsys, measured):
    fake_lesson(monkeypatch, "pyneuron.lessons.xor", "Lesson 3.")
    pn.set_backend("numpy")
    _common.parse(_common.parser("x"), ["--fast"], "pyneuron.lessons.xor")
    assert capsys.readouterr().out == "Lesson 3.\n  expected time with --fast (CPU time on one core): " \
                                      "numpy about 1 s ← this run\n"


def test_parse_of_an_unmeasured_lesson_without_a_docstring(monkeypatch, capsys):
    fake_lesson(monkeypatch, "m2_lessons.single_neuron", None)
    monkeypatch.setitem(lessons.EXPECTED_SECONDS, "single_neuron", {})
    _common.parse(_common.parser("x"), [], "m2_lessons.single_neuron")
    assert capsys.readouterr().out == "\n"


def test_parse_imports_a_lesson_not_yet_loaded(monkeypatch, capsys, measured):
    module = sys.modules.get("pyneuron.lessons.xor") or __import__("importlib").import_module("pyneuron.lessons.xor")
    monkeypatch.delitem(sys.modules, "pyneuron.lessons.xor")
    _common.parse(_common.parser("x"), [], "pyneuron.lessons.xor")
    first = capsys.readouterr().out.splitlines()[0]
    assert first == " ".join(module.__doc__.split("\n\n")[0].split())
    assert "pyneuron.lessons.xor" in sys.modules


def test_parse_flushes_each_opening_line(monkeypatch, measured):
    """A lesson's first lines show at once, before its long computation, also when the
    output is a pipe (block-buffered): the title and the time line are flushed."""
    events = []

    class Recorder:
        def write(self, text):
            events.append(("write", text))

        def flush(self):
            events.append(("flush", None))

    fake_lesson(monkeypatch, "pyneuron.lessons.xor", "Lesson 3.")
    monkeypatch.setattr(sys, "stdout", Recorder())
    _common.parse(_common.parser("x"), [], "pyneuron.lessons.xor")
    writes = [i for i, (kind, _) in enumerate(events) if kind == "write" and events[i][1] != "\n"]
    assert [events[i][1] for i in writes] == ["Lesson 3.", lessons.expected_time("xor", False, pn.get_backend())]
    for i in writes:                                  # each line: its text, its newline, a flush
        assert events[i + 1:i + 3] == [("write", "\n"), ("flush", None)]


def test_parse_checks_the_backend_only_when_given(monkeypatch):
    asked = []
    monkeypatch.setattr(pn.backends, "get", lambda name: asked.append(name))
    _common.parse(_common.parser("x"), [])
    assert asked == []
    _common.parse(_common.parser("x"), ["--backend", "c"])
    assert asked == ["c"]


def test_heading_and_note(capsys):
    _common.heading("Step 2")
    _common.note("the tutorial prints 0.5")
    assert capsys.readouterr().out == "\nStep 2\n------\n  note: the tutorial prints 0.5\n"


# ---------------------------------------------------------------------------- save
def test_save_outside_a_notebook_without_out_draws_nothing(monkeypatch):
    monkeypatch.setattr(_common, "in_notebook", lambda: False)
    calls = []
    assert _common.save(types.SimpleNamespace(out=None), "f.png", calls.append) is None
    assert calls == []


def test_save_writes_into_out_even_when_it_exists(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(_common, "in_notebook", lambda: False)
    calls = []
    out = tmp_path / "figs"
    for _ in range(2):                                     # the second time the folder exists
        path = _common.save(types.SimpleNamespace(out=str(out)), "f.png", calls.append)
        assert path == str(out / "f.png")
    assert calls == [path, path] and out.is_dir()
    assert capsys.readouterr().out == f"  figure saved: {path}\n" * 2


def test_save_without_matplotlib_says_so_and_carries_on(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(_common, "in_notebook", lambda: False)

    def draw(path):
        raise ImportError("no matplotlib")

    assert _common.save(types.SimpleNamespace(out=str(tmp_path)), "f.png", draw) is None
    assert capsys.readouterr().out == "  (figure f.png skipped: no matplotlib)\n"


def test_save_in_a_notebook_shows_the_figure(monkeypatch, capsys):
    monkeypatch.setattr(_common, "in_notebook", lambda: True)
    shown = []
    monkeypatch.setitem(sys.modules, "IPython.display", types.SimpleNamespace(display=shown.append))
    assert _common.save(types.SimpleNamespace(out=None), "f.png", lambda path: ("figure", path)) is None
    assert shown == [("figure", None)]

    def draw(path):
        raise ImportError("no matplotlib")

    _common.save(types.SimpleNamespace(out=None), "g.png", draw)
    assert shown == [("figure", None)]
    assert capsys.readouterr().out == "  (figure g.png not shown: no matplotlib)\n"


# ---------------------------------------------------------------------------- seed 003's split
def test_tutorial_split_gives_seed_003s_training_counts():
    X, y = pn.datasets.make_tutorial_moons()
    X_train, X_test, y_train, y_test = _common.tutorial_split(X, y)
    assert len(y_test) == 100 and len(y_train) == 400
    assert np.bincount(y_train).tolist() == [201, 199]        # as seed 003 prints them
    order = np.random.RandomState(42).permutation(500)          # seed 003's split: seed 42, 100 test rows
    assert np.array_equal(X_test, X[order[:100]]) and np.array_equal(y_train, y[order[100:]])


def test_tutorial_split_size_and_seed():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    order = np.random.RandomState(3).permutation(10)
    X_train, X_test, y_train, y_test = _common.tutorial_split(X, y, test_size=0.35, seed=3)
    assert y_test.tolist() == order[:3].tolist() and y_train.tolist() == order[3:].tolist()   # int(3.5) = 3
    assert np.array_equal(X_test, X[order[:3]]) and np.array_equal(X_train, X[order[3:]])
