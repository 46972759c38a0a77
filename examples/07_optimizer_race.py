"""Lesson 07 — SGD, momentum and Adam on x² + 3y².

A thin launcher: the lesson lives in ``pyneuron/lessons/optimizer_race.py`` so that an
installed pyneuron can run it too (``pyneuron lessons optimizer_race``). Options:
``--backend scalar|numpy|c``, ``--fast``, ``--out DIR`` (save the figures).
"""
import os
import sys

try:
    from pyneuron.lessons import optimizer_race
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    from pyneuron.lessons import optimizer_race

if __name__ == "__main__":
    optimizer_race.main()
