"""Lesson 13 — graduating to PyTorch: to_torch, DistributedDataParallel over two processes, from_torch.

A thin launcher: the lesson lives in ``pyneuron/lessons/graduating.py`` so that an
installed pyneuron can run it too (``pyneuron lessons graduating``). Options:
``--backend scalar|numpy|c`` (the reference engine), ``--fast``, ``--out DIR``.
"""
import os
import sys

try:
    from pyneuron.lessons import graduating
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    from pyneuron.lessons import graduating

if __name__ == "__main__":
    graduating.main()
