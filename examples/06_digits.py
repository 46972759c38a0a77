"""Lesson 06 — 8×8 digits with softmax; precision, recall and F1.

A thin launcher: the lesson lives in ``pyneuron/lessons/digits.py`` so that an
installed pyneuron can run it too (``pyneuron lessons digits``). Options:
``--backend scalar|numpy|c``, ``--fast``, ``--out DIR`` (save the figures).
"""
import os
import sys

try:
    from pyneuron.lessons import digits
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    from pyneuron.lessons import digits

if __name__ == "__main__":
    digits.main()
