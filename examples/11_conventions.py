"""Lesson 11 — same network, different conventions (torch's, the book's, a course's).

A thin launcher: the lesson lives in ``pyneuron/lessons/conventions.py`` so that an
installed pyneuron can run it too (``pyneuron lessons conventions``). Options:
``--backend scalar|numpy|c``, ``--fast``, ``--out DIR`` (save the figures).
"""
import os
import sys

try:
    from pyneuron.lessons import conventions
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    from pyneuron.lessons import conventions

if __name__ == "__main__":
    conventions.main()
