"""Lesson 03 — a hidden layer solves XOR.

A thin launcher: the lesson lives in ``pyneuron/lessons/xor.py`` so that an
installed pyneuron can run it too (``pyneuron lessons xor``). Options:
``--backend scalar|numpy|c``, ``--fast``, ``--out DIR`` (save the figures).
"""
import os
import sys

try:
    from pyneuron.lessons import xor
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    from pyneuron.lessons import xor

if __name__ == "__main__":
    xor.main()
