"""Lesson 05 — optimizers compared, early stopping, the complete pipeline.

A thin launcher: the lesson lives in ``pyneuron/lessons/training_toolkit.py`` so that an
installed pyneuron can run it too (``pyneuron lessons training_toolkit``). Options:
``--backend scalar|numpy|c``, ``--fast``, ``--out DIR`` (save the figures).
"""
import os
import sys

try:
    from pyneuron.lessons import training_toolkit
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    from pyneuron.lessons import training_toolkit

if __name__ == "__main__":
    training_toolkit.main()
