"""Lesson 12 — write your own engine: two kernels, the conformance kit, the localizer.

A thin launcher: the lesson lives in ``pyneuron/lessons/own_engine.py`` so that an
installed pyneuron can run it too (``pyneuron lessons own_engine``). Options:
``--backend scalar|numpy|c`` (the reference engine), ``--fast``, ``--out DIR``.
"""
import os
import sys

try:
    from pyneuron.lessons import own_engine
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    from pyneuron.lessons import own_engine

if __name__ == "__main__":
    own_engine.main()
