"""Lesson 01 — one neuron by hand, and the activation table.

A thin launcher: the lesson lives in ``pyneuron/lessons/single_neuron.py`` so that an
installed pyneuron can run it too (``pyneuron lessons single_neuron``). Options:
``--backend scalar|numpy|c``, ``--fast``, ``--out DIR`` (save the figures).
"""
import os
import sys

try:
    from pyneuron.lessons import single_neuron
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    from pyneuron.lessons import single_neuron

if __name__ == "__main__":
    single_neuron.main()
