"""Lesson 09 — deep sigmoid vs ReLU: gradient norms layer by layer.

A thin launcher: the lesson lives in ``pyneuron/lessons/vanishing_gradients.py`` so that an
installed pyneuron can run it too (``pyneuron lessons vanishing_gradients``). Options:
``--backend scalar|numpy|c``, ``--fast``, ``--out DIR`` (save the figures).
"""
import os
import sys

try:
    from pyneuron.lessons import vanishing_gradients
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    from pyneuron.lessons import vanishing_gradients

if __name__ == "__main__":
    vanishing_gradients.main()
