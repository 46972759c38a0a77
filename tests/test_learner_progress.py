"""Live progress: bars while fit runs, epoch lines printed when their epoch ends,
each lesson's opening lines (the tutorials it follows, its expected time)."""
from __future__ import annotations

import importlib
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import lessons, progress
from pyneuron.lessons import _common
from pyneuron.training import Callback

ROOT = Path(__file__).resolve().parents[1]


def moons(n=64):
    return pn.datasets.make_moons(n, noise=0.2, seed=0)


class StdoutAtEpochEnd(Callback):
    """Records what standard output held when each epoch ended (runs after Progress)."""

    def __init__(self, buffer):
        self.buffer, self.seen = buffer, {}

    def on_epoch_end(self, model, epoch, logs=None):
        self.seen[epoch] = self.buffer.getvalue()


def test_epoch_lines_are_printed_when_their_epoch_ends(backend, monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    X, y = moons()
    model = pn.MLP([2, 4, 1], seed=0, backend=backend)
    bar = progress.progress_for(model, 6, desc="t", print_epochs=[2, 5], enabled=False)
    spy = StdoutAtEpochEnd(out)
    model.fit(X, y, epochs=6, batch_size=16, lr=0.1, callbacks=[bar, spy])
    line = lambda e: f"  epoch {e:>5}  loss {model.history['loss'][e - 1]:.4f}"
    assert line(2) not in spy.seen[1]
    assert line(2) in spy.seen[2] and line(5) not in spy.seen[4]
    assert line(5) in spy.seen[5]
    assert out.getvalue().count("epoch") == 2          # only the epochs asked for


def test_the_bar_counts_epochs_and_shows_the_loss(backend):
    bars = io.StringIO()
    X, y = moons()
    model = pn.MLP([2, 4, 1], seed=0, backend=backend)
    model.fit(X, y, epochs=7, batch_size=16, lr=0.1,
              callbacks=[progress.Progress(7, desc="moons here", enabled=True, file=bars, leave=True)])
    text = bars.getvalue()
    assert "moons here" in text and "7/7" in text and "epoch" in text
    assert f"loss={model.history['loss'][-1]:.4f}" in text


def test_a_batch_bar_on_the_scalar_backend_once_an_epoch_is_slow():
    bars = io.StringIO()
    X, y = moons(48)
    model = pn.MLP([2, 4, 1], seed=0, backend="scalar")
    cb = progress.progress_for(model, 3, desc="s", enabled=True, file=bars, batch_after=0.0)
    assert isinstance(cb, progress.BatchProgress)
    model.fit(X, y, epochs=3, batch_size=8, lr=0.1, callbacks=[cb])
    text = bars.getvalue()
    assert "batches" in text and "/6" in text            # 48 samples in batches of 8, counted after epoch 1
    quiet = io.StringIO()                                 # an epoch faster than batch_after: no batch bar
    model.fit(X, y, epochs=2, batch_size=8, lr=0.1,
              callbacks=[progress.progress_for(model, 2, enabled=True, file=quiet, batch_after=3600,
                                               leave=True)])
    assert "batches" not in quiet.getvalue() and "2/2" in quiet.getvalue()


@pytest.mark.parametrize("name", ["numpy", "c"])
def test_fast_backends_get_no_batch_hooks(name):
    """A callback that listens to batches makes fit step batch by batch; only the
    scalar backend (where that is the cost anyway) gets one."""
    from helpers import require_backend
    require_backend(name)
    cb = progress.progress_for(pn.MLP([2, 1], backend=name), 5)
    assert type(cb).on_batch_end is Callback.on_batch_end
    assert type(cb).on_batch_begin is Callback.on_batch_begin


def test_environment_variable_turns_the_bars_off(monkeypatch):
    monkeypatch.setenv("PYNEURON_PROGRESS", "0")
    assert progress.Progress(3).enabled is False
    monkeypatch.setenv("PYNEURON_PROGRESS", "1")
    assert progress.Progress(3).enabled is True
    monkeypatch.delenv("PYNEURON_PROGRESS")
    assert progress.bars_enabled() is True


@pytest.mark.parametrize("kwargs, error, fragment", [
    ({"print_epochs": 3}, TypeError, "print_epochs"),
    ({"batch_after": -1}, ValueError, "batch_after"),
    ({"batch_after": float("nan")}, ValueError, "batch_after"),
    ({"epochs": 0}, ValueError, "epochs"),
    ({"epochs": 2.5}, ValueError, "epochs"),
])
def test_bad_arguments_name_themselves(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        progress.Progress(**kwargs)


def test_a_lesson_prints_its_epoch_lines_as_training_goes(monkeypatch):
    """Lesson 03 prints epochs 1, 1000 and 2000: each is on screen when its epoch
    ends, before the next epoch starts (not all at once after training)."""
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    seen = {}
    original = progress.Progress.on_epoch_end

    def spy(self, model, epoch, logs=None):
        original(self, model, epoch, logs)
        if epoch in (999, 1000, 1001):
            seen[epoch] = out.getvalue()
    monkeypatch.setattr(progress.Progress, "on_epoch_end", spy)
    lessons.run("xor", ["--fast", "--backend", "numpy"])
    assert "epoch  1000" not in seen[999]
    assert "epoch  1000" in seen[1000] and "epoch  2000" not in seen[1001]


# ------------------------------------------------------------------------------ lesson openings
LESSON_MODULES = [importlib.import_module(f"pyneuron.lessons.{name}") for _, name, _ in lessons.LESSONS]


@pytest.mark.parametrize("module", LESSON_MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
@pytest.mark.parametrize("fast", [False, True])
def test_every_lesson_opens_with_its_tutorials_and_expected_times(module, fast, capsys):
    argv = ["--backend", "numpy"] + (["--fast"] if fast else [])
    _common.parse(_common.parser(module.__doc__), argv, module.__name__)
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("Lesson ")
    timing = [line for line in out.splitlines() if "expected time" in line]
    assert len(timing) == 1
    for name in ("scalar", "numpy", "c"):
        assert any(f"{name} {word} " in timing[0] for word in ("about", "over", "under"))
    assert "← this run" in timing[0] and timing[0].index("numpy") < timing[0].index("← this run")
    assert ("--fast" in timing[0]) is fast
    for number in _common.cited_seeds(module.__doc__):
        assert f"seed {number}: " in out                  # what the tutorial is, not just its number


def test_every_seed_a_lesson_cites_is_explained():
    cited = {n for m in LESSON_MODULES for n in _common.cited_seeds(m.__doc__)}
    assert cited and cited <= set(_common.SEEDS)


@pytest.mark.parametrize("text, seeds", [
    ("seed 003's data", ["003"]),
    ("(seeds 001 and 004): x", ["001", "004"]),
    ("Seed 000, then seed 002 and seed 000 again", ["000", "002"]),
    ("no tutorial here; the seed 42 is a random seed", []),
])
def test_cited_seeds(text, seeds):
    assert _common.cited_seeds(text) == seeds


def test_expected_time_lines():
    saved = dict(lessons.EXPECTED_SECONDS)
    try:
        lessons.EXPECTED_SECONDS["xor"] = {"full": {"scalar": 130.0, "numpy": 0.4, "c": 12.2}}
        line = lessons.expected_time("03", fast=False, backend="c")
        assert "scalar about 2 min" in line and "numpy under 1 s" in line and "c about 12 s ← this run" in line
        assert lessons.expected_time("xor", fast=True) == ""       # not measured: nothing claimed
        lessons.EXPECTED_SECONDS["xor"]["fast"] = {"scalar": ">300", "numpy": 2.0}
        line = lessons.expected_time("xor", fast=True, backend="numpy")
        assert "scalar over 5 min" in line and "numpy about 2 s ← this run" in line and " c " not in line
    finally:
        lessons.EXPECTED_SECONDS.clear()
        lessons.EXPECTED_SECONDS.update(saved)


# ------------------------------------------------------------------------------ the command line
def test_demo_and_train_show_bars_while_they_train():
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("PYNEURON_PROGRESS", None)
    env.pop("PYNEURON_BACKEND", None)
    for args, desc in ((["demo", "--backend", "numpy", "--epochs", "3", "--samples", "60"], "numpy"),
                       (["train", "--epochs", "3", "--samples", "60", "--print-every", "1"], "moons")):
        done = subprocess.run([sys.executable, "-m", "pyneuron.cli", *args], capture_output=True, text=True,
                              cwd=ROOT, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        assert f"{desc}:" in done.stderr and "/3 [" in done.stderr and "epoch/s" in done.stderr
        assert "Traceback" not in done.stderr
    assert "epoch     3/3" in done.stdout
    env["PYNEURON_PROGRESS"] = "0"
    done = subprocess.run([sys.executable, "-m", "pyneuron.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)
    assert done.returncode == 0 and done.stderr == "" and "epoch     3/3" in done.stdout


def test_the_readme_table_is_the_stored_times():
    """The README's table of lesson times is printed from EXPECTED_SECONDS, so the two agree."""
    from pyneuron.lessons.timing import markdown_table
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme
    table = markdown_table({"xor": {"full": {"scalar": 130.0, "c": 0.3}, "fast": {"numpy": ">300"}}})
    row = next(line for line in table.splitlines() if line.startswith("| 03 xor"))
    assert row == "| 03 xor | about 2 min | — | under 1 s | — | over 5 min | — |".replace("about ", "")
