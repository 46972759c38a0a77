"""Formulas typeset without network: MathJax 2, as the jupyter-server-mathjax package ships it
(a docs extra), is copied into the built site, and the pages load it from there. Sphinx's
default loads MathJax from a CDN, so a page opened offline would show raw TeX.

``conf.py`` sets ``mathjax_path = MATHJAX_PATH`` and ``mathjax2_config = MATHJAX2_CONFIG``
and connects :func:`copy_mathjax` to ``build-finished``."""
from __future__ import annotations

import os
import shutil

#: Where the pages load MathJax from, relative to the site's ``_static`` folder, with the
#: one combined configuration the package ships.
MATHJAX_PATH = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
#: The package ships the STIX-Web fonts only: tell MathJax not to look for others.
MATHJAX2_CONFIG = {"HTML-CSS": {"availableFonts": [], "webFont": "STIX-Web", "imageFont": None},
                   "showMathMenu": False, "messageStyle": "none"}


def mathjax_folder() -> str:
    """The folder of MathJax's files inside the installed jupyter-server-mathjax package.

    Raises ImportError saying how to install it."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise ImportError('the docs need jupyter-server-mathjax for their formulas: pip install ".[docs]"') from None
    return os.path.join(os.path.dirname(jupyter_server_mathjax.__file__), "static")


def copy_mathjax(app, exception) -> None:
    """Sphinx ``build-finished`` handler: an HTML build that succeeded gets MathJax at
    ``_static/`` + the folder of :data:`MATHJAX_PATH`; other builders get nothing."""
    if exception is None and app.builder.format == "html":
        target = os.path.join(app.outdir, "_static", MATHJAX_PATH.split("/", 1)[0])
        shutil.copytree(mathjax_folder(), target, dirs_exist_ok=True)
