"""pyneuron's version: the installed distribution's, else the source tree's.

The import name is ``pyneuron``, the distribution name ``pyneuron-mlp`` ("pyneuron" on the
package index is an unrelated project, so its metadata is never consulted). A checkout run
without being installed (or installed before the rename) has no ``pyneuron-mlp`` metadata and
reports :data:`SOURCE_VERSION`, which must equal ``pyproject.toml``'s ``version`` (a test checks).
"""
from __future__ import annotations

from importlib import metadata

#: The distribution this package is installed as (``pip install pyneuron-mlp`` / ``pip install .``).
DISTRIBUTION = "pyneuron-mlp"
#: The version written in this source tree (``pyproject.toml``'s ``[project] version``).
SOURCE_VERSION = "0.1.0"


def version() -> str:
    """The installed ``pyneuron-mlp`` version, or :data:`SOURCE_VERSION` when it is not installed."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return SOURCE_VERSION
