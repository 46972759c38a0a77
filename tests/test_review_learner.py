"""Review of the learner-facing parts: lessons, CLI, explain, plots, interop."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, timeout=120):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "pyneuron.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=timeout)


def assert_refused_before_the_run(done, fragment):
    """Exit ≠ 0, one error line naming the option, no traceback, nothing run."""
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1, done.stderr
    assert fragment in errors[0], f"expected {fragment!r} in: {errors[0]}"
    assert done.stdout == "", f"the run started before the error:\n{done.stdout}"


@pytest.mark.parametrize("args, fragment", [
    (["--print-every", "0"], "--print-every"),
    (["--l2", "-1"], "l2"),
])
def test_train_refuses_bad_option_before_training(args, fragment):
    assert_refused_before_the_run(cli("train", "--epochs", "2", *args), fragment)


@pytest.mark.parametrize("args, fragment", [
    (["--sizes", "0"], "--sizes"),
    (["--sizes", "64,x"], "--sizes"),
    (["--repeats", "0"], "--repeats"),
])
def test_bench_refuses_bad_option_with_one_line(args, fragment):
    assert_refused_before_the_run(cli("bench", *args), fragment)


def test_01_note_on_the_tutorials_negative_zero(backend, capsys):
    """Seed 004's table prints relu(−3) and relu(−1) as −0.0; its own code
    (np.maximum(0, z) on integers) prints 0.0, so the note must name both rows
    and not call it the code's doing."""
    from pyneuron import lessons
    result = lessons.run("single_neuron", ["--fast", "--backend", backend])
    assert result["table"]["relu"][0][:2] == [0.0, 0.0]
    notes = [line for line in capsys.readouterr().out.splitlines() if "−0.0" in line]
    assert len(notes) == 1, notes
    assert "relu(−3)" in notes[0] and "relu(−1)" in notes[0], notes[0]
