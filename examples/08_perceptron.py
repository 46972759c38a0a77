"""Lesson 08 — one neuron learns AND and OR but not XOR.

A thin launcher: the lesson lives in ``pyneuron/lessons/perceptron.py`` so that an
installed pyneuron can run it too (``pyneuron lessons perceptron``). Options:
``--backend scalar|numpy|c``, ``--fast``, ``--out DIR`` (save the figures).
"""
import os
import sys

try:
    from pyneuron.lessons import perceptron
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    from pyneuron.lessons import perceptron

if __name__ == "__main__":
    perceptron.main()
