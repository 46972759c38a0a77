"""pyneuron.lessons (the registry) beyond test_examples and test_learner_progress: what the
mutation run (.ci/mutation.py pyneuron/lessons/__init__.py, issue 15 item 10) showed
untested — how a stored time is worded at each boundary of ``_duration`` (under/about
1 s, seconds up to 90, minutes from 90; a stopped run in seconds or minutes), and that
``load`` and ``run`` reach the lesson ``find`` names."""
from __future__ import annotations

import importlib

import pytest

from pyneuron import lessons


# The wording, worked by hand from the rule in the docstring: under 1 s; 1 to 1.5 s is "about
# 1 s"; then whole seconds (round half to even, as format's .0f does) below 90 s; from 90 s,
# minutes (seconds / 60, rounded). A run stopped at S CPU seconds is "over": in minutes from 90.
@pytest.mark.parametrize("seconds, words", [
    (0.0, "under 1 s"), (0.99, "under 1 s"), (1.0, "about 1 s"), (1.49, "about 1 s"),
    (1.5, "about 2 s"), (12.3, "about 12 s"), (89.4, "about 89 s"),
    (89.9, "about 90 s"),            # still seconds: below the 90 s boundary
    (90.0, "about 2 min"),           # 90 / 60 = 1.5 -> 2 (a divisor of 61 would give 1)
    (120.0, "about 2 min"), (375.0, "about 6 min"),
    (">60", "over 60 s"), (">89", "over 89 s"),
    (">90", "over 2 min"),           # 90 s is already minutes: 1.5 -> 2
    (">300", "over 5 min"), (">600", "over 10 min"),
])
def test_duration_words(seconds, words):
    assert lessons._duration(seconds) == words


def test_expected_time_full_and_fast_lines(monkeypatch):
    monkeypatch.setitem(lessons.EXPECTED_SECONDS, "xor", {"full": {"scalar": 90.0, "numpy": 89.9, "c": ">90"},
                                                          "fast": {"c": 0.5}})
    assert lessons.expected_time("xor", False) == ("  expected time (CPU time on one core): "
                                                   "scalar about 2 min, numpy about 90 s, c over 2 min")
    assert lessons.expected_time("3", True, "c") == ("  expected time with --fast (CPU time on one core): "
                                                     "c under 1 s ← this run")
    assert lessons.expected_time("03_xor", True, "numpy") == ("  expected time with --fast (CPU time on one "
                                                              "core): c under 1 s")


def test_expected_time_of_an_unmeasured_lesson_is_empty(monkeypatch):
    monkeypatch.delitem(lessons.EXPECTED_SECONDS, "xor")
    assert lessons.expected_time("xor", False, "numpy") == "" and lessons.expected_time("xor", True) == ""


@pytest.mark.parametrize("key", ["xor", "3", "03", "03_xor", "03_xor.py", " XOR ", 3])
def test_find_by_name_number_or_file(key):
    assert lessons.find(key) == ("03", "xor", "a hidden layer solves XOR")


def test_find_names_every_lesson_when_refusing():
    with pytest.raises(ValueError, match=r"no lesson called 'nonsense'; choose one of 01_single_neuron, "
                                         r"02_hand_calculations, .*, 13_graduating$"):
        lessons.find("nonsense")


def test_the_registry_is_in_order_and_names_modules():
    assert [number for number, _, _ in lessons.LESSONS] == [f"{i:02d}" for i in range(1, 14)]
    assert set(lessons.EXPECTED_SECONDS) == {name for _, name, _ in lessons.LESSONS}


@pytest.mark.parametrize("key", ["8", "perceptron", "08_perceptron.py"])
def test_load_returns_the_lessons_module(key):
    assert lessons.load(key) is importlib.import_module("pyneuron.lessons.perceptron")


def test_run_calls_the_lessons_main_with_argv(monkeypatch):
    module = importlib.import_module("pyneuron.lessons.perceptron")
    seen = []
    monkeypatch.setattr(module, "main", lambda argv=None: seen.append(argv) or {"ran": True})
    assert lessons.run("08", ["--fast"]) == {"ran": True}
    assert lessons.run("perceptron") == {"ran": True}
    assert seen == [["--fast"], None]
