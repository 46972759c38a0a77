"""Lesson 04 — two moons: training, then architecture and learning-rate experiments.

A thin launcher: the lesson lives in ``pyneuron/lessons/moons.py`` so that an
installed pyneuron can run it too (``pyneuron lessons moons``). Options:
``--backend scalar|numpy|c``, ``--fast``, ``--out DIR`` (save the figures).
"""
import os
import sys

try:
    from pyneuron.lessons import moons
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    from pyneuron.lessons import moons

if __name__ == "__main__":
    moons.main()
