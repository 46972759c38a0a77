"""Lesson 02 — forward and backward passes worked with real numbers (explain).

A thin launcher: the lesson lives in ``pyneuron/lessons/hand_calculations.py`` so that an
installed pyneuron can run it too (``pyneuron lessons hand_calculations``). Options:
``--backend scalar|numpy|c``, ``--fast``, ``--out DIR`` (save the figures).
"""
import os
import sys

try:
    from pyneuron.lessons import hand_calculations
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    from pyneuron.lessons import hand_calculations

if __name__ == "__main__":
    hand_calculations.main()
