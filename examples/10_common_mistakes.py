"""Lesson 10 — unscaled inputs, and MSE where cross-entropy belongs.

A thin launcher: the lesson lives in ``pyneuron/lessons/common_mistakes.py`` so that an
installed pyneuron can run it too (``pyneuron lessons common_mistakes``). Options:
``--backend scalar|numpy|c``, ``--fast``, ``--out DIR`` (save the figures).
"""
import os
import sys

try:
    from pyneuron.lessons import common_mistakes
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    from pyneuron.lessons import common_mistakes

if __name__ == "__main__":
    common_mistakes.main()
