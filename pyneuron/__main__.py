"""``python -m pyneuron``: the same command line as the ``pyneuron`` script (see :mod:`pyneuron.cli`)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
